"""Issue 12 acceptance: invite -> set password -> sign in with TOTP -> lockout after 5 wrong codes.

Everything goes through the pages (the Django test client); the codes are computed here from the
device's key with django_otp.oath on a clock the test moves; the e-mail is Django's outbox.
"""

from __future__ import annotations

import re

from axes.models import AccessAttempt
from django.core import mail
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership, Role, User
from accounts.staff.models import MembershipEvent
from tests.accounts.otp_helpers import code_for, install_clock, wrong_code_for

IP = "192.0.2.10"
PASSWORD = "nora-sets-this-passphrase-9"


def _post(client: Client, path: str, data: dict):
    return client.post(path, data, REMOTE_ADDR=IP)


def test_invite_set_password_sign_in_with_totp_then_lockout_after_five_wrong_codes(
    world, monkeypatch
):
    clock = install_clock(monkeypatch)
    # 1. The owner invites Nora as billing (an approver role).
    owner = world.client_for(world.owner)
    response = owner.post("/company/staff/invite/", {"email": "Nora@Demo.test", "role": "billing"})
    assert response.status_code == 302
    assert b"Invitation sent to nora@demo.test" in owner.get("/company/staff/").content
    (message,) = mail.outbox
    assert message.to == ["nora@demo.test"]
    link = re.search(r"http://testserver(/invite/\S+/)", message.body).group(1)
    world.tenant.require_mfa = True  # from now on approvers must use a code
    world.tenant.save()

    # 2. Nora opens the link and sets her password; she is a billing member now.
    nora = Client()
    assert b"Join Demo Field Services" in nora.get(link).content
    response = _post(
        nora,
        link,
        {"first_name": "Nora", "last_name": "N", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == "/login/"
    user = User.objects.get(email="nora@demo.test")
    assert Membership.objects.get(user=user, tenant=world.tenant).role == Role.BILLING
    assert nora.get(link).status_code == 410  # the link worked once

    # 3. First sign-in: the company requires a second factor and she has none -> enrolment.
    response = _post(nora, "/login/", {"username": "nora@demo.test", "password": PASSWORD})
    assert response.status_code == 302
    assert nora.get("/")["Location"] == "/account/two-step/enrol/"
    enrol_page = nora.get("/account/two-step/enrol/")
    assert b"<svg" in enrol_page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    done = nora.post("/account/two-step/enrol/", {"code": code_for(device, clock.now)})
    assert b"Your recovery codes" in done.content
    assert nora.get("/").status_code == 200
    nora.post("/logout/")

    # 4. Next sign-in: password, then the code of the next 30-second step.
    clock.step()
    device.refresh_from_db()
    response = _post(nora, "/login/", {"username": "nora@demo.test", "password": PASSWORD})
    assert response["Location"] == "/login/code/"
    assert nora.get("/").status_code == 302  # not signed in between the two steps
    response = _post(nora, "/login/code/", {"code": code_for(device, clock.now)})
    assert response.status_code == 302 and response["Location"] == "/"
    home = nora.get("/")
    assert home.status_code == 200 and b"Demo Field Services" in home.content
    nora.post("/logout/")

    # 5. Someone with her password but not her phone: 5 wrong codes lock the address.
    clock.step()
    attacker = Client()
    _post(attacker, "/login/", {"username": "nora@demo.test", "password": PASSWORD})
    statuses = [
        _post(attacker, "/login/code/", {"code": wrong_code_for(device, clock.now)}).status_code
        for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]
    assert AccessAttempt.objects.get(username="nora@demo.test").failures_since_start == 5
    # ...and now even the right password and the right code do not get in from that address.
    again = Client()
    locked = _post(again, "/login/", {"username": "nora@demo.test", "password": PASSWORD})
    assert locked.status_code == 429 and b"Too many failed sign-ins" in locked.content
    assert "_auth_user_id" not in again.session and "_auth_user_id" not in attacker.session

    # Every staff change is on the record, without a secret.
    actions = set(
        MembershipEvent.objects.filter(tenant=world.tenant).values_list("action", flat=True)
    )
    assert {"invited", "joined", "mfa_enrolled"} <= actions
    details = " ".join(MembershipEvent.objects.values_list("detail", flat=True))
    assert device.key not in details and PASSWORD not in details
