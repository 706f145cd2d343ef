"""Requests per scheduled incremental sync, per vendor, and per day (issue 14 item 1's figure).

Every stream of the three vendors is fully synced from an in-process sandbox of
``BENCH_VENDOR_RECORDS`` records (default: ``BENCH_SCALE`` up to 5 000: the full sync of Syncro
comments is one request per ticket, so 100 000 takes about half an hour), then the sandbox clock moves
on 10 minutes, the vendors change 20 records (``Sandbox.churn``) and one scheduled incremental
runs, exactly as the incremental schedule would start it (whatever streams it picks). The
requests are counted by the sandbox (every request it received, retries included).

Per day: ``1440 / incremental interval`` incrementals plus the nightly full sync as measured
here (the full sync's requests), against the Synchroteam daily quota; and, when the sync engine
has a forecast of requests per day under the default schedules (``connectors.forecast``), its
figure next to this one.

    BENCH_VENDOR_RECORDS=100000 python -m benchmarks vendor_requests
"""

from __future__ import annotations

import math
import os
import time

from benchmarks.env import print_figures, scale

IN_PROCESS = "http://sandbox.invalid"
FORECAST_NAMES = ("requests_per_day", "daily_requests", "forecast_requests_per_day")


def _limits_off() -> None:
    from django.conf import settings

    from connectors import ratelimit

    for name in dir(settings):
        if name.endswith(("_RATE_BUDGET_PER_MINUTE", "_RATE_LIMIT_PER_MINUTE")):
            setattr(settings, name, 10**7)
    settings.SYNCRO_TENANT_READ_SHARE_PER_MINUTE = 10**7
    settings.SYNCRO_WRITE_RESERVE_PER_MINUTE = 0
    settings.SYNCHROTEAM_DAILY_QUOTA = 10**9
    ratelimit.reset_buckets()


def _forecast_function():
    """The engine's requests-per-day forecast, if it has one (None otherwise)."""
    try:
        from connectors import forecast
    except ImportError:
        return None
    for name in FORECAST_NAMES:
        if callable(getattr(forecast, name, None)):
            return getattr(forecast, name)
    return None


def main() -> None:
    from django.conf import settings

    from accounts.models import Tenant
    from connectors.demo import seed_connections
    from connectors.models import SyncRun
    from connectors.sandbox import Sandbox, SandboxConfig
    from connectors.services import connection_sync_now

    n = int(os.environ.get("BENCH_VENDOR_RECORDS") or min(scale(), 5_000))
    quota = settings.SYNCHROTEAM_DAILY_QUOTA
    _limits_off()
    sb = Sandbox.create(seed=15, scale=n, config=SandboxConfig.unlimited(), frozen=True)
    tenant = Tenant.objects.create(name="bench-requests", slug=f"bench-requests-{time.time_ns()}")
    connections = {c.vendor: c for c in seed_connections(tenant, {}, root=IN_PROCESS)}
    full, incremental, seconds = {}, {}, {}
    for vendor, connection in connections.items():
        before = sb.request_counts().get(vendor, 0)
        started = time.perf_counter()
        runs = connection_sync_now(connection, mode="full", transport=sb.transport())
        seconds[vendor] = time.perf_counter() - started
        failed = [r for r in runs if r.status != SyncRun.Status.SUCCEEDED]
        assert not failed, [(r.stream.resource, r.status, r.error) for r in failed]
        full[vendor] = sb.request_counts().get(vendor, 0) - before
    sb.clock.advance(600)
    sb.churn(20)
    per_stream: dict[str, dict[str, int]] = {}
    from connectors.schedules import scheduled_resources

    for vendor, connection in connections.items():
        before = sb.request_counts().get(vendor, 0)
        resources = scheduled_resources(connection, "incremental")  # what the schedule runs
        runs = (
            connection_sync_now(
                connection,
                mode=SyncRun.Mode.INCREMENTAL,
                trigger=SyncRun.Trigger.SCHEDULE,
                resources=resources,
                transport=sb.transport(),
            )
            if resources
            else []
        )
        incremental[vendor] = sb.request_counts().get(vendor, 0) - before
        per_stream[vendor] = {r.stream.resource: r.requests for r in runs}
    sb.close()
    forecast_fn = _forecast_function()
    rows = []
    for vendor, connection in connections.items():
        every = connection.incremental_every.total_seconds() / 60 or 10
        per_day = math.ceil(1440 / every) * incremental[vendor] + full[vendor]
        costly = sorted(per_stream[vendor].items(), key=lambda kv: -kv[1])[:3]
        against = f"Synchroteam quota {quota:,}/day" if vendor == "synchroteam" else "-"
        share = f"{per_day / quota:.2f} of the quota" if vendor == "synchroteam" else "-"
        rows.append(
            (
                f"(e) {vendor}: requests per scheduled incremental ({n:,} records)",
                f"{incremental[vendor]:,} (most: " + ", ".join(f"{k} {v}" for k, v in costly) + ")",
                f"full sync: {full[vendor]:,} requests in {seconds[vendor]:.0f} s",
                f"{incremental[vendor] / full[vendor]:.3f} of a full sync",
                "tens of requests",
            )
        )
        rows.append(
            (
                f"(e) {vendor}: requests per day, every {every:.0f} min + nightly full",
                f"{per_day:,}",
                against,
                share,
                "<= 1/3 of the Synchroteam quota" if vendor == "synchroteam" else "-",
            )
        )
    print_figures("Requests per incremental sync and per day, per vendor", rows)
    if forecast_fn is None:
        print(
            "connectors.forecast has no requests-per-day forecast "
            f"({' / '.join(FORECAST_NAMES)}): skipped; the per-day rows above are measured"
        )
    else:
        for vendor, connection in connections.items():
            try:
                print(f"forecast {forecast_fn.__name__}({vendor}): {forecast_fn(connection)}")
            except TypeError as exc:  # a different signature than expected: say so, go on
                print(f"forecast {forecast_fn.__name__} could not be called: {exc}")
