"""The staff page: owners invite and change members, admins only look, nobody else gets in, and
another company's members and invitations are a 404 whatever the role."""

from __future__ import annotations

import uuid

import pytest
from django.core import mail

from accounts.models import Membership, Role, User
from accounts.staff import invitations
from accounts.staff.models import Invitation, MembershipEvent
from tests.conftest import PASSWORD


@pytest.fixture
def admin(world) -> User:
    user = User.objects.create_user("admin@demo.test", PASSWORD, first_name="Ada")
    Membership.objects.create(user=user, tenant=world.tenant, role=Role.ADMIN)
    return user


@pytest.fixture
def other_invitation(world) -> Invitation:
    """An open invitation of Other Co (the outsider's company)."""
    return invitations.invite(
        tenant=world.other_tenant, email="friend@other.test", role=Role.BILLING, by=world.outsider
    )


def _member(world, user) -> Membership:
    return Membership.objects.get(user=user, tenant=world.tenant)


def test_the_owner_sees_members_invitations_and_the_invite_button(world):
    invitations.invite(
        tenant=world.tenant, email="p@demo.test", role=Role.TECHNICIAN, by=world.owner
    )
    page = world.client_for(world.owner).get("/company/staff/")
    assert page.status_code == 200
    for text in (b"billing@demo.test", b"tech@demo.test", b"p@demo.test", b"Invite someone"):
        assert text in page.content
    assert b"outsider@other.test" not in page.content
    assert b"Change role" in page.content
    assert b'<span class="badge badge-info">Pending</span>' in page.content


def test_an_expired_invitation_shows_as_expired_with_resend(world):
    from datetime import timedelta

    from django.utils import timezone

    invitation = invitations.invite(
        tenant=world.tenant, email="late@demo.test", role=Role.TECHNICIAN, by=world.owner
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(hours=1)
    )
    page = world.client_for(world.owner).get("/company/staff/")
    assert b'<span class="badge badge-muted">Expired</span>' in page.content
    assert f"/company/staff/invitations/{invitation.uuid}/resend/".encode() in page.content


def test_an_admin_sees_the_staff_page_but_cannot_invite_or_change_anyone(world, admin):
    client = world.client_for(admin)
    page = client.get("/company/staff/")
    assert page.status_code == 200
    assert b"Invite someone" not in page.content and b"Change role" not in page.content
    assert client.get("/company/staff/invite/").status_code == 403
    assert (
        client.post("/company/staff/invite/", {"email": "x@demo.test", "role": "owner"}).status_code
        == 403
    )
    target = _member(world, world.tech)
    assert (
        client.post(f"/company/staff/members/{target.uuid}/role/", {"role": "owner"}).status_code
        == 403
    )
    assert client.post(f"/company/staff/members/{target.uuid}/deactivate/").status_code == 403
    target.refresh_from_db()
    assert target.role == Role.TECHNICIAN and target.is_active
    assert not Invitation.objects.exists() and mail.outbox == []


@pytest.mark.parametrize("who", ["billing", "dispatcher", "tech"])
def test_non_managers_cannot_open_the_staff_page_or_invite(world, who):
    client = world.client_for(getattr(world, who))
    assert client.get("/company/staff/").status_code == 403
    assert (
        client.post("/company/staff/invite/", {"email": "x@demo.test", "role": "owner"}).status_code
        == 403
    )
    assert not Invitation.objects.exists()


def test_the_owner_changes_a_role_and_it_is_audited(world):
    member = _member(world, world.tech)
    response = world.client_for(world.owner).post(
        f"/company/staff/members/{member.uuid}/role/", {"role": "billing"}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.role == Role.BILLING
    event = MembershipEvent.objects.get(action="role_changed")
    assert (event.subject, event.actor, event.detail) == (
        "tech@demo.test",
        world.owner,
        "Technician → Billing",
    )


def test_a_made_up_role_is_refused(world):
    member = _member(world, world.tech)
    client = world.client_for(world.owner)
    client.post(f"/company/staff/members/{member.uuid}/role/", {"role": "god"})
    member.refresh_from_db()
    assert member.role == Role.TECHNICIAN
    assert b"Choose one of the roles" in client.get("/company/staff/").content


def test_the_last_owner_cannot_be_demoted_or_deactivated(world):
    owner_member = _member(world, world.owner)
    client = world.client_for(world.owner)
    client.post(f"/company/staff/members/{owner_member.uuid}/role/", {"role": "admin"})
    owner_member.refresh_from_db()
    assert owner_member.role == Role.OWNER
    assert b"last owner" in client.get("/company/staff/").content
    with pytest.raises(invitations.StaffError, match="last owner"):
        from accounts.staff import members

        members.deactivate(owner_member, by=world.billing)
    owner_member.refresh_from_db()
    assert owner_member.is_active
    assert not MembershipEvent.objects.filter(action__in=["role_changed", "deactivated"]).exists()


def test_with_a_second_owner_the_first_may_step_down(world):
    second = _member(world, world.billing)
    second.role = Role.OWNER
    second.save()
    client = world.client_for(world.owner)
    me = _member(world, world.owner)
    client.post(f"/company/staff/members/{me.uuid}/role/", {"role": "admin"})
    me.refresh_from_db()
    assert me.role == Role.ADMIN


def test_a_deactivated_owner_does_not_count_as_the_other_owner(world):
    second = _member(world, world.billing)
    second.role, second.is_active = Role.OWNER, False
    second.save()
    me = _member(world, world.owner)
    world.client_for(world.owner).post(f"/company/staff/members/{me.uuid}/role/", {"role": "admin"})
    me.refresh_from_db()
    assert me.role == Role.OWNER


def test_deactivating_takes_access_away_at_the_next_request_and_reactivating_gives_it_back(world):
    member = _member(world, world.tech)
    tech = world.client_for(world.tech)
    assert tech.get("/").status_code == 200
    owner = world.client_for(world.owner)
    owner.post(f"/company/staff/members/{member.uuid}/deactivate/")
    assert tech.get("/").status_code == 403
    page = owner.get("/company/staff/")
    assert b"Deactivated" in page.content and b"Reactivate" in page.content
    owner.post(f"/company/staff/members/{member.uuid}/reactivate/")
    assert tech.get("/").status_code == 200
    actions = list(MembershipEvent.objects.order_by("at", "id").values_list("action", flat=True))
    assert actions == ["deactivated", "reactivated"]


def test_an_owner_cannot_deactivate_themselves(world):
    me = _member(world, world.owner)
    world.client_for(world.owner).post(f"/company/staff/members/{me.uuid}/deactivate/")
    me.refresh_from_db()
    assert me.is_active


def test_a_deactivated_member_cannot_be_invited_again_but_can_be_reactivated(world):
    member = _member(world, world.tech)
    member.is_active = False
    member.save()
    response = world.client_for(world.owner).post(
        "/company/staff/invite/", {"email": "tech@demo.test", "role": "technician"}
    )
    assert b"reactivate them" in response.content


# --- cross-tenant: another company's rows are a 404, whatever the role ------------------------


def test_an_outsider_owner_gets_404_for_this_companys_members(world):
    """The outsider is an owner, but of Other Co: every action on Demo's members is a 404."""
    client = world.client_for(world.outsider)
    target = _member(world, world.tech)
    for action, data in [
        ("role", {"role": "owner"}),
        ("deactivate", {}),
        ("reactivate", {}),
        ("reset-mfa", {}),
    ]:
        response = client.post(f"/company/staff/members/{target.uuid}/{action}/", data)
        assert response.status_code == 404, action
    target.refresh_from_db()
    assert target.role == Role.TECHNICIAN and target.is_active
    assert not MembershipEvent.objects.exists()


def test_an_outsider_owner_gets_404_for_this_companys_invitations_and_never_sees_them(world):
    invitation = invitations.invite(
        tenant=world.tenant, email="p@demo.test", role=Role.OWNER, by=world.owner
    )
    client = world.client_for(world.outsider)
    for action in ("resend", "revoke"):
        assert (
            client.post(f"/company/staff/invitations/{invitation.uuid}/{action}/").status_code
            == 404
        )
    invitation.refresh_from_db()
    assert invitation.status == "pending" and mail.outbox == []
    page = client.get("/company/staff/")
    assert page.status_code == 200 and b"p@demo.test" not in page.content
    assert b"billing@demo.test" not in page.content


def test_this_companys_owner_gets_404_for_another_companys_invitation(world, other_invitation):
    client = world.client_for(world.owner)
    for action in ("resend", "revoke"):
        url = f"/company/staff/invitations/{other_invitation.uuid}/{action}/"
        assert client.post(url).status_code == 404
    other_invitation.refresh_from_db()
    assert other_invitation.status == "pending"
    assert b"friend@other.test" not in client.get("/company/staff/").content


@pytest.mark.parametrize("bad", ["not-a-uuid", "1", str(uuid.uuid4())])
def test_malformed_or_unknown_ids_are_404_not_500(world, bad):
    client = world.client_for(world.owner)
    assert client.post(f"/company/staff/members/{bad}/deactivate/").status_code == 404
    assert client.post(f"/company/staff/invitations/{bad}/revoke/").status_code == 404


def test_staff_actions_refuse_get(world):
    member = _member(world, world.tech)
    client = world.client_for(world.owner)
    assert client.get(f"/company/staff/members/{member.uuid}/deactivate/").status_code == 405


def test_the_company_settings_page_links_to_staff_and_offers_the_mfa_setting(world):
    page = world.client_for(world.owner).get("/company/")
    assert b"/company/staff/" in page.content
    assert b'name="require_mfa"' in page.content


def test_invitation_and_member_states_have_badge_tones():
    from accounts.templatetags.portal import STATE_TONES, state_key

    assert [s for s in Invitation.Status.values if state_key(s) not in STATE_TONES] == []
    assert "deactivated" in STATE_TONES
