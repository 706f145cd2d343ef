"""A Syncro sandbox, its mirror synced into the demo tenant, labor types mapped.

The world of tests/conftest.py plus: the demo tenant's Syncro connection to an in-process
sandbox (seeded, small scale), the tenant's shared Syncro key (Michael Swanson, 1735) and the
billing clerk's own key (Howard Enos, 1750), and a full sync of the mirror.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache

from accounts.models import Credential, Vendor
from billing.demo import map_labor_types
from connectors.models import Connection
from connectors.sandbox import accounts as demo
from connectors.sandbox.app import SandboxConfig
from connectors.sandbox.core import IN_PROCESS_BASE, Sandbox, vendor_base_url
from connectors.services import connection_sync_now
from connectors.syncro.models import SyncroTicket


@dataclass
class SyncroWorld:
    sandbox: Sandbox
    connection: Connection
    ticket: SyncroTicket  # an "In Progress" ticket of the mirror

    def ledger(self, method: str, path: str):
        return self.sandbox.ledger.writes(vendor="syncro", method=method, path=path)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def syncro(world, settings) -> SyncroWorld:
    sandbox = Sandbox.create(
        seed=11, scale="small", clock_start="2026-11-02T09:00:00Z", config=SandboxConfig.unlimited()
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
    connection_sync_now(connection, mode="full")
    map_labor_types(world.tenant)
    ticket = SyncroTicket.objects.filter(tenant=world.tenant, status="In Progress").first()
    yield SyncroWorld(sandbox=sandbox, connection=connection, ticket=ticket)
    sandbox.close()
