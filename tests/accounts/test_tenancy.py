"""Tenant isolation and role checks."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.test import RequestFactory

from accounts.access import get_for_tenant_or_404
from accounts.models import Credential, Membership, Role, Vendor


@pytest.fixture
def demo_credential(world):
    return Credential.create(
        tenant=world.tenant,
        vendor=Vendor.SYNCRO,
        label="Shared Syncro key",
        secret="sx-shared-secret-0001",
        by=world.owner,
    )


def test_an_outsider_cannot_switch_into_another_tenant(world):
    client = world.client_for(world.outsider)
    response = client.post(f"/companies/{world.tenant.uuid}/switch/")
    assert response.status_code == 404
    assert b"Demo Field Services" not in client.get("/").content


def test_a_member_of_two_tenants_can_switch_between_them(world):
    Membership.objects.create(user=world.billing, tenant=world.other_tenant, role=Role.BILLING)
    client = world.client_for(world.billing)
    assert b"Demo Field Services" in client.get("/").content
    response = client.post(f"/companies/{world.other_tenant.uuid}/switch/")
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert "Other Co" in page
    assert "Switch to Demo Field Services" in page


def test_the_tenant_helper_answers_404_for_another_tenants_object(world, demo_credential):
    request = RequestFactory().get("/")
    request.tenant = world.other_tenant
    with pytest.raises(Http404):
        get_for_tenant_or_404(request, Credential, uuid=demo_credential.uuid)
    request.tenant = world.tenant
    assert get_for_tenant_or_404(request, Credential, uuid=demo_credential.uuid) == demo_credential


def test_the_tenant_helper_answers_404_for_a_malformed_id(world):
    request = RequestFactory().get("/")
    request.tenant = world.tenant
    with pytest.raises(Http404):
        get_for_tenant_or_404(request, Credential, uuid="not-a-uuid")


def test_an_outsider_does_not_see_the_demo_tenants_credentials_on_their_home(
    world, demo_credential
):
    page = world.client_for(world.outsider).get("/").content.decode()
    assert "Shared Syncro key" not in page
    assert demo_credential.fingerprint not in page


def test_a_staff_outsider_cannot_open_the_demo_credential_in_the_admin(world, demo_credential):
    world.outsider.is_staff = True
    world.outsider.save()
    client = world.client_for(world.outsider)
    response = client.get(f"/admin/accounts/credential/{demo_credential.pk}/change/")
    assert response.status_code in (302, 404)
    listing = client.get("/admin/accounts/credential/")
    assert listing.status_code == 200
    assert b"Shared Syncro key" not in listing.content


@pytest.mark.parametrize("role_user", ["tech", "dispatcher", "billing"])
def test_only_owners_and_admins_open_the_company_settings(world, role_user):
    response = world.client_for(getattr(world, role_user)).get("/company/")
    assert response.status_code == 403


def test_the_owner_opens_and_saves_the_company_settings(world):
    client = world.client_for(world.owner)
    assert client.get("/company/").status_code == 200
    response = client.post(
        "/company/",
        {
            "name": "Demo Field Services",
            "four_eyes_approval": "on",
            "billing_attribution": "approver",
            "invoice_mode": "per_ticket",
            "currency": "eur",
            "overtime_hours_per_week": "38",
        },
    )
    assert response.status_code == 302
    world.tenant.refresh_from_db()
    assert world.tenant.four_eyes_approval is True
    assert (world.tenant.billing_attribution, world.tenant.invoice_mode) == (
        "approver",
        "per_ticket",
    )
    assert world.tenant.currency == "EUR"


def test_a_rejected_company_form_keeps_what_was_typed(world):
    client = world.client_for(world.owner)
    response = client.post("/company/", {"name": "Renamed Co", "overtime_hours_per_week": "lots"})
    assert response.status_code == 200
    assert b'value="Renamed Co"' in response.content
    assert b'value="lots"' in response.content
    assert b"Enter a number" in response.content


def test_the_navigation_hides_company_settings_from_a_technician(world):
    page = world.client_for(world.tech).get("/").content.decode()
    assert 'href="/company/"' not in page
    owner_page = world.client_for(world.owner).get("/").content.decode()
    assert 'href="/company/"' in owner_page
