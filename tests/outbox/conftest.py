"""An in-process Syncro sandbox wired to a Syncro connection of the demo tenant."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.models import Credential, Vendor
from connectors.models import Connection
from connectors.sandbox import accounts as demo
from connectors.sandbox.app import SandboxConfig
from connectors.sandbox.core import IN_PROCESS_BASE, Sandbox, vendor_base_url


@dataclass
class SyncroWorld:
    sandbox: Sandbox
    connection: Connection
    ticket: dict


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
    with sandbox.client("syncro") as client:
        ticket = client.get("/tickets", params={"status": "In Progress"}).json()["tickets"][0]
    yield SyncroWorld(sandbox=sandbox, connection=connection, ticket=ticket)
    sandbox.close()
