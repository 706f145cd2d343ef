"""Two-step sign-in: enrol with a code, the second step after the password, recovery codes, the
company setting, the lockout on wrong codes, and the secret kept out of logs and audit rows."""

from __future__ import annotations

import logging

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from accounts.staff.models import MembershipEvent
from tests.accounts.otp_helpers import code_for, install_clock, wrong_code_for
from tests.conftest import PASSWORD

IP = "10.0.0.7"


@pytest.fixture
def clock(monkeypatch):
    return install_clock(monkeypatch)


@pytest.fixture
def no_throttle(settings):
    """django-otp's per-device delay (1 s, 2 s, 4 s… after a failure) off, for tests that type
    a right code just after a wrong one; the lockout tests keep it."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def enrol(client: Client, user, clock) -> tuple[TOTPDevice, list[str]]:
    """Run the enrolment pages; returns the confirmed device and the recovery codes shown."""
    page = client.get("/account/two-step/enrol/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    done = client.post("/account/two-step/enrol/", {"code": code_for(device, clock.now)})
    assert done.status_code == 200, done.content
    assert b"Your recovery codes" in done.content
    device.refresh_from_db()
    assert device.confirmed
    codes = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    return device, codes


def password_step(client: Client, email: str, password: str = PASSWORD):
    return client.post("/login/", {"username": email, "password": password}, REMOTE_ADDR=IP)


def code_step(client: Client, code: str):
    return client.post("/login/code/", {"code": code}, REMOTE_ADDR=IP)


@pytest.fixture
def enrolled(world, clock):
    """The billing clerk with a confirmed authenticator; returns the device and recovery codes."""
    device, codes = enrol(world.client_for(world.billing), world.billing, clock)
    clock.step()
    return device, codes


def test_the_enrol_page_shows_the_secret_as_inline_svg_qr_and_text(world, clock):
    page = world.client_for(world.tech).get("/account/two-step/enrol/")
    device = TOTPDevice.objects.get(user=world.tech)
    html = page.content.decode()
    assert "<svg" in html and "<img" not in html and "http" not in html.split("<svg", 1)[1][:200]
    assert mfa.secret_text(device) in html
    assert not device.confirmed


def test_a_wrong_enrolment_code_keeps_the_same_secret_and_confirms_nothing(world, clock):
    client = world.client_for(world.tech)
    client.get("/account/two-step/enrol/")
    device = TOTPDevice.objects.get(user=world.tech)
    response = client.post("/account/two-step/enrol/", {"code": wrong_code_for(device, clock.now)})
    assert b"does not match" in response.content
    assert mfa.secret_text(device).encode() in response.content
    assert TOTPDevice.objects.get(user=world.tech).pk == device.pk
    assert not TOTPDevice.objects.filter(user=world.tech, confirmed=True).exists()


def test_enrolling_confirms_the_device_makes_ten_recovery_codes_and_audits(world, clock):
    device, codes = enrol(world.client_for(world.tech), world.tech, clock)
    assert len(codes) == 10 and len(set(codes)) == 10
    event = MembershipEvent.objects.get(action="mfa_enrolled")
    assert event.subject == "tech@demo.test" and event.tenant == world.tenant
    assert b"Set up" not in world.client_for(world.tech).get("/account/two-step/").content


def test_after_the_password_a_person_with_an_authenticator_is_not_signed_in_yet(world, enrolled):
    client = Client()
    response = password_step(client, "billing@demo.test")
    assert response.status_code == 302 and response["Location"] == "/login/code/"
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302  # still anonymous
    page = client.get("/login/code/")
    assert b"Enter your code" in page.content and b"billing@demo.test" in page.content


def test_the_right_code_completes_the_sign_in(world, enrolled, clock):
    device, _ = enrolled
    client = Client()
    password_step(client, "billing@demo.test")
    response = code_step(client, code_for(device, clock.now))
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(world.billing.pk)
    assert client.get("/").status_code == 200


def test_a_code_is_accepted_once(world, enrolled, clock, no_throttle):
    device, _ = enrolled
    code = code_for(device, clock.now)
    first = Client()
    password_step(first, "billing@demo.test")
    assert code_step(first, code).status_code == 302
    replay = Client()
    password_step(replay, "billing@demo.test")
    response = code_step(replay, code)
    assert response.status_code == 200 and b"not right" in response.content
    assert "_auth_user_id" not in replay.session


def test_a_recovery_code_signs_in_once(world, enrolled, no_throttle):
    _, codes = enrolled
    client = Client()
    password_step(client, "billing@demo.test")
    assert code_step(client, codes[0].upper()[:4] + " " + codes[0][4:]).status_code == 302
    again = Client()
    password_step(again, "billing@demo.test")
    assert code_step(again, codes[0]).status_code == 200
    assert mfa.recovery_codes_left(world.billing) == 9


def test_regenerating_recovery_codes_replaces_them(world, enrolled, clock):
    device, old_codes = enrolled
    client = Client()
    password_step(client, "billing@demo.test")
    code_step(client, code_for(device, clock.now))
    page = client.post("/account/two-step/recovery-codes/")
    new_codes = set(
        StaticToken.objects.filter(device__user=world.billing).values_list("token", flat=True)
    )
    assert len(new_codes) == 10 and not new_codes & set(old_codes)
    assert all(c.encode() in page.content for c in new_codes)
    assert MembershipEvent.objects.filter(action="mfa_codes_regenerated").exists()


def test_an_unverified_session_cannot_change_the_second_factor(world, enrolled):
    client = world.client_for(world.billing)  # signed in without the code
    assert client.post("/account/two-step/recovery-codes/")["Location"] == "/login/code/"
    assert client.get("/account/two-step/enrol/")["Location"] == "/login/code/"
    assert TOTPDevice.objects.filter(user=world.billing).count() == 1


def test_the_code_step_expires_after_five_minutes(world, enrolled, clock, settings):
    device, _ = enrolled
    client = Client()
    password_step(client, "billing@demo.test")
    settings.MFA_PENDING_SECONDS = -1
    response = code_step(client, code_for(device, clock.now))
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session


def test_the_code_page_without_a_password_first_sends_to_sign_in(db):
    response = Client().post("/login/code/", {"code": "123456"})
    assert response.status_code == 302 and response["Location"] == "/login/"


# --- the lockout applies to the second factor ------------------------------------------------


def test_five_wrong_codes_lock_the_address_like_five_wrong_passwords(world, enrolled, clock):
    device, _ = enrolled
    client = Client()
    password_step(client, "billing@demo.test")
    for attempt in range(4):
        response = code_step(client, wrong_code_for(device, clock.now))
        assert response.status_code == 200, attempt
    fifth = code_step(client, wrong_code_for(device, clock.now))
    assert fifth.status_code == 429 and b"Too many failed sign-ins" in fifth.content
    assert AccessAttempt.objects.get(username="billing@demo.test").failures_since_start == 5
    # locked: neither the password step nor the right code gets in, from a fresh session too
    fresh = Client()
    assert password_step(fresh, "billing@demo.test").status_code == 429
    assert code_step(client, code_for(device, clock.now)).status_code == 302  # back to sign-in
    assert code_step(fresh, code_for(device, clock.now)).status_code == 302
    assert "_auth_user_id" not in client.session and "_auth_user_id" not in fresh.session


def test_wrong_passwords_and_wrong_codes_add_up(world, enrolled, clock):
    device, _ = enrolled
    for _ in range(3):
        password_step(Client(), "billing@demo.test", "wrong-password")
    client = Client()
    assert password_step(client, "billing@demo.test").status_code == 302
    code_step(client, wrong_code_for(device, clock.now))
    assert code_step(client, wrong_code_for(device, clock.now)).status_code == 429


def test_the_codes_never_reach_the_attempt_log(world, enrolled, clock):
    device, _ = enrolled
    client = Client()
    password_step(client, "billing@demo.test")
    wrong = wrong_code_for(device, clock.now)
    code_step(client, wrong)
    attempt = AccessAttempt.objects.get(username="billing@demo.test")
    assert wrong not in attempt.post_data and "code=" in attempt.post_data


# --- the company setting -----------------------------------------------------------------------


def test_the_owner_turns_the_requirement_on_in_the_company_settings(world):
    client = world.client_for(world.owner)
    data = {
        "name": "Demo Field Services",
        "billing_attribution": "drafter",
        "invoice_mode": "per_draft",
        "currency": "USD",
        "overtime_hours_per_week": "40",
        "require_mfa": "on",
    }
    assert client.post("/company/", data).status_code == 302
    world.tenant.refresh_from_db()
    assert world.tenant.require_mfa


@pytest.mark.parametrize("who", ["owner", "billing"])
def test_when_required_an_approver_without_a_device_is_sent_to_enrol_after_the_password(world, who):
    world.tenant.require_mfa = True
    world.tenant.save()
    client = Client()
    user = getattr(world, who)
    assert password_step(client, user.email).status_code == 302
    for path in ("/", "/tickets/", "/company/staff/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/account/two-step/enrol/"
    assert client.get("/account/two-step/enrol/").status_code == 200


def test_when_required_an_htmx_request_gets_a_client_redirect(world):
    world.tenant.require_mfa = True
    world.tenant.save()
    response = world.client_for(world.billing).get("/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == "/account/two-step/enrol/"


@pytest.mark.parametrize("who", ["dispatcher", "tech"])
def test_the_requirement_does_not_apply_to_dispatchers_and_technicians(world, who):
    world.tenant.require_mfa = True
    world.tenant.save()
    assert world.client_for(getattr(world, who)).get("/").status_code == 200


def test_when_required_a_session_without_the_code_must_enter_it(world, enrolled, clock):
    world.tenant.require_mfa = True
    world.tenant.save()
    device, _ = enrolled
    client = world.client_for(world.billing)  # e.g. signed in before the owner required it
    assert client.get("/")["Location"] == "/login/code/"
    assert code_step(client, code_for(device, clock.now)).status_code == 302
    assert client.get("/").status_code == 200


def test_after_enrolling_the_required_member_reaches_the_portal(world, clock):
    world.tenant.require_mfa = True
    world.tenant.save()
    client = Client()
    password_step(client, "owner@demo.test")
    enrol(client, world.owner, clock)
    assert client.get("/").status_code == 200


def test_when_required_it_cannot_be_turned_off(world, enrolled, clock):
    device, _ = enrolled
    world.tenant.require_mfa = True
    world.tenant.save()
    client = Client()
    password_step(client, "billing@demo.test")
    code_step(client, code_for(device, clock.now))
    client.post("/account/two-step/off/", {"password": PASSWORD})
    assert TOTPDevice.objects.filter(user=world.billing).exists()


def test_turning_it_off_needs_the_password_and_is_audited(world, enrolled, clock, no_throttle):
    device, _ = enrolled
    client = Client()
    password_step(client, "billing@demo.test")
    code_step(client, code_for(device, clock.now))
    client.post("/account/two-step/off/", {"password": "wrong"})
    assert TOTPDevice.objects.filter(user=world.billing).exists()
    client.post("/account/two-step/off/", {"password": PASSWORD})
    assert not TOTPDevice.objects.filter(user=world.billing).exists()
    assert MembershipEvent.objects.filter(action="mfa_disabled").exists()
    assert password_step(Client(), "billing@demo.test").status_code == 302


def test_an_owner_resets_a_members_lost_authenticator(world, enrolled):
    from accounts.models import Membership

    member = Membership.objects.get(user=world.billing, tenant=world.tenant)
    world.client_for(world.owner).post(f"/company/staff/members/{member.uuid}/reset-mfa/")
    assert not TOTPDevice.objects.filter(user=world.billing).exists()
    assert mfa.recovery_codes_left(world.billing) == 0
    event = MembershipEvent.objects.get(action="mfa_reset")
    assert event.actor == world.owner and event.subject == "billing@demo.test"


# --- the secret stays out of logs and audit rows ------------------------------------------------


def test_the_totp_secret_is_never_logged_nor_audited(world, clock, caplog):
    caplog.set_level(logging.DEBUG)
    client = world.client_for(world.tech)
    client.get("/account/two-step/enrol/")
    device = TOTPDevice.objects.get(user=world.tech)
    secret = mfa.secret_text(device).replace(" ", "")
    logging.getLogger("fieldline.test").warning("leak attempt %s / %s", secret, device.key)
    client.post("/account/two-step/enrol/", {"code": code_for(device, clock.now)})
    assert secret not in caplog.text and device.key not in caplog.text
    assert "[redacted]" in caplog.text
    for row in MembershipEvent.objects.values_list("detail", "subject"):
        assert all(secret not in v and device.key not in v for v in row)


def test_the_admin_sign_in_page_sends_to_the_portal_sign_in_so_the_code_is_not_skipped(
    world, enrolled
):
    client = Client()
    assert client.get("/admin/login/?next=/admin/")["Location"] == "/login/?next=/admin/"
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "billing@demo.test", "password": PASSWORD}
    )
    assert response.status_code == 302 and "_auth_user_id" not in client.session
    password_step(client, "billing@demo.test")
    assert "_auth_user_id" not in client.session


def test_a_signed_in_person_without_an_authenticator_is_sent_home_from_the_code_page(world):
    client = world.client_for(world.tech)
    assert client.post("/login/code/", {"code": "000000"})["Location"] == "/"
    assert not AccessAttempt.objects.exists()


def test_a_required_member_may_still_switch_to_another_company(world):
    from accounts.models import Membership, Role

    Membership.objects.create(user=world.billing, tenant=world.other_tenant, role=Role.TECHNICIAN)
    world.tenant.require_mfa = True
    world.tenant.save()
    client = world.client_for(world.billing)
    client.get("/")  # the demo company is the active one
    response = client.post(f"/companies/{world.other_tenant.uuid}/switch/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200  # Other Co does not require it of a technician


@pytest.mark.parametrize(
    "junk", ["", "x" * 100, "12\x0034", "١٢٣٤٥٦", "'; DROP TABLE otp;--", "🙂🙂🙂", "  "]
)
def test_junk_codes_are_refused_with_a_message_never_a_500(world, enrolled, junk, no_throttle):
    client = Client()
    password_step(client, "billing@demo.test")
    response = code_step(client, junk)
    assert response.status_code == 200
    assert b"error" in response.content
    assert "_auth_user_id" not in client.session
    enrol_client = world.client_for(world.tech)
    enrol_client.get("/account/two-step/enrol/")
    assert enrol_client.post("/account/two-step/enrol/", {"code": junk}).status_code == 200


def test_an_owner_cannot_reset_their_own_two_step_from_the_staff_list(world, clock):
    from accounts.models import Membership

    client = world.client_for(world.owner)
    enrol(client, world.owner, clock)
    me = Membership.objects.get(user=world.owner, tenant=world.tenant)
    client.post(f"/company/staff/members/{me.uuid}/reset-mfa/")
    assert TOTPDevice.objects.filter(user=world.owner, confirmed=True).exists()
