"""An in-process sandbox wired to the demo tenant's Synchroteam and FieldCamp connections."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.models import Credential, CredentialPurpose, Vendor
from connectors.models import Connection
from connectors.sandbox import accounts as demo
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.core import IN_PROCESS_BASE, Sandbox, vendor_base_url

WEBHOOK_TOKEN = "st-hook-token-5d1c9e7a"


@dataclass
class DispatchWorld:
    sandbox: Sandbox
    synchroteam: Connection
    fieldcamp: Connection


@pytest.fixture
def dispatch(world, settings) -> DispatchWorld:
    sandbox = Sandbox.create(
        seed=5, scale="small", clock_start="2026-11-02T09:00:00Z", config=SandboxConfig.unlimited()
    )
    settings.CONNECTORS_TRANSPORT = sandbox.transport()
    settings.OUTBOX_ENQUEUE = False
    settings.OUTBOX_VERIFY_DELAY_SECONDS = 0
    settings.OUTBOX_RETRY_DELAY_SECONDS = 0
    settings.WEBHOOK_PROCESS_INLINE = False
    st = Connection.objects.create(
        tenant=world.tenant,
        vendor=Vendor.SYNCHROTEAM,
        account=demo.SYNCHROTEAM_DOMAIN,
        base_url=vendor_base_url("synchroteam", IN_PROCESS_BASE),
    )
    fc = Connection.objects.create(
        tenant=world.tenant,
        vendor=Vendor.FIELDCAMP,
        account=demo.FIELDCAMP_WORKSPACE,
        base_url=vendor_base_url("fieldcamp", IN_PROCESS_BASE),
    )
    for vendor, secret in (
        (Vendor.SYNCHROTEAM, demo.SYNCHROTEAM_API_KEY),
        (Vendor.FIELDCAMP, demo.FIELDCAMP_API_KEY),
    ):
        Credential.create(tenant=world.tenant, vendor=vendor, label="Shared key", secret=secret)
    Credential.create(
        tenant=world.tenant,
        vendor=Vendor.FIELDCAMP,
        label="FieldCamp webhook secret",
        secret=demo.FIELDCAMP_WEBHOOK_SECRET,
        purpose=CredentialPurpose.WEBHOOK,
    )
    Credential.create(
        tenant=world.tenant,
        vendor=Vendor.SYNCHROTEAM,
        label="Synchroteam webhook token",
        secret=WEBHOOK_TOKEN,
        purpose=CredentialPurpose.WEBHOOK,
    )
    yield DispatchWorld(sandbox=sandbox, synchroteam=st, fieldcamp=fc)
    sandbox.close()


@pytest.fixture
def mirrored(dispatch) -> DispatchWorld:
    """The Synchroteam mirror filled from the sandbox (customers, sites, users, jobs, activities,
    invoices, quotations, equipment)."""
    from connectors.services import connection_sync_now

    runs = connection_sync_now(
        dispatch.synchroteam,
        mode="full",
        resources=[
            "customers",
            "sites",
            "users",
            "jobs",
            "activities",
            "equipment",
            "invoices",
            "quotations",
        ],
    )
    assert all(r.status == "succeeded" for r in runs), [(r.stream.resource, r.error) for r in runs]
    return dispatch
