"""Demo connections and credentials for `manage.py seed_demo` (the sandbox contract:
connectors/sandbox/accounts.py). Idempotent: existing rows are left as they are."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from accounts.models import Credential, CredentialPurpose, Vendor
from connectors.models import Connection
from connectors.sandbox import accounts as sandbox


def sandbox_base_urls(root: str | None = None) -> dict[str, str]:
    """Base URL per vendor under the sandbox (URL layout in the contract's docstring)."""
    root = (root or settings.SANDBOX_URL).rstrip("/")
    return {
        Vendor.SYNCRO: f"{root}/syncro/{sandbox.SYNCRO_SUBDOMAIN}/api/v1",
        Vendor.SYNCHROTEAM: f"{root}/synchroteam/api/v3",
        Vendor.FIELDCAMP: f"{root}/fieldcamp/api/v1",
    }


def _credential(tenant, vendor, label, secret, owner=None, purpose=CredentialPurpose.API):
    existing = Credential.objects.usable().filter(
        tenant=tenant, vendor=vendor, owner=owner, purpose=purpose
    )
    if existing.exists():
        return existing.first()
    return Credential.create(
        tenant=tenant, vendor=vendor, label=label, secret=secret, owner=owner, purpose=purpose
    )


def seed_connections(tenant, users_by_email: dict, *, root: str | None = None) -> list[Connection]:
    """Sandbox connections for `tenant` with the demo credentials: the shared Syncro token,
    per-user Syncro tokens for the staff in ``SYNCRO_PORTAL_TOKENS``, the Synchroteam domain key
    and the FieldCamp key, plus the inbound webhook secrets of FieldCamp and Synchroteam."""
    urls = sandbox_base_urls(root)
    accounts = {
        Vendor.SYNCRO: sandbox.SYNCRO_SUBDOMAIN,
        Vendor.SYNCHROTEAM: sandbox.SYNCHROTEAM_DOMAIN,
        Vendor.FIELDCAMP: sandbox.FIELDCAMP_WORKSPACE,
    }
    connections = []
    with transaction.atomic():
        for vendor, account in accounts.items():
            connection, _ = Connection.objects.get_or_create(
                tenant=tenant,
                vendor=vendor,
                defaults={"account": account, "base_url": urls[vendor]},
            )
            connections.append(connection)
        shared = sandbox.syncro_user_by_id(sandbox.SYNCRO_SHARED_TOKEN_USER_ID)
        _credential(tenant, Vendor.SYNCRO, f"Syncro shared ({shared.full_name})", shared.token)
        for email, user_id in sandbox.SYNCRO_PORTAL_TOKENS.items():
            user = users_by_email.get(email)
            syncro_user = sandbox.syncro_user_by_id(user_id)
            if user is not None and syncro_user is not None:
                _credential(
                    tenant,
                    Vendor.SYNCRO,
                    f"Syncro {syncro_user.full_name}",
                    syncro_user.token,
                    owner=user,
                )
        _credential(tenant, Vendor.SYNCHROTEAM, "Synchroteam API key", sandbox.SYNCHROTEAM_API_KEY)
        _credential(tenant, Vendor.FIELDCAMP, "FieldCamp API key", sandbox.FIELDCAMP_API_KEY)
        _credential(
            tenant,
            Vendor.FIELDCAMP,
            "FieldCamp webhook secret",
            sandbox.FIELDCAMP_WEBHOOK_SECRET,
            purpose=CredentialPurpose.WEBHOOK,
        )
        _credential(
            tenant,
            Vendor.SYNCHROTEAM,
            "Synchroteam webhook token",
            sandbox.SYNCHROTEAM_WEBHOOK_TOKEN,
            purpose=CredentialPurpose.WEBHOOK,
        )
    return connections


def seed_demo(accounts, stdout) -> None:
    """`seed_demo` step: sandbox connections for the demo tenant, and their schedules (the
    global schedules come from the data migrations)."""
    from connectors.schedules import connection_schedules_ensure

    users = {u.email: u for u in accounts.users.values()}
    connections = seed_connections(accounts.tenant, users)
    for connection in connections:
        connection_schedules_ensure(connection)
    stdout.write(
        f"Connections: {', '.join(c.get_vendor_display() for c in connections)} "
        f"-> sandbox at {settings.SANDBOX_URL} (run `manage.py sync --full` for a first mirror)."
    )
