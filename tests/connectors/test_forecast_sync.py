"""Acceptance: a throttled sync on a frozen clock finishes when its early forecast said.

The clock is time-machine's, standing still (``tick=False``) except where the test moves it:
the shared limiter's waits (`connectors.ratelimit.sleep`) and each vendor answer (a fixed
latency, added by the transport below) shift it. Django's ``timezone.now``, the limiter's
buckets and the in-process sandbox (its clock follows real time, here the traveller's) all read
the same time, so the run takes the minutes of vendor time its budget allows, in a second or two
of real time. The forecast is taken from `run_progress` early in the run, as the page and the
``sync`` command show it, and compared with the run's real ``finished_at``.
"""

from __future__ import annotations

import datetime as dt
import io

import httpx
import pytest
import time_machine
from django.core.management import call_command

from connectors import ratelimit
from connectors.demo import seed_connections
from connectors.models import SyncRun
from connectors.progress import run_progress
from connectors.sandbox import Sandbox, SandboxConfig
from connectors.services import connection_sync_now

IN_PROCESS = "http://sandbox.invalid"
START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
LATENCY = 0.4  # seconds of vendor time per answer


class SlowVendor(httpx.BaseTransport):
    """The sandbox's transport, with every answer taking `seconds` of the traveller's time."""

    def __init__(self, inner: httpx.BaseTransport, traveller, seconds: float) -> None:
        self.inner, self.traveller, self.seconds = inner, traveller, seconds

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.traveller.shift(self.seconds)
        return self.inner.handle_request(request)


@pytest.fixture
def clock(monkeypatch):
    with time_machine.travel(START, tick=False) as traveller:
        monkeypatch.setattr(ratelimit, "sleep", traveller.shift)
        yield traveller


def make_sandbox(start: dt.datetime, **config) -> Sandbox:
    return Sandbox.create(
        seed=7, scale="small", clock_start=start, config=SandboxConfig.unlimited(**config)
    )


@pytest.fixture
def connections(world):
    users = {u.email: u for u in (world.owner, world.billing, world.dispatcher, world.tech)}
    return {c.vendor: c for c in seed_connections(world.tenant, users, root=IN_PROCESS)}


class Recorder:
    """``on_page``: the progress after every page; `early` is the one after page `at`."""

    def __init__(self, at: int) -> None:
        self.at, self.seen, self.early = at, [], None

    def __call__(self, run: SyncRun) -> None:
        progress = run_progress(run)
        self.seen.append(progress)
        if self.early is None and run.pages == self.at:
            self.early = progress


def within(forecast_eta, started, finished, fraction=0.10) -> bool:
    actual = (finished - started).total_seconds()
    return abs((forecast_eta - finished).total_seconds()) <= fraction * actual


@pytest.mark.parametrize(
    ("latency", "budget_bound"),
    [(LATENCY, True), (8.0, False)],
    ids=["waiting-for-budget", "slower-vendor"],
)
def test_a_throttled_syncro_sweep_ends_when_its_early_forecast_said(
    clock, connections, settings, latency, budget_bound
):
    settings.SYNCRO_TENANT_READ_SHARE_PER_MINUTE = 10  # the tightest of the three buckets
    settings.RATE_LIMIT_MAX_WAIT_SECONDS = 90
    pages = dict(SandboxConfig().syncro_page_sizes, tickets=3)
    sandbox = make_sandbox(START, syncro_page_sizes=pages)
    record = Recorder(at=3)
    try:
        transport = SlowVendor(sandbox.transport(), clock, latency)
        (run,) = connection_sync_now(
            connections["syncro"],
            mode="full",
            resources=["tickets"],
            transport=transport,
            on_page=record,
        )
    finally:
        sandbox.close()
    assert run.status == "succeeded"
    assert (run.progress_done, run.progress_total, run.pages) == (100, 100, 100)
    early = record.early
    assert (early.done, early.total, early.percent, early.per_minute) == (3, 100, 3, 10)
    assert early.forecast.requests_left == 97
    # ten minutes or more of vendor time: at 10 requests a minute, most of it waiting for
    # budget; behind a vendor slower than that (8 s an answer), none of it
    took = (run.finished_at - run.started_at).total_seconds()
    assert took > 9 * 60
    if budget_bound:
        assert run.wait_seconds > 0.8 * took
    else:
        assert run.wait_seconds < 0.05 * took and took >= 100 * latency
    assert within(early.forecast.eta, run.started_at, run.finished_at), (
        early.forecast.eta,
        run.finished_at,
    )
    # an ETA is given from the first page on, never a percentage without a total
    assert all(p.forecast.eta is not None and p.percent is not None for p in record.seen)


def test_a_synchroteam_sweep_that_spends_the_daily_quota_ends_after_the_reset_as_forecast(
    clock, connections, settings
):
    # 688 activities = 7 pages; 6 requests a day with 1 kept for writes: 5 tonight, 2 after 00:00
    start = dt.datetime(2026, 11, 2, 23, 40, tzinfo=dt.UTC)
    clock.move_to(start)
    settings.SYNCHROTEAM_RATE_BUDGET_PER_MINUTE = 3
    settings.SYNCHROTEAM_DAILY_QUOTA = 6
    settings.SYNCHROTEAM_QUOTA_RESERVE = 1
    settings.RATE_LIMIT_MAX_WAIT_SECONDS = 90
    sandbox = make_sandbox(start, synchroteam_daily_quota=6)
    record = Recorder(at=1)
    connection = connections["synchroteam"]
    try:
        transport = SlowVendor(sandbox.transport(), clock, LATENCY)
        (paused,) = connection_sync_now(
            connection, mode="full", resources=["activities"], transport=transport, on_page=record
        )
        assert paused.status == "paused" and paused.error_kind == "quota"
        assert paused.resume_at == dt.datetime(2026, 11, 3, tzinfo=dt.UTC)
        # the paused run still shows where the sweep is and when it will end
        waiting = run_progress(paused)
        assert (waiting.done, waiting.total) == (5, 7)
        assert waiting.forecast.eta > paused.resume_at
        clock.move_to(paused.resume_at)  # the resume schedule fires at the reset
        (resumed,) = connection_sync_now(
            connection, resources=["activities"], transport=transport, trigger="resume"
        )
    finally:
        sandbox.close()
    assert resumed.status == "succeeded"
    assert (resumed.progress_start, resumed.progress_done, resumed.progress_total) == (5, 7, 7)
    early = record.early.forecast
    assert early.waits_for_reset == paused.resume_at
    assert "waiting for the daily quota to reset at 00:00 UTC" in early.reason
    assert within(early.eta, paused.started_at, resumed.finished_at), (
        early.eta,
        resumed.finished_at,
    )
    # without the quota in the model the forecast would have said 23:41, twenty minutes early
    assert early.eta > dt.datetime(2026, 11, 3, tzinfo=dt.UTC)


def test_the_sync_command_shows_the_same_done_by_as_the_page(clock, connections, settings):
    settings.SYNCRO_TENANT_READ_SHARE_PER_MINUTE = 10
    settings.RATE_LIMIT_MAX_WAIT_SECONDS = 90
    pages = dict(SandboxConfig().syncro_page_sizes, tickets=10)
    sandbox = make_sandbox(START, syncro_page_sizes=pages)
    settings.CONNECTORS_TRANSPORT = lambda: SlowVendor(sandbox.transport(), clock, LATENCY)
    err = io.StringIO()
    try:
        call_command(
            "sync",
            "--vendor",
            "syncro",
            "--stream",
            "tickets",
            "--full",
            stdout=io.StringIO(),
            stderr=err,
        )
    finally:
        sandbox.close()
    run = SyncRun.objects.get(stream__resource="tickets")
    assert run.status == "succeeded" and run.progress_total == 30
    text = err.getvalue()
    # the bar counts the vendor's pages and carries the forecast from the first page on
    assert "tickets 1/30 pages · 10/min · done by 09:0" in text
    assert "tickets 30/30 pages" in text
    assert f"done by {run.finished_at:%H:%M} UTC" in text
    assert "<00:" not in text  # no second, extrapolated "remaining" figure from tqdm
