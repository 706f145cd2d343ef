"""Full sweeps of Syncro comments (one request per ticket) revisit only recently active tickets
after the first complete sweep, and never delete the comments of the tickets they skip."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from connectors.demo import seed_connections
from connectors.models import SyncRun
from connectors.sandbox import Sandbox, SandboxConfig
from connectors.services import connection_sync_now
from connectors.syncro.models import SyncroTicket, SyncroTicketComment


@pytest.fixture
def syncro_connection(world, settings):
    # The sandbox's "now" is the real now, so its months of tickets straddle the window.
    sandbox = Sandbox.create(
        seed=5,
        scale="small",
        clock_start=timezone.now().isoformat(),
        frozen=True,
        config=SandboxConfig.unlimited(),
    )
    settings.CONNECTORS_TRANSPORT = sandbox.transport()
    users = {u.email: u for u in (world.owner, world.billing)}
    connections = {
        c.vendor: c for c in seed_connections(world.tenant, users, root="http://sandbox.invalid")
    }
    yield connections["syncro"], sandbox
    sandbox.close()


def _comments_run(connection) -> SyncRun:
    return SyncRun.objects.filter(connection=connection, stream__resource="ticket_comments").latest(
        "created_at"
    )


def test_a_later_full_sweep_visits_only_tickets_active_in_the_window_and_deletes_nothing(
    syncro_connection, settings
):
    connection, sandbox = syncro_connection
    settings.SYNC_COMMENTS_FULL_SWEEP_DAYS = 30
    connection_sync_now(connection, mode="full", resources=["tickets", "ticket_comments"])
    first = _comments_run(connection)
    all_tickets = SyncroTicket.objects.filter(connection=connection, is_deleted=False).count()
    comments_before = SyncroTicketComment.objects.filter(
        connection=connection, is_deleted=False
    ).count()
    assert first.requests >= all_tickets  # the first sweep reads every ticket's comments

    connection_sync_now(connection, mode="full", resources=["tickets", "ticket_comments"])
    second = _comments_run(connection)
    recent = SyncroTicket.objects.filter(
        connection=connection,
        is_deleted=False,
        vendor_updated_at__gte=timezone.now() - dt.timedelta(days=30),
    ).count()
    assert 0 < recent < all_tickets
    assert recent <= second.requests < first.requests
    assert second.status == SyncRun.Status.SUCCEEDED
    assert second.deleted == 0
    assert (
        SyncroTicketComment.objects.filter(connection=connection, is_deleted=False).count()
        == comments_before
    )


def test_with_the_window_off_every_full_sweep_reads_every_ticket(syncro_connection, settings):
    connection, sandbox = syncro_connection
    settings.SYNC_COMMENTS_FULL_SWEEP_DAYS = 0
    connection_sync_now(connection, mode="full", resources=["tickets", "ticket_comments"])
    first = _comments_run(connection)
    connection_sync_now(connection, mode="full", resources=["tickets", "ticket_comments"])
    assert _comments_run(connection).requests == first.requests
