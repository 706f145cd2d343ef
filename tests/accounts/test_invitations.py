"""Invitations: the signed link works once, for its life, for its company; every other link gets
a clear page (never a 500); existing accounts join by signing in."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, Role, User
from accounts.staff import invitations
from accounts.staff.models import Invitation, MembershipEvent
from tests.conftest import PASSWORD

NEW_PASSWORD = "a-brand-new-passphrase-42"


def _invite(client: Client, email: str = "new.person@demo.test", role: str = "billing"):
    return client.post("/company/staff/invite/", {"email": email, "role": role})


def _link_from_mail(message) -> str:
    return re.search(r"https?://\S+/invite/\S+/", message.body).group(0)


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def _set_password(client: Client, path: str, password: str = NEW_PASSWORD, **extra):
    data = {"first_name": "Nora", "last_name": "New", "password1": password, "password2": password}
    return client.post(path, {**data, **extra})


@pytest.fixture
def invited(world):
    """The owner invites new.person@demo.test as billing; returns (invitation, path of the link)."""
    response = _invite(world.client_for(world.owner))
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    return Invitation.objects.get(email="new.person@demo.test"), _path(
        _link_from_mail(mail.outbox[0])
    )


def test_an_invitation_e_mails_a_link_to_the_address_with_company_role_and_life(world, invited):
    invitation, path = invited
    message = mail.outbox[0]
    assert message.to == ["new.person@demo.test"]
    assert "Demo Field Services" in message.subject
    assert "as billing" in message.body and "72 hours" in message.body
    assert invitation.role == Role.BILLING and invitation.invited_by == world.owner
    assert invitation.status == "pending"
    event = MembershipEvent.objects.get(action="invited")
    assert (event.subject, event.actor, event.tenant) == (
        "new.person@demo.test",
        world.owner,
        world.tenant,
    )
    assert path.split("/")[2] not in event.detail


def test_the_link_sets_a_password_and_makes_an_active_member_with_the_role(world, invited):
    invitation, path = invited
    page = Client().get(path)
    assert page.status_code == 200
    assert b"Join Demo Field Services" in page.content
    response = _set_password(Client(), path)
    assert response.status_code == 302 and response["Location"] == "/login/"
    user = User.objects.get(email="new.person@demo.test")
    assert user.check_password(NEW_PASSWORD) and user.first_name == "Nora"
    member = Membership.objects.get(user=user, tenant=world.tenant)
    assert member.role == Role.BILLING and member.is_active
    invitation.refresh_from_db()
    assert invitation.status == "accepted" and invitation.accepted_by == user
    joined = MembershipEvent.objects.get(action="joined")
    assert joined.membership == member and NEW_PASSWORD not in joined.detail
    signed_in = Client()
    login = signed_in.post("/login/", {"username": user.email, "password": NEW_PASSWORD})
    assert login.status_code == 302
    assert b"Demo Field Services" in signed_in.get("/").content


def test_a_used_link_is_refused_with_a_clear_page(world, invited):
    _, path = invited
    _set_password(Client(), path)
    again = _set_password(Client(), path, password="another-passphrase-77")
    assert again.status_code == 410
    assert b"already used" in again.content
    assert User.objects.get(email="new.person@demo.test").check_password(NEW_PASSWORD)


def test_an_expired_link_is_refused_and_changes_nothing(world, invited):
    invitation, path = invited
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    response = _set_password(Client(), path)
    assert response.status_code == 410
    assert b"has expired" in response.content
    assert not User.objects.filter(email="new.person@demo.test").exists()


def test_a_link_past_its_signature_age_is_refused_even_if_the_row_says_pending(
    world, invited, settings
):
    _, path = invited
    settings.INVITATION_MAX_AGE_HOURS = -1  # every signature is older than that
    response = Client().get(path)
    assert response.status_code == 410 and b"has expired" in response.content


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),
        lambda token: token[: len(token) // 2],
        lambda token: "not-a-token",
        lambda token: "%00%ff%fe",
        lambda token: signing.dumps({"i": "0" * 32, "n": "x"}, salt="another.salt"),
        lambda token: signing.dumps("just a string", salt=invitations.SALT),
        lambda token: signing.dumps({"i": ["list"], "n": 1}, salt=invitations.SALT),
        lambda token: signing.dumps({"i": "zz" * 16, "n": "x"}, salt=invitations.SALT),
    ],
    ids=["tampered", "truncated", "garbage", "bytes", "other-salt", "string", "list", "bad-uuid"],
)
def test_a_tampered_or_made_up_link_gets_a_clear_page_never_a_500(world, invited, mangle):
    _, path = invited
    token = path.split("/")[2]
    bad = f"/invite/{mangle(token)}/"
    for response in (Client().get(bad), _set_password(Client(), bad)):
        assert response.status_code == 400
        assert b"This link is not valid" in response.content
    assert not User.objects.filter(email="new.person@demo.test").exists()


def test_a_signed_link_for_an_invitation_that_does_not_exist_is_not_valid(world):
    forged = signing.dumps({"i": "a" * 32, "n": "b" * 32}, salt=invitations.SALT)
    response = Client().get(f"/invite/{forged}/")
    assert response.status_code == 400


def test_resending_replaces_the_link_and_the_old_one_stops_working(world, invited):
    invitation, old_path = invited
    owner = world.client_for(world.owner)
    assert owner.post(f"/company/staff/invitations/{invitation.uuid}/resend/").status_code == 302
    assert len(mail.outbox) == 2
    new_path = _path(_link_from_mail(mail.outbox[1]))
    assert new_path != old_path
    old = Client().get(old_path)
    assert old.status_code == 410 and b"newer invitation" in old.content
    assert Client().get(new_path).status_code == 200
    assert MembershipEvent.objects.filter(action="invitation_resent").count() == 1


def test_a_revoked_invitation_link_says_so(world, invited):
    invitation, path = invited
    owner = world.client_for(world.owner)
    owner.post(f"/company/staff/invitations/{invitation.uuid}/revoke/")
    response = _set_password(Client(), path)
    assert response.status_code == 410 and b"withdrawn" in response.content
    assert MembershipEvent.objects.filter(action="invitation_revoked").exists()


def test_a_weak_password_is_refused_and_the_form_keeps_the_names(world, invited):
    _, path = invited
    response = _set_password(Client(), path, password="password")
    assert response.status_code == 200
    assert b"too common" in response.content
    assert b'value="Nora"' in response.content
    mismatch = Client().post(
        path, {"first_name": "Nora", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"}
    )
    assert b"The two passwords differ" in mismatch.content
    assert not User.objects.filter(email="new.person@demo.test").exists()


def test_an_existing_account_joins_by_signing_in_not_by_setting_a_password(world):
    """The outsider (Other Co) is invited into Demo Field Services: the link never lets anyone
    set their password; signed in as the invitee they join, signed in as someone else they can't."""
    _invite(world.client_for(world.owner), email="outsider@other.test", role="dispatcher")
    path = _path(_link_from_mail(mail.outbox[0]))
    anonymous = Client().get(path)
    assert b"already has a Fieldline account" in anonymous.content
    assert b"password1" not in anonymous.content
    _set_password(Client(), path)  # a password POST from a stranger changes nothing
    world.outsider.refresh_from_db()
    assert world.outsider.check_password(PASSWORD)
    stranger = world.client_for(world.tech)
    assert b"you are signed in as tech@demo.test" in stranger.post(path).content
    assert not Membership.objects.filter(user=world.outsider, tenant=world.tenant).exists()
    joined = world.client_for(world.outsider).post(path)
    assert joined.status_code == 302
    member = Membership.objects.get(user=world.outsider, tenant=world.tenant)
    assert member.role == Role.DISPATCHER and member.is_active


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("billing@demo.test", b"already a member"),
        ("BILLING@demo.test", b"already a member"),
        ("not-an-address", b"Enter a valid email address"),
    ],
)
def test_inviting_a_member_or_a_bad_address_is_refused_and_keeps_what_was_typed(
    world, email, message
):
    response = _invite(world.client_for(world.owner), email=email)
    assert response.status_code == 200
    assert message in response.content
    assert f'value="{email}"'.encode() in response.content
    assert mail.outbox == []


def test_a_second_invitation_to_the_same_address_is_refused_while_one_is_open(world, invited):
    response = _invite(world.client_for(world.owner))
    assert b"already has an open invitation" in response.content
    assert Invitation.objects.count() == 1


def test_an_unknown_role_is_refused(world):
    response = _invite(world.client_for(world.owner), role="superuser")
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content


def test_an_e_mail_backend_failure_keeps_the_invitation_and_says_so(world, settings):
    settings.EMAIL_BACKEND = "tests.accounts.test_invitations.BrokenBackend"
    client = world.client_for(world.owner)
    response = _invite(client)
    assert response.status_code == 302
    assert Invitation.objects.filter(email="new.person@demo.test").exists()
    page = client.get("/company/staff/")
    assert b"could not be sent" in page.content


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("connection refused")
