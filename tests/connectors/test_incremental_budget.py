"""Against the in-process sandbox: what a scheduled incremental costs, comments only for tickets
that moved and bounded per run, and records of streams left out of the incremental still
refreshed by the vendor's webhook.

The sandbox's clock starts at our own now (frozen, advanced by hand), so the engine's
high-water marks (our clock) and the vendor's timestamps (the sandbox's) agree as in
production. Requests are counted by the sandbox, or by a transport that records each path.
"""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from django.utils import timezone

from accounts.models import Vendor
from connectors.demo import seed_connections
from connectors.models import SyncRun, SyncStream
from connectors.schedules import incremental_resources
from connectors.services import connection_sync_now
from connectors.synchroteam.models import SynchroteamJob
from connectors.syncro.models import SyncroTicket
from connectors.webhooks.models import InboundEvent
from connectors.webhooks.services import inbound_event_process

IN_PROCESS = "http://sandbox.invalid"
COMMENTS = re.compile(r"/tickets/(\d+)/comments$")


class Recording(httpx.BaseTransport):
    """A transport that remembers the path of every request it passes on."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.paths = inner, []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return self.inner.handle_request(request)


@pytest.fixture
def live():
    """The three emulators at small scale, their clock frozen at our now."""
    from connectors.sandbox.config import SandboxConfig
    from connectors.sandbox.core import Sandbox

    start = timezone.now().replace(microsecond=0)
    sb = Sandbox.create(
        seed=11,
        scale="small",
        clock_start=start.isoformat(),
        frozen=True,
        config=SandboxConfig.unlimited(),
    )
    yield sb
    sb.close()


@pytest.fixture
def connections(world):
    users = {u.email: u for u in (world.owner, world.billing, world.dispatcher, world.tech)}
    return {c.vendor: c for c in seed_connections(world.tenant, users, root=IN_PROCESS)}


def _full_then_churn(sandbox, connection, count=20):
    runs = connection_sync_now(connection, mode="full", transport=sandbox.transport())
    assert {r.status for r in runs} == {"succeeded"}, [(r.stream.resource, r.error) for r in runs]
    sandbox.clock.advance(600)
    sandbox.churn(count)


def _incremental(sandbox, connection, resources=None, trigger=SyncRun.Trigger.SCHEDULE):
    """Requests the vendor received for one incremental of `resources` (None = every stream)."""
    before = sandbox.request_counts().get(connection.vendor, 0)
    runs = connection_sync_now(
        connection, resources=resources, trigger=trigger, transport=sandbox.transport()
    )
    assert {r.status for r in runs} <= {"succeeded"}, [
        (r.stream.resource, r.status, r.error) for r in runs if r.status != "succeeded"
    ]
    return sandbox.request_counts().get(connection.vendor, 0) - before


@pytest.mark.parametrize("vendor", [Vendor.SYNCRO, Vendor.SYNCHROTEAM, Vendor.FIELDCAMP])
def test_a_scheduled_incremental_costs_tens_of_requests_and_less_than_every_stream(
    live, connections, vendor
):
    connection = connections[vendor]
    _full_then_churn(live, connection)
    resources = incremental_resources(connection)  # what sync_scheduled queues
    scheduled = _incremental(live, connection, resources) if resources else 0
    live.clock.advance(600)
    live.churn(20)
    every_stream = _incremental(live, connection, trigger=SyncRun.Trigger.MANUAL)
    print(f"{vendor}: scheduled incremental {scheduled} requests, every stream {every_stream}")
    assert scheduled < 100
    assert scheduled < every_stream


def test_comments_are_fetched_only_for_moved_tickets_and_bounded_per_run(
    live, connections, settings
):
    settings.CONNECTORS_COMMENT_TICKETS_PER_RUN = 3
    connection = connections["syncro"]
    _full_then_churn(live, connection, count=20)
    comments = SyncStream.objects.get(connection=connection, resource="ticket_comments")
    since = comments.high_water - dt.timedelta(minutes=settings.SYNC_OVERLAP_MINUTES)
    connection_sync_now(connection, resources=["tickets"], transport=live.transport())
    moved = set(
        SyncroTicket.objects.filter(
            connection=connection, is_deleted=False, vendor_updated_at__gte=since
        ).values_list("vendor_id", flat=True)
    )
    live_tickets = SyncroTicket.objects.filter(connection=connection, is_deleted=False).count()
    assert 3 < len(moved) < live_tickets  # the churn moved more than one run's bound
    asked, runs = [], []
    for _ in range(len(moved)):
        recording = Recording(live.transport())
        (run,) = connection_sync_now(connection, resources=["ticket_comments"], transport=recording)
        runs.append(run)
        ids = [int(m.group(1)) for p in recording.paths if (m := COMMENTS.search(p))]
        assert len(recording.paths) == len(ids) == run.requests <= 3
        asked += ids
        if run.error_kind != "carried":
            break
    assert runs[0].error_kind == "carried" and runs[0].status == "succeeded"
    assert runs[-1].error_kind == "" and runs[-1].status == "succeeded"
    assert sorted(asked) == sorted(moved)  # each moved ticket once, no other ticket
    comments.refresh_from_db()
    assert comments.checkpoint == {}


def test_a_nightly_sweep_replaces_a_carried_comment_checkpoint(live, connections, settings):
    settings.CONNECTORS_COMMENT_TICKETS_PER_RUN = 2
    connection = connections["syncro"]
    _full_then_churn(live, connection)
    connection_sync_now(connection, resources=["tickets"], transport=live.transport())
    (run,) = connection_sync_now(
        connection, resources=["ticket_comments"], transport=live.transport()
    )
    assert run.error_kind == "carried"
    (full,) = connection_sync_now(
        connection, mode="full", resources=["ticket_comments"], transport=live.transport()
    )
    assert full.mode == "full" and full.status == "succeeded"
    assert full.requests > 2  # the bound is for incrementals only


def test_a_job_left_out_of_the_incremental_is_refreshed_by_its_webhook(live, connections):
    connection = connections["synchroteam"]
    assert incremental_resources(connection) == []  # the demo configures the webhook token
    _full_then_churn(live, connection, count=0)
    job = SynchroteamJob.objects.filter(connection=connection).order_by("vendor_id").first()
    with live.client("synchroteam") as st:
        st.post(
            "/job/send", json={"id": job.vendor_id, "description": "Changed at Synchroteam"}
        ).raise_for_status()
    before = live.request_counts()["synchroteam"]
    event = InboundEvent.objects.create(
        tenant_id=connection.tenant_id,
        connection=connection,
        vendor=connection.vendor,
        status=InboundEvent.Status.ACCEPTED,
        delivery_id="st-42",
        event_type="job.updated",
        payload={"event": "job.updated", "job": {"id": job.vendor_id}},
    )
    done = inbound_event_process(event_id=event.pk, transport=live.transport())
    assert "updated in the mirror" in done
    job.refresh_from_db()
    assert job.description == "Changed at Synchroteam"
    assert live.request_counts()["synchroteam"] - before == 1
