"""The Django admin never shows a secret; rotating from it writes a CredentialEvent."""

from __future__ import annotations

import pytest

from accounts.models import Credential, CredentialEvent, Vendor

SECRET = "sx-admin-canary-51f0c3d9e2"


@pytest.fixture
def admin_client(world):
    world.owner.is_staff = True
    world.owner.save()
    return world.client_for(world.owner)


@pytest.fixture
def cred(world):
    return Credential.create(
        tenant=world.tenant,
        vendor=Vendor.SYNCRO,
        label="Shared Syncro key",
        secret=SECRET,
        by=world.owner,
    )


def test_the_admin_list_and_change_pages_never_show_the_secret(admin_client, cred):
    for url in [
        "/admin/accounts/credential/",
        f"/admin/accounts/credential/{cred.pk}/change/",
        "/admin/accounts/credentialevent/",
    ]:
        page = admin_client.get(url).content.decode()
        assert SECRET not in page, url
        assert SECRET[:-4] not in page, url
    change = admin_client.get(f"/admin/accounts/credential/{cred.pk}/change/").content.decode()
    assert "••••" + SECRET[-4:] in change
    assert 'name="new_secret"' in change
    assert 'type="password"' in change


def test_rotating_in_the_admin_replaces_the_secret_and_writes_an_event(admin_client, world, cred):
    url = f"/admin/accounts/credential/{cred.pk}/change/"
    response = admin_client.post(
        url,
        {
            "tenant": world.tenant.pk,
            "vendor": "syncro",
            "purpose": "api",
            "owner": "",
            "label": "Shared Syncro key",
            "status": "active",
            "new_secret": "sx-rotated-9a8b7c6d5e",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
            "events-MIN_NUM_FORMS": "0",
            "events-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    cred.refresh_from_db()
    assert cred.secret == "sx-rotated-9a8b7c6d5e"
    event = CredentialEvent.objects.filter(credential=cred, action="rotated").get()
    assert event.actor == world.owner
    assert "rotated-9a8b7c6d5e" not in event.detail


def test_saving_the_admin_form_without_a_new_secret_keeps_the_old_one(admin_client, world, cred):
    response = admin_client.post(
        f"/admin/accounts/credential/{cred.pk}/change/",
        {
            "tenant": world.tenant.pk,
            "vendor": "syncro",
            "purpose": "api",
            "owner": "",
            "label": "Renamed key",
            "status": "active",
            "new_secret": "",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
            "events-MIN_NUM_FORMS": "0",
            "events-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302
    cred.refresh_from_db()
    assert (cred.label, cred.secret) == ("Renamed key", SECRET)
    assert not CredentialEvent.objects.filter(credential=cred, action="rotated").exists()


def test_adding_a_credential_in_the_admin_requires_the_secret_and_records_creation(
    admin_client, world
):
    data = {
        "tenant": world.tenant.pk,
        "vendor": "fieldcamp",
        "purpose": "api",
        "owner": "",
        "label": "FieldCamp",
        "status": "active",
        "new_secret": "",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
    }
    rejected = admin_client.post("/admin/accounts/credential/add/", data)
    assert rejected.status_code == 200
    assert "A new credential needs its secret." in rejected.content.decode()
    assert 'value="FieldCamp"' in rejected.content.decode()
    data["new_secret"] = "fc_live_admin_add_0042"
    assert admin_client.post("/admin/accounts/credential/add/", data).status_code == 302
    cred = Credential.objects.get(label="FieldCamp")
    assert cred.secret == "fc_live_admin_add_0042"
    assert cred.events.get().action == "created"


def test_the_admin_revoke_action_writes_an_event(admin_client, cred):
    response = admin_client.post(
        "/admin/accounts/credential/", {"action": "revoke_selected", "_selected_action": [cred.pk]}
    )
    assert response.status_code == 302
    cred.refresh_from_db()
    assert cred.status == "revoked"
    assert cred.events.filter(action="revoked").count() == 1
