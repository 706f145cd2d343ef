"""Shared fixtures: a small named world of two tenants and their staff."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from accounts.demo import seed_accounts
from accounts.models import Tenant, User

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_usage_left_over():
    """Request usage counted in memory by one test is never written into the next one's
    database (connectors.usage keeps a per-process tally)."""
    from connectors import usage

    usage.discard()
    yield
    usage.discard()


@dataclass
class World:
    """Demo Field Services with an owner, a billing clerk, a dispatcher and a technician, and
    Other Co with an outsider who must be refused everything of Demo Field Services."""

    tenant: Tenant
    other_tenant: Tenant
    owner: User
    billing: User
    dispatcher: User
    tech: User
    outsider: User

    def client_for(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client


@pytest.fixture
def world(db) -> World:
    accounts = seed_accounts(PASSWORD)
    u = accounts.users
    return World(
        tenant=accounts.tenant,
        other_tenant=accounts.other_tenant,
        owner=u["owner"],
        billing=u["billing"],
        dispatcher=u["dispatcher"],
        tech=u["technician"],
        outsider=u["outsider"],
    )


def syncro_on_sandbox(world: World, settings, *, seed: int = 11):
    """An in-process Syncro sandbox and the demo tenant's Syncro connection to it.

    Rate limits are lifted on both sides, the outbox runs without django-q2 and without delays,
    and the tenant gets the shared Syncro key (Michael Swanson, 1735) and the billing clerk's own
    (Howard Enos, 1750). Returns ``(sandbox, connection)``; the caller closes the sandbox.
    """
    from accounts.models import Credential, Vendor
    from connectors.models import Connection
    from connectors.sandbox import accounts as demo
    from connectors.sandbox.config import SandboxConfig
    from connectors.sandbox.core import IN_PROCESS_BASE, Sandbox, vendor_base_url

    sandbox = Sandbox.create(
        seed=seed,
        scale="small",
        clock_start="2026-11-02T09:00:00Z",
        config=SandboxConfig.unlimited(),
    )
    settings.CONNECTORS_TRANSPORT = sandbox.transport()
    settings.OUTBOX_ENQUEUE = False
    settings.OUTBOX_VERIFY_DELAY_SECONDS = 0
    settings.OUTBOX_RETRY_DELAY_SECONDS = 0
    settings.SYNCRO_RATE_BUDGET_PER_MINUTE = 100_000
    settings.SYNCRO_RATE_LIMIT_PER_MINUTE = 100_000
    settings.SYNCRO_WRITE_RESERVE_PER_MINUTE = 10_000
    settings.SYNCRO_TENANT_READ_SHARE_PER_MINUTE = 100_000
    connection = Connection.objects.create(
        tenant=world.tenant,
        vendor=Vendor.SYNCRO,
        account=demo.SYNCRO_SUBDOMAIN,
        base_url=vendor_base_url("syncro", IN_PROCESS_BASE),
    )
    by_id = {u.user_id: u for u in demo.SYNCRO_USERS}
    Credential.create(
        tenant=world.tenant,
        vendor=Vendor.SYNCRO,
        label="Shared Syncro key",
        secret=by_id[demo.SYNCRO_SHARED_TOKEN_USER_ID].token,
    )
    Credential.create(
        tenant=world.tenant,
        vendor=Vendor.SYNCRO,
        label="Howard's key",
        owner=world.billing,
        secret=by_id[1750].token,
    )
    return sandbox, connection
