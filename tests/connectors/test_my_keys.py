"""My vendor keys: each member adds, verifies, rotates and revokes their own Syncro key (checked
with the sandbox first, each change a CredentialEvent, the token never rendered); owners see
whose key is missing; nobody reaches another person's or company's key (404)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Credential, CredentialEvent, NoCredential
from connectors.sandbox import accounts as demo
from tests.conftest import syncro_on_sandbox

PAGE = reverse("connectors:my_keys")
ADD = reverse("connectors:key_add", args=["syncro"])
ROB = demo.syncro_user_by_id(1760).token
WINTER = demo.syncro_user_by_id(1737).token
WRONG = "sx-wrong-token-00000000"


@pytest.fixture
def office(world, settings):
    """The demo company on the Syncro sandbox: a shared key (Michael Swanson) and the billing
    clerk's own (Howard Enos)."""
    sandbox, connection = syncro_on_sandbox(world, settings)
    yield connection
    sandbox.close()


def _own(user):
    return Credential.objects.usable().get(owner=user)


def test_a_technician_adds_verifies_rotates_and_revokes_their_own_key(world, office):
    client = world.client_for(world.tech)
    page = client.get(PAGE).content.decode()
    assert "You have no Syncro key" in page and "Team keys" not in page
    response = client.post(ADD, {"secret": ROB})
    assert response.status_code == 302
    key = _own(world.tech)
    assert (key.secret, key.verified_identity) == (ROB, "Rob Keller (user_id=1760)")
    page = client.get(PAGE).content.decode()
    assert "Authenticated as Rob Keller (user_id=1760)" in page and "••••" + ROB[-4:] in page
    assert ROB not in page
    assert client.post(reverse("connectors:key_verify", args=[key.uuid])).status_code == 302
    assert (
        client.post(
            reverse("connectors:key_rotate", args=[key.uuid]), {"secret": WINTER}
        ).status_code
        == 302
    )
    key.refresh_from_db()
    assert (key.secret, key.verified_vendor_user_id) == (WINTER, "1737")
    assert client.post(reverse("connectors:key_revoke", args=[key.uuid])).status_code == 302
    key.refresh_from_db()
    assert key.status == "revoked"
    actions = list(key.events.order_by("id").values_list("action", "actor"))
    assert [a for a, _ in actions] == [
        "created",
        "verified",
        "verified",
        "rotated",
        "verified",
        "revoked",
    ]
    assert {actor for _, actor in actions} == {world.tech.pk}
    assert not any(s in e.detail for e in key.events.all() for s in (ROB, WINTER))
    actor = Credential.objects.for_actor(world.tenant, "syncro", world.tech)
    assert actor.is_shared  # revoked: the company key again


def test_a_wrong_token_is_refused_with_the_vendors_answer_and_nothing_is_saved(world, office):
    response = world.client_for(world.tech).post(ADD, {"secret": WRONG})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Syncro refused this key" in body and "Not authorized" in body
    assert WRONG not in body
    assert not Credential.objects.filter(owner=world.tech).exists()


def test_rotating_to_a_refused_token_keeps_the_working_key(world, office):
    client = world.client_for(world.billing)
    key = _own(world.billing)
    events = CredentialEvent.objects.count()
    response = client.post(reverse("connectors:key_rotate", args=[key.uuid]), {"secret": WRONG})
    assert response.status_code == 400 and "Not authorized" in response.content.decode()
    key.refresh_from_db()
    assert (key.secret, key.status) == (demo.syncro_user_by_id(1750).token, "active")
    assert CredentialEvent.objects.count() == events


def test_verify_marks_a_key_the_vendor_now_rejects_as_failing(world, office):
    key = _own(world.billing)
    key.set_secret(WRONG)
    key.save()
    client = world.client_for(world.billing)
    client.post(reverse("connectors:key_verify", args=[key.uuid]))
    key.refresh_from_db()
    assert key.status == "failing" and "Not authorized" in key.last_error
    assert key.events.filter(action="failed", actor=world.billing).exists()
    assert "Not authorized" in client.get(PAGE).content.decode()


def test_a_token_of_the_company_keys_user_is_saved_with_a_warning(world, office):
    client = world.client_for(world.tech)
    from accounts.models import Vendor
    from connectors.connect import credential_verify
    from connectors.models import Connection

    shared = Credential.objects.get(tenant=world.tenant, owner__isnull=True)
    credential_verify(connection=Connection.objects.get(), credential=shared, by=world.owner)
    response = client.post(ADD, {"secret": shared.secret}, follow=True)
    assert "same Syncro user as the company key" in response.content.decode()
    assert _own(world.tech).vendor == Vendor.SYNCRO


def test_owners_see_whose_key_is_missing(world, office):
    page = world.client_for(world.owner).get(PAGE).content.decode()
    assert "Team keys" in page
    team = page[page.index("Team keys") :]
    tech_row = team[team.index(world.tech.email) :].split("</tr>")[0]
    assert "no key" in tech_row
    billing_row = team[team.index(world.billing.email) :].split("</tr>")[0]
    assert "Active" in billing_row and "no key" not in billing_row
    assert world.outsider.email not in team


def test_nobody_reaches_another_persons_or_companys_key(world, office):
    key = _own(world.billing)
    events = CredentialEvent.objects.count()
    for user in (world.outsider, world.owner, world.tech):
        client = world.client_for(user)
        for name in ("key_verify", "key_revoke"):
            assert client.post(reverse(f"connectors:{name}", args=[key.uuid])).status_code == 404
        rotate = reverse("connectors:key_rotate", args=[key.uuid])
        assert client.post(rotate, {"secret": ROB}).status_code == 404
        assert "••••" + key.fingerprint not in client.get(PAGE).content.decode()
    outsider = world.client_for(world.outsider)
    assert outsider.post(ADD, {"secret": ROB}).status_code == 404  # Other Co has no Syncro
    assert outsider.post("/integrations/keys/not-a-uuid/revoke/").status_code == 404
    assert outsider.get(reverse("connectors:key_add", args=["syncro"])).status_code == 405
    key.refresh_from_db()
    assert key.status == "active" and CredentialEvent.objects.count() == events
    with pytest.raises(NoCredential):
        Credential.objects.for_actor(world.other_tenant, "syncro", world.outsider)


def test_a_vendor_without_personal_keys_takes_none(world, office):
    from connectors.models import Connection

    Connection.objects.create(tenant=world.tenant, vendor="synchroteam", account="demofield")
    url = reverse("connectors:key_add", args=["synchroteam"])
    assert world.client_for(world.tech).post(url, {"secret": "st-x-000000"}).status_code == 404
    assert not Credential.objects.filter(vendor="synchroteam").exists()
