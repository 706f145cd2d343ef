"""The reconciliation worklist's cached snapshot (`dispatch.snapshots`) against real writes: a
sync page of the in-process sandbox, a webhook-style ``mirror_changed``, a person's draft.

The snapshot is read while nothing it depends on was written, and never after: each test first
shows a write the cache cannot see (a row inserted with ``bulk_create``, as the engine's upsert
does) staying invisible, then the signal the real writer gives making it visible.
"""

from __future__ import annotations

import random

import pytest
from django.db import connection as dbconn
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.money import labor_rates
from connectors.demo import seed_connections
from connectors.models import SyncStream
from connectors.sandbox.synchroteam.records import invoice_record
from connectors.services import connection_sync_now
from connectors.signals import mirror_changed
from connectors.synchroteam.models import SynchroteamInvoice, SynchroteamJob
from dispatch import snapshots
from dispatch.reconciliation import unbilled_snapshot, worklist

IN_PROCESS = "http://sandbox.invalid"


@pytest.fixture
def synced(world, sandbox):
    """The sandbox's Synchroteam and Syncro accounts, fully synced once."""
    users = {u.email: u for u in (world.owner, world.billing, world.dispatcher, world.tech)}
    conns = {c.vendor: c for c in seed_connections(world.tenant, users, root=IN_PROCESS)}
    for vendor in ("synchroteam", "syncro"):
        runs = connection_sync_now(conns[vendor], mode="full", transport=sandbox.transport())
        assert {r.status for r in runs} == {"succeeded"}, vendor
    return conns


def _unbilled(tenant) -> set[int]:
    return {row.vendor_id for row in unbilled_snapshot(tenant)}


def _invoice_in_mirror(conn, job: SynchroteamJob, vendor_id: int) -> None:
    """An invoice row written without ``save()``: no signal, as the sync engine writes."""
    SynchroteamInvoice.objects.bulk_create(
        [
            SynchroteamInvoice(
                tenant=conn.tenant,
                connection=conn,
                vendor_id=vendor_id,
                job_vendor_id=job.vendor_id,
            )
        ]
    )


def test_a_second_view_reads_the_snapshot_and_computes_nothing(world, synced):
    first = _unbilled(world.tenant)
    assert first, "the sandbox has unbilled finished jobs"
    with CaptureQueriesContext(dbconn) as ctx:
        again = _unbilled(world.tenant)
    assert again == first
    assert len(ctx.captured_queries) == 2  # the token, the streams' locks; no job is read
    rate = labor_rates(world.tenant)["onsite"]
    assert len(worklist(tenant=world.tenant, filters={}, rate=rate).rows) == len(first)


def test_a_sync_page_shows_before_its_run_ends(world, sandbox, synced):
    conn = synced["synchroteam"]
    before = _unbilled(world.tenant)
    job = SynchroteamJob.objects.get(connection=conn, vendor_id=max(before))
    record = sandbox.store.get("synchroteam.job", job.vendor_id)
    now = sandbox.clock.now()
    invoice = invoice_record(9_900_001, 99_001, record, random.Random(3), now, now)
    sandbox.store.put("synchroteam.invoice", invoice)
    seen_mid_run = []
    signals = []
    mirror_changed.connect(lambda **kw: signals.append(kw), weak=False, dispatch_uid="t-snap")
    try:
        connection_sync_now(
            conn,
            mode="full",
            resources=["invoices"],
            transport=sandbox.transport(),
            on_page=lambda run: seen_mid_run.append((len(signals), _unbilled(world.tenant))),
        )
    finally:
        mirror_changed.disconnect(dispatch_uid="t-snap")
    assert seen_mid_run and seen_mid_run[-1][0] == 0  # read before the run's signal
    assert seen_mid_run[-1][1] == before - {job.vendor_id}
    assert _unbilled(world.tenant) == before - {job.vendor_id}


def _signal(conn) -> None:  # what a run's end, a webhook refresh or a write-through sends
    mirror_changed.send_robust(None, connection_id=conn.pk, resource="invoices")


def _heartbeat(conn) -> None:  # what every committed sync page writes
    stream = SyncStream.objects.get(connection=conn, resource="invoices")
    SyncStream.objects.filter(pk=stream.pk).update(lock_heartbeat_at=timezone.now())


@pytest.mark.parametrize("expire", [_signal, _heartbeat], ids=["mirror_changed", "page heartbeat"])
def test_an_unsignalled_write_stands_until_a_signal_or_a_sync_page_expires_it(
    world, synced, expire
):
    conn = synced["synchroteam"]
    before = _unbilled(world.tenant)
    job = SynchroteamJob.objects.get(connection=conn, vendor_id=min(before))
    _invoice_in_mirror(conn, job, 9_900_002)
    assert _unbilled(world.tenant) == before  # nothing said the mirror changed
    expire(conn)
    assert _unbilled(world.tenant) == before - {job.vendor_id}


def test_a_saved_row_expires_the_snapshot(world, synced):
    conn = synced["synchroteam"]
    before = _unbilled(world.tenant)
    job = SynchroteamJob.objects.get(connection=conn, vendor_id=min(before))
    job.status = "cancelled"
    job.save(update_fields=["status"])
    assert _unbilled(world.tenant) == before - {job.vendor_id}


def test_without_the_cache_every_view_computes(world, synced, settings):
    settings.RECONCILIATION_CACHE_SECONDS = 0
    conn = synced["synchroteam"]
    before = _unbilled(world.tenant)
    job = SynchroteamJob.objects.get(connection=conn, vendor_id=min(before))
    _invoice_in_mirror(conn, job, 9_900_004)
    assert _unbilled(world.tenant) == before - {job.vendor_id}


def test_a_tenant_without_a_token_gets_one_and_changed_inserts_none(world):
    from dispatch.models import ReconciliationVersion

    snapshots.changed(world.tenant.pk)
    assert not ReconciliationVersion.objects.filter(tenant=world.tenant).exists()
    key = snapshots.version(world.tenant)
    assert ReconciliationVersion.objects.filter(tenant=world.tenant).count() == 1
    assert snapshots.version(world.tenant) == key
    snapshots.changed(world.tenant.pk)
    assert snapshots.version(world.tenant) != key


def test_changes_only_insert_and_a_recompute_prunes_the_older_rows(world, synced):
    from dispatch.models import ReconciliationVersion

    _unbilled(world.tenant)
    for _ in range(3):
        snapshots.changed(world.tenant.pk)
    assert ReconciliationVersion.objects.filter(tenant=world.tenant).count() >= 4
    newest = ReconciliationVersion.objects.filter(tenant=world.tenant).latest("id")
    _unbilled(world.tenant)  # computes again: the older rows go
    assert list(ReconciliationVersion.objects.filter(tenant=world.tenant)) == [newest]


def test_a_company_and_its_connections_can_be_deleted(world, synced):
    from accounts.models import Tenant

    _unbilled(world.tenant)  # the company has version rows
    world.tenant.delete()  # the connections' post_delete must not add one for a deleted company
    assert not Tenant.objects.filter(pk=world.tenant.pk).exists()


def test_a_replaced_snapshot_is_deleted_not_left_to_expire(world, synced):
    from django.core.cache import cache

    key = f"reconciliation:{world.tenant.pk}:unbilled:{snapshots.version(world.tenant)}"
    _unbilled(world.tenant)
    assert cache.get(key) is not None
    snapshots.changed(world.tenant.pk)
    _unbilled(world.tenant)
    assert cache.get(key) is None
