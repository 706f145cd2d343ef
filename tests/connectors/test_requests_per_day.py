"""Requests per day under the schedules (`connectors.budget`), the system check that compares
them with the vendor's daily quota, and the Integrations page's table."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.checks import run_checks
from django.urls import reverse
from django.utils import timezone

from accounts.models import Credential, CredentialPurpose, Vendor
from connectors.budget import StreamHistory, connection_budget, estimate
from connectors.checks import check_schedules_fit_the_quota
from connectors.models import SyncRun
from connectors.sync import ensure_streams
from connectors.vendors import vendor_for

from .conftest import make_connection

#: what a full listing of each Synchroteam stream cost at 100 000 jobs (issue 14: ~3 770, plus
#: the four inventory streams of issue 16: 247 at the generated large scale)
SWEEP = {
    "depots": 1,
    "stock_levels": 5,
    "part_movements": 230,
    "part_requests": 11,
    "customers": 50,
    "sites": 60,
    "users": 1,
    "jobs": 1000,
    "activities": 2000,
    "equipment": 80,
    "parts": 9,
    "invoices": 400,
    "quotations": 170,
}


def _history(**extra):
    return {r: StreamHistory(per_full=n, **extra.get(r, {})) for r, n in SWEEP.items()}


def test_a_day_of_synchroteam_incrementals_fits_a_third_of_the_quota_once_jobs_follow_webhooks():
    specs = vendor_for("synchroteam").streams
    polled = estimate(
        specs,
        incremental={s.resource for s in specs},  # every stream, every 10 min: the old way
        incremental_every_minutes=10,
        history=_history(),
        daily_quota=15_000,
        read_per_minute=800,
    )
    assert polled.per_incremental == sum(SWEEP.values())
    assert polled.per_day == 145 * sum(SWEEP.values())
    assert polled.over_quota
    now = estimate(
        specs,
        incremental=set(),
        incremental_every_minutes=10,
        history=_history(jobs={"webhook_per_day": 300}),
        daily_quota=15_000,
        read_per_minute=800,
    )
    assert now.per_incremental == 0
    assert now.per_day == sum(SWEEP.values()) + 300  # the nightly sweep and the events
    assert now.per_day < 15_000 / 3 and not now.over_quota
    jobs = next(s for s in now.streams if s.resource == "jobs")
    assert jobs.schedule == "webhook events, nightly" and jobs.per_day == 1300
    assert now.per_manual_sync == sum(SWEEP.values())  # a whole listing of every stream


def test_measured_incrementals_win_over_the_declared_floor(settings):
    settings.CONNECTORS_COMMENT_TICKETS_PER_RUN = 40
    specs = vendor_for("syncro").streams
    inside = {"ticket_settings", "users", "tickets", "ticket_comments", "invoices", "ticket_timers"}
    unmeasured = estimate(
        specs,
        incremental=inside,
        incremental_every_minutes=10,
        history={},
        daily_quota=None,
        read_per_minute=60,
    )
    rows = {s.resource: s for s in unmeasured.streams}
    assert rows["ticket_comments"].per_incremental == 40  # the bound: the most it may spend
    assert rows["tickets"].per_incremental == 1 and not rows["tickets"].measured
    assert rows["customers"].per_incremental == 0 and rows["customers"].per_full is None
    assert unmeasured.per_incremental == 1 + 1 + 1 + 40 + 1 + 1
    assert unmeasured.limit_per_day == 60 * 1440
    measured = estimate(
        specs,
        incremental=inside,
        incremental_every_minutes=10,
        history={"ticket_comments": StreamHistory(per_incremental=2.5)},
        daily_quota=None,
        read_per_minute=60,
    )
    comments = next(s for s in measured.streams if s.resource == "ticket_comments")
    assert comments.measured and comments.per_incremental == 2.5
    assert comments.incremental_per_day == 360


def _run(connection, resource, *, mode, requests, trigger=SyncRun.Trigger.SCHEDULE, ago=1):
    (stream,) = ensure_streams(connection, [resource])
    return SyncRun.objects.create(
        tenant_id=connection.tenant_id,
        connection=connection,
        stream=stream,
        mode=mode,
        trigger=trigger,
        status=SyncRun.Status.SUCCEEDED,
        requests=requests,
        created_at=timezone.now() - dt.timedelta(hours=ago),
    )


@pytest.fixture
def synchroteam(world, settings):
    settings.SYNCHROTEAM_DAILY_QUOTA = 15_000
    connection = make_connection(
        world.tenant,
        Vendor.SYNCHROTEAM,
        account="acme",
        base_url="https://ws.synchroteam.com/api/v3",
        secret="st-key",
    )
    for resource, n in SWEEP.items():
        _run(connection, resource, mode=SyncRun.Mode.FULL, requests=n, ago=5)
    return connection


def test_the_history_gives_the_figures(synchroteam):
    _run(synchroteam, "jobs", mode=SyncRun.Mode.FULL, requests=900, ago=24 * 30)  # too old
    _run(synchroteam, "jobs", mode=SyncRun.Mode.INCREMENTAL, requests=1, ago=2)
    _run(synchroteam, "jobs", mode=SyncRun.Mode.INCREMENTAL, requests=3, ago=3)
    _run(synchroteam, "jobs", mode="incremental", requests=1, trigger="webhook", ago=1)
    _run(synchroteam, "jobs", mode="incremental", requests=1, trigger="webhook", ago=30)
    plan = connection_budget(synchroteam)
    jobs = next(s for s in plan.streams if s.resource == "jobs")
    assert jobs.per_full == 1000 and jobs.webhook_per_day == 1
    assert jobs.in_incremental and jobs.measured and jobs.per_incremental == 2.0
    assert jobs.schedule == "every 10 min (no webhook secret), nightly"


def _w(connection, warning_id):
    return [
        w for w in check_schedules_fit_the_quota() if w.id == warning_id and w.obj == connection
    ]


def test_the_check_warns_when_polling_jobs_every_ten_minutes_would_exceed_the_quota(synchroteam):
    (warning,) = _w(synchroteam, "connectors.W001")
    assert "15,000" in warning.msg and "webhooks" in warning.hint
    assert any(w.id == "connectors.W001" for w in run_checks())  # registered


def test_the_check_is_quiet_when_webhooks_keep_jobs_out_of_the_incremental(synchroteam):
    Credential.create(
        tenant=synchroteam.tenant,
        vendor=Vendor.SYNCHROTEAM,
        label="token",
        secret="st-webhook-token",
        purpose=CredentialPurpose.WEBHOOK,
    )
    assert connection_budget(synchroteam).per_day == sum(SWEEP.values())
    assert _w(synchroteam, "connectors.W001") == []


def test_the_check_warns_when_one_incremental_outlasts_its_interval(syncro_connection, settings):
    settings.SYNCRO_TENANT_READ_SHARE_PER_MINUTE = 10
    syncro_connection.incremental_interval_minutes = 1
    syncro_connection.save()
    (warning,) = _w(syncro_connection, "connectors.W002")
    assert "1 min at 10/min" in warning.msg
    syncro_connection.incremental_interval_minutes = 10
    syncro_connection.save()
    assert _w(syncro_connection, "connectors.W002") == []


def test_the_integrations_page_shows_each_streams_requests_per_day_against_the_quota(
    world, synchroteam
):
    body = world.client_for(world.owner).get(reverse("connectors:integrations")).content.decode()
    assert "Requests per day" in body
    assert "daily quota of 15,000" in body
    assert "A manual sync runs every stream: about 4,017 requests" in body
    assert "Users (technicians)" in body and "nightly, manual syncs, portal writes" in body
    # jobs are polled while no webhook token is configured: 145 x 1 000 requests, a full bar
    assert 'aria-label="Jobs: 145000 of 15000 requests a day">100%' in body


def test_the_check_costs_the_same_queries_for_one_connection_or_three(
    world, synchroteam, syncro_connection, django_assert_max_num_queries
):
    make_connection(
        world.tenant,
        Vendor.FIELDCAMP,
        account="fc",
        base_url="https://api.fieldcamp.ai/api/v1",
        secret="fc-key",
    )
    with django_assert_max_num_queries(3):
        warnings = check_schedules_fit_the_quota()
    assert [w.obj for w in warnings if w.id == "connectors.W001"] == [synchroteam]
