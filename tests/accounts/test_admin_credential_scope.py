"""The credential admin offers only the edited company's members as owners and refuses a
foreign owner, for tenant managers and superusers alike; the company of a credential is fixed."""

from __future__ import annotations

import pytest

from accounts.models import Credential, User, Vendor

INLINE = {
    "events-TOTAL_FORMS": "0",
    "events-INITIAL_FORMS": "0",
    "events-MIN_NUM_FORMS": "0",
    "events-MAX_NUM_FORMS": "1000",
}


@pytest.fixture
def manager(world):
    world.owner.is_staff = True
    world.owner.save()
    return world.client_for(world.owner)


@pytest.fixture
def superuser(world):
    user = User.objects.create_superuser("root@fieldline.test", "x")
    return world.client_for(user)


@pytest.fixture
def cred(world):
    return Credential.create(
        tenant=world.tenant, vendor=Vendor.SYNCRO, label="Shared", secret="sx-shared-0000-abcd"
    )


def _change(cred, world, **overrides):
    data = {
        "tenant": world.tenant.pk,
        "vendor": "syncro",
        "purpose": "api",
        "owner": "",
        "label": "Shared",
        "status": "active",
        "new_secret": "",
        **INLINE,
    }
    data.update({k: str(v) for k, v in overrides.items()})
    return data


@pytest.mark.parametrize("who", ["manager", "superuser"])
def test_the_change_form_offers_only_the_companys_members_as_owners(request, world, cred, who):
    client = request.getfixturevalue(who)
    page = client.get(f"/admin/accounts/credential/{cred.pk}/change/").content.decode()
    assert f'<option value="{world.tech.pk}">' in page
    assert f'<option value="{world.outsider.pk}"' not in page
    assert world.outsider.email not in page


@pytest.mark.parametrize("who", ["manager", "superuser"])
def test_a_foreign_owner_is_refused_on_change(request, world, cred, who):
    client = request.getfixturevalue(who)
    url = f"/admin/accounts/credential/{cred.pk}/change/"
    response = client.post(url, _change(cred, world, owner=world.outsider.pk))
    assert response.status_code == 200
    cred.refresh_from_db()
    assert cred.owner is None
    ok = client.post(url, _change(cred, world, owner=world.tech.pk))
    assert ok.status_code == 302
    cred.refresh_from_db()
    assert cred.owner == world.tech


def test_the_company_of_a_credential_cannot_be_changed(superuser, world, cred):
    url = f"/admin/accounts/credential/{cred.pk}/change/"
    response = superuser.post(url, _change(cred, world, tenant=world.other_tenant.pk, label="X"))
    assert response.status_code == 302
    cred.refresh_from_db()
    assert (cred.tenant, cred.label) == (world.tenant, "X")


def test_adding_a_key_for_a_member_of_another_company_is_refused(superuser, manager, world):
    data = {
        "tenant": world.tenant.pk,
        "vendor": "syncro",
        "purpose": "api",
        "owner": world.outsider.pk,
        "label": "Sneaky",
        "status": "active",
        "new_secret": "sx-sneaky-0000-9999",
        **INLINE,
    }
    for client in (manager, superuser):
        response = client.post("/admin/accounts/credential/add/", data)
        assert response.status_code == 200
        body = response.content.decode()
        assert "is not an active member of" in body or "Select a valid choice" in body
    assert not Credential.objects.filter(label="Sneaky").exists()
    # a tenant manager is not even offered the outsider
    page = manager.get("/admin/accounts/credential/add/").content.decode()
    assert world.outsider.email not in page
    # the superuser may add Other Co's own member to Other Co
    data.update(tenant=world.other_tenant.pk, label="Oscar's")
    assert superuser.post("/admin/accounts/credential/add/", data).status_code == 302
    assert Credential.objects.get(label="Oscar's").owner == world.outsider
