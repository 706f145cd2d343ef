"""The Integrations page's progress of a running sync: done / total from the vendor's totals,
the request budget, "done by HH:MM", and an honest "total unknown" (no made-up percentage).
Also the per-ticket stream's total (the ticket count) as the engine records it."""

from __future__ import annotations

import datetime as dt
import re

from django.urls import reverse
from django.utils import timezone

from accounts.models import Vendor
from connectors.models import LimitState, SyncRun
from connectors.progress import run_progress
from connectors.ratelimit import record_usage
from connectors.services import connection_sync_now, sync_request
from tests.connectors.conftest import make_connection

URL = reverse("connectors:integrations")


def _running(connection, resource, **fields):
    """The queued run of `resource` (all streams queued, as "Sync now" does) made running."""
    runs = sync_request(connection, enqueue=False).runs
    run = next(r for r in runs if r.stream.resource == resource)
    now = timezone.now()
    SyncRun.objects.filter(pk=run.pk).update(
        status="running", started_at=now - dt.timedelta(seconds=30), heartbeat_at=now, **fields
    )
    return SyncRun.objects.select_related("connection", "stream").get(pk=run.pk), runs


def _progress_block(body: str) -> str:
    match = re.search(r'<div class="running sync-progress".*?\n</div>', body, re.S)
    assert match, "no progress block on the page"
    return match.group(0)


def test_a_running_sweep_shows_done_of_total_the_budget_and_done_by(
    world, syncro_connection, settings
):
    settings.SYNCRO_TENANT_READ_SHARE_PER_MINUTE = 60
    run, runs = _running(
        syncro_connection,
        "tickets",
        progress_done=12,
        progress_total=40,
        pages=12,
        requests=12,
        records_seen=600,
        records_total=2000,
    )
    for _ in range(12):
        record_usage("syncro:egress:default", syncro_connection.pk, throttled=False)
    block = _progress_block(world.client_for(world.tech).get(URL).content.decode())
    assert "12 / 40 pages" in block and "600 / 2,000 records" in block
    assert 'value="30" max="100"' in block  # 12 of 40
    eta = run_progress(run).forecast.eta
    assert eta is not None
    assert f"Done by {eta:%H:%M} UTC" in block
    assert "Budget 60 requests/min (48 free this minute)" in block
    assert "28 requests to go" in block
    # the streams queued behind it are counted, not given made-up figures
    assert f"Then {len(runs) - 1} more streams" in block


def test_the_running_stream_is_shown_even_behind_many_queued_ones(world, syncro_connection):
    # Syncro has 10 streams: the first (running) is the oldest of them, beyond the last 8 runs
    _running(syncro_connection, "ticket_settings", progress_total=1)
    body = world.client_for(world.owner).get(URL).content.decode()
    assert "Syncing <strong>ticket_settings</strong>" in _progress_block(body)


def test_before_the_vendor_gives_a_total_the_bar_says_total_unknown(world, syncro_connection):
    _running(syncro_connection, "products", pages=3, progress_done=3, records_seen=75, requests=3)
    block = _progress_block(world.client_for(world.owner).get(URL).content.decode())
    assert "3 pages (total unknown)" in block
    assert "No end time yet" in block and "total unknown" in block
    assert "Done by" not in block
    progress_tag = re.search(r"<progress[^>]*>", block).group(0)
    assert "value=" not in progress_tag  # indeterminate, not a fake 5 %
    assert "%" not in block


def test_a_spent_daily_quota_puts_done_by_after_the_reset(world, settings):
    connection = make_connection(
        world.tenant,
        Vendor.SYNCHROTEAM,
        account="demo",
        base_url="https://ws.synchroteam.com/api/v3",
        secret="st-key",
    )
    settings.SYNCHROTEAM_QUOTA_RESERVE = 10
    run, _ = _running(connection, "jobs", progress_done=5, progress_total=25, requests=5)
    record_usage("synchroteam:key:x", connection.pk, throttled=False)
    reset = timezone.now() + dt.timedelta(hours=2)
    LimitState.objects.create(
        scope="synchroteam:key:x", quota_remaining=10, quota_limit=1000, quota_reset_at=reset
    )
    progress = run_progress(run)
    assert progress.quota.left == 0 and progress.quota.per_day == 990
    assert progress.forecast.waits_for_reset == reset
    assert progress.forecast.eta > reset
    block = _progress_block(world.client_for(world.owner).get(URL).content.decode())
    assert "waits for the daily quota" in block
    assert f"resets {reset:%H:%M} UTC" in block
    assert "0 of today&#x27;s quota left" in block or "0 of today's quota left" in block


def test_another_tenants_runs_never_show_on_the_page(world, syncro_connection):
    _running(syncro_connection, "tickets", progress_done=1, progress_total=2)
    body = world.client_for(world.outsider).get(URL).content.decode()
    assert "sync-progress" not in body


def test_ticket_comments_count_tickets_against_the_ticket_count(world, sandbox):
    from connectors.demo import seed_connections

    users = {u.email: u for u in (world.owner, world.billing, world.dispatcher, world.tech)}
    (connection,) = [
        c
        for c in seed_connections(world.tenant, users, root="http://sandbox.invalid")
        if c.vendor == "syncro"
    ]
    seen = []
    runs = connection_sync_now(
        connection,
        mode="full",
        resources=["tickets", "ticket_comments"],
        transport=sandbox.transport(),
        on_page=lambda run: seen.append((run.progress_done, run.progress_total)),
    )
    tickets, comments = runs
    assert tickets.progress_unit == "page"
    assert (tickets.progress_done, tickets.progress_total) == (6, 6)  # 300 tickets, 50 a page
    assert comments.progress_unit == "ticket"
    assert (comments.progress_done, comments.progress_total) == (300, 300)
    assert comments.requests >= 300  # one request (or more) per ticket
    comment_totals = {total for done, total in seen if total == 300}
    assert comment_totals == {300}
    dones = [done for done, total in seen if total == 300]
    assert dones == sorted(dones) and dones[-1] == 300


def test_a_quota_pause_shows_the_stream_that_met_it_and_the_ones_parked_behind(
    world, sandbox, settings
):
    from connectors.demo import seed_connections

    users = {u.email: u for u in (world.owner, world.billing, world.dispatcher, world.tech)}
    (connection,) = [
        c
        for c in seed_connections(world.tenant, users, root="http://sandbox.invalid")
        if c.vendor == "synchroteam"
    ]
    settings.SYNCHROTEAM_QUOTA_RESERVE = 1
    sandbox.configure(synchroteam_daily_quota=6)
    runs = connection_sync_now(
        connection,
        mode="full",
        resources=["activities", "equipment"],
        transport=sandbox.transport(),
    )
    assert [r.status for r in runs] == ["paused"]  # equipment never started: parked
    assert SyncRun.objects.get(stream__resource="equipment").status == "paused"
    block = _progress_block(world.client_for(world.owner).get(URL).content.decode())
    assert "Paused <strong>activities</strong>" in block and "5 / 7 pages" in block
    assert "waits for the daily quota" in block
    assert "Then 1 more stream," in block
