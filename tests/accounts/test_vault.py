"""The credential vault: encryption at rest, key rotation, actor lookup."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection

from accounts.checks import check_field_encryption_keys
from accounts.fields import DecryptionError
from accounts.models import Credential, CredentialEvent, CredentialStatus, NoCredential, Vendor

SECRET = "sx-canary-7f3a9c-plaintext-token"


def _raw_column(cred: Credential) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM accounts_credential WHERE id = %s", [cred.pk])
        return cursor.fetchone()[0]


@pytest.fixture
def key_old():
    return Fernet.generate_key().decode()


@pytest.fixture
def key_new():
    return Fernet.generate_key().decode()


def test_the_database_column_holds_no_plaintext(world):
    cred = Credential.create(
        tenant=world.tenant, vendor=Vendor.SYNCRO, label="k", secret=SECRET, by=world.owner
    )
    raw = _raw_column(cred)
    assert SECRET not in raw
    assert SECRET[-4:] not in raw
    assert raw.startswith("gAAAA")  # a Fernet token
    assert Credential.objects.get(pk=cred.pk).secret == SECRET


def test_a_wrong_key_raises_instead_of_returning_ciphertext(world, settings):
    cred = Credential.create(
        tenant=world.tenant, vendor=Vendor.SYNCRO, label="k", secret=SECRET, by=world.owner
    )
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(DecryptionError):
        Credential.objects.get(pk=cred.pk)


def test_lookups_on_the_encrypted_column_are_refused(world):
    with pytest.raises(FieldError):
        list(Credential.objects.filter(secret=SECRET))
    with pytest.raises(FieldError):
        list(Credential.objects.filter(secret__contains="canary"))
    assert list(Credential.objects.filter(secret__isnull=True)) == []


def test_rotation_lets_the_old_key_be_removed(world, settings, key_old, key_new):
    settings.FIELD_ENCRYPTION_KEYS = [key_old]
    creds = [
        Credential.create(
            tenant=world.tenant, vendor=v, label=f"k{i}", secret=f"{SECRET}-{i}", by=world.owner
        )
        for i, v in enumerate([Vendor.SYNCRO, Vendor.SYNCHROTEAM, Vendor.FIELDCAMP])
    ]
    settings.FIELD_ENCRYPTION_KEYS = [key_new, key_old]
    out = io.StringIO()
    call_command("rotate_encryption_keys", "--batch-size", "2", stdout=out)
    assert "Re-encrypted 3 value(s) in total." in out.getvalue()

    settings.FIELD_ENCRYPTION_KEYS = [key_new]
    for i, cred in enumerate(creds):
        assert Credential.objects.get(pk=cred.pk).secret == f"{SECRET}-{i}"
    assert check_field_encryption_keys() == []


def test_running_the_rotation_twice_changes_nothing_the_second_time(
    world, settings, key_old, key_new
):
    settings.FIELD_ENCRYPTION_KEYS = [key_old]
    cred = Credential.create(
        tenant=world.tenant, vendor=Vendor.SYNCRO, label="k", secret=SECRET, by=world.owner
    )
    settings.FIELD_ENCRYPTION_KEYS = [key_new, key_old]
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    after_first = _raw_column(cred)
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "Re-encrypted 0 value(s) in total." in out.getvalue()
    assert _raw_column(cred) == after_first


def test_the_system_check_fails_when_a_stored_secret_cannot_be_decrypted(
    world, settings, key_old, key_new
):
    settings.FIELD_ENCRYPTION_KEYS = [key_old]
    Credential.create(
        tenant=world.tenant, vendor=Vendor.SYNCRO, label="k", secret=SECRET, by=world.owner
    )
    settings.FIELD_ENCRYPTION_KEYS = [key_new]  # old key removed too early
    errors = check_field_encryption_keys()
    assert [e.id for e in errors] == ["accounts.E002"]
    assert "rotate_encryption_keys" in errors[0].hint


def test_for_actor_prefers_the_users_own_credential_and_says_when_it_is_shared(world):
    shared = Credential.create(
        tenant=world.tenant, vendor=Vendor.SYNCRO, label="shared", secret="shared-secret-1"
    )
    own = Credential.create(
        tenant=world.tenant,
        vendor=Vendor.SYNCRO,
        label="mine",
        secret="own-secret-0001",
        owner=world.billing,
    )
    mine = Credential.objects.for_actor(world.tenant, Vendor.SYNCRO, world.billing)
    assert (mine.credential, mine.is_shared) == (own, False)
    fallback = Credential.objects.for_actor(world.tenant, Vendor.SYNCRO, world.tech)
    assert (fallback.credential, fallback.is_shared) == (shared, True)


def test_for_actor_never_returns_a_revoked_credential_or_another_tenants(world):
    cred = Credential.create(
        tenant=world.tenant, vendor=Vendor.SYNCRO, label="shared", secret="shared-secret-1"
    )
    cred.revoke(by=world.owner)
    with pytest.raises(NoCredential):
        Credential.objects.for_actor(world.tenant, Vendor.SYNCRO, world.owner)
    Credential.create(
        tenant=world.other_tenant, vendor=Vendor.SYNCRO, label="theirs", secret="their-secret-01"
    )
    with pytest.raises(NoCredential):
        Credential.objects.for_actor(world.tenant, Vendor.SYNCRO, world.owner)


def test_rotating_writes_an_event_and_clears_the_verification(world):
    cred = Credential.create(
        tenant=world.tenant, vendor=Vendor.SYNCRO, label="k", secret="first-secret-aaaa"
    )
    cred.mark_verified(identity="Howard Enos (user_id=1750)", vendor_user_id="1750")
    cred.rotate("second-secret-bbbb", by=world.owner)
    cred.refresh_from_db()
    assert cred.secret == "second-secret-bbbb"
    assert cred.fingerprint == "bbbb"
    assert cred.last_verified_at is None
    event = cred.events.first()
    assert (event.action, event.actor, event.detail) == (
        CredentialEvent.Action.ROTATED,
        world.owner,
        "…aaaa → …bbbb",
    )
    assert "first-secret" not in event.detail and "second-secret" not in event.detail


def test_a_failed_verification_marks_the_credential_failing(world):
    cred = Credential.create(
        tenant=world.tenant, vendor=Vendor.SYNCRO, label="k", secret="first-secret-aaaa"
    )
    cred.mark_failed(error="401 Not authorized")
    cred.refresh_from_db()
    assert cred.status == CredentialStatus.FAILING
    assert cred.events.first().action == CredentialEvent.Action.FAILED
