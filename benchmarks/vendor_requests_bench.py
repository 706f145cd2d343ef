"""Requests per scheduled incremental sync, per vendor, and per day (issue 14 item 1's figure).

Every stream of the three vendors is fully synced from an in-process sandbox of
``BENCH_VENDOR_RECORDS`` records (default: ``BENCH_SCALE`` up to 5 000: the full sync of Syncro
comments is one request per ticket, so 100 000 takes about half an hour), then the sandbox clock moves
on 10 minutes, the vendors change 20 records (``Sandbox.churn``) and one scheduled incremental
runs, exactly as the incremental schedule would start it (whatever streams it picks). The
requests are counted by the sandbox (every request it received, retries included).

Per day: ``1440 / incremental interval`` incrementals plus the nightly full sync as measured
here (the full sync's requests), against the Synchroteam daily quota, next to the forecast the
Integrations page shows from the same run history (`connectors.budget.connection_budget`).

    BENCH_VENDOR_RECORDS=100000 python -m benchmarks vendor_requests
"""

from __future__ import annotations

import math
import os
import time

from benchmarks.env import print_figures, scale

IN_PROCESS = "http://sandbox.invalid"


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
    from connectors.budget import connection_budget

    rows = []
    for vendor, connection in connections.items():
        every = connection.incremental_every.total_seconds() / 60 or 10
        per_day = math.ceil(1440 / every) * incremental[vendor] + full[vendor]
        costly = sorted((kv for kv in per_stream[vendor].items() if kv[1]), key=lambda kv: -kv[1])
        most = ", ".join(f"{k} {v}" for k, v in costly[:3]) or "no stream asked"
        forecast = connection_budget(connection).per_day
        against = f"Integrations page forecast {forecast:,}" + (
            f"; Synchroteam quota {quota:,}/day" if vendor == "synchroteam" else ""
        )
        share = f"{per_day / quota:.2f} of the quota" if vendor == "synchroteam" else "-"
        rows.append(
            (
                f"(e) {vendor}: requests per scheduled incremental ({n:,} records)",
                f"{incremental[vendor]:,} (most: {most})",
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
