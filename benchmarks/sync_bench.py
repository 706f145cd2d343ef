"""Sync engine benchmarks against the in-process vendor sandbox (issue 4 §8).

(a) records mirrored per second (Syncro tickets, full sweep) vs a naive loop of one
    ``update_or_create`` per record over the same pages, measured in the same run;
(b) sandbox Syncro limit set to 600/min for one minute: requests sent / allowed budget, 429s;
(c) requests of an incremental sync after 1 % of tickets changed vs ceil(changes / page size);
(d) peak Python memory (tracemalloc) of a 10 000- and a 100 000-record sync.

Sizes: ``BENCH_SYNC_RECORDS`` (default 100 000) tickets; the naive baseline runs on the first
``BENCH_SYNC_BASELINE`` (default 10 000) records because it is slow; rates are compared.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
import tracemalloc

from benchmarks.env import print_table

IN_PROCESS = "http://sandbox.invalid"


def _setup_limits(per_minute: int, reserve: int) -> None:
    from django.conf import settings

    from connectors import ratelimit

    settings.SYNCRO_RATE_BUDGET_PER_MINUTE = per_minute
    settings.SYNCRO_WRITE_RESERVE_PER_MINUTE = reserve
    settings.SYNCRO_TENANT_READ_SHARE_PER_MINUTE = per_minute
    settings.RATE_LIMIT_MAX_WAIT_SECONDS = 120
    ratelimit.reset_buckets()


_worlds = {"n": 0}


def _world(name: str):
    from accounts.models import Tenant
    from connectors.demo import seed_connections

    _worlds["n"] += 1
    slug = f"{name}-{_worlds['n']}"
    tenant = Tenant.objects.create(name=slug, slug=slug)
    return {c.vendor: c for c in seed_connections(tenant, {}, root=IN_PROCESS)}["syncro"]


def _sandbox(records: int, *, unlimited: bool = True, seed: int = 11):
    from connectors.sandbox import Sandbox, SandboxConfig

    config = SandboxConfig.unlimited() if unlimited else SandboxConfig()
    return Sandbox.create(seed=seed, scale=records, config=config)


def bench_throughput(records: int, baseline_records: int) -> list[tuple]:
    from connectors.services import connection_client, connection_sync_now
    from connectors.syncro.mapping import map_ticket
    from connectors.syncro.models import SyncroTicket

    _setup_limits(10**7, 0)
    sb = _sandbox(records)
    connection = _world("bench-a")
    started = time.perf_counter()
    [run] = connection_sync_now(
        connection, mode="full", resources=["tickets"], transport=sb.transport()
    )
    engine_s = time.perf_counter() - started
    assert run.status == "succeeded", run.error
    engine_rate = run.created / engine_s

    # baseline: the same HTTP pages, one update_or_create per record
    naive = _world("bench-a-naive")
    client, _ = connection_client(naive, transport=sb.transport())
    done = 0
    started = time.perf_counter()
    for page in client.iter_pages("tickets"):
        for record in page.records:
            values = map_ticket(record)
            vid = values.pop("vendor_id")
            SyncroTicket.objects.update_or_create(
                connection=naive,
                vendor_id=vid,
                defaults={**values, "tenant": naive.tenant, "raw": record},
            )
            done += 1
            if done >= baseline_records:
                break
        if done >= baseline_records:
            break
    naive_s = time.perf_counter() - started
    naive_rate = done / naive_s
    sb.close()
    return [
        (
            "(a) engine: bulk upsert per page",
            f"{run.created:,} records",
            f"{engine_s:.1f} s",
            f"{engine_rate:,.0f} rec/s",
            f"{engine_rate / naive_rate:.1f}x",
        ),
        (
            "(a) baseline: update_or_create per record",
            f"{done:,} records",
            f"{naive_s:.1f} s",
            f"{naive_rate:,.0f} rec/s",
            "1.0x",
        ),
    ]


def bench_rate_limit(seconds: float = 60.0) -> list[tuple]:
    from django.conf import settings

    from connectors.models import SyncRun
    from connectors.services import connection_sync_now

    limit = 600
    _setup_limits(10**7, 0)
    sb = _sandbox(5000, seed=12)
    connection = _world("bench-b")
    # the comment stream fans out over mirrored tickets: mirror them first, unthrottled
    connection_sync_now(connection, mode="full", resources=["tickets"], transport=sb.transport())
    settings.SYNCRO_EGRESS_ID = "bench-b"  # a fresh shared bucket for the measured minute
    _setup_limits(limit, 0)
    sb.configure(syncro_rate_limit_per_minute=limit)
    before = sb.request_counts().get("syncro", 0)
    started = time.monotonic()

    class Stop(Exception):
        pass

    def stop_after_a_minute(run):
        if time.monotonic() - started >= seconds:
            raise Stop

    with contextlib.suppress(Stop):
        connection_sync_now(
            connection,
            mode="full",
            resources=["ticket_comments"],
            transport=sb.transport(),
            on_page=stop_after_a_minute,
        )
    elapsed = time.monotonic() - started
    sent = sb.request_counts().get("syncro", 0) - before
    throttled = sum(
        SyncRun.objects.filter(connection=connection).values_list("throttled", flat=True)
    )
    sb.close()
    settings.SYNCRO_EGRESS_ID = "default"
    allowed = limit * elapsed / 60.0 if elapsed > 60 else limit
    return [
        (
            "(b) 600/min for one minute",
            f"{sent} sent in {elapsed:.0f} s",
            f"budget {allowed:.0f}",
            f"{sent / allowed:.2f} of budget",
            f"{throttled} × 429",
        ),
    ]


def bench_incremental(records: int) -> list[tuple]:
    from connectors.models import SyncStream
    from connectors.sandbox.syncro.records import K_TICKET
    from connectors.services import connection_sync_now

    _setup_limits(10**7, 0)
    sb = _sandbox(records, seed=13)
    connection = _world("bench-c")
    connection_sync_now(connection, mode="full", resources=["tickets"], transport=sb.transport())
    hw = SyncStream.objects.get(connection=connection, resource="tickets").high_water
    sb.clock.advance(600)
    changes = max(1, records // 100)
    # touch 1 % of the tickets the way the vendor would (updated_at = now)
    from connectors.sandbox.clock import iso_z

    now = iso_z(sb.clock.now(), millis=True)
    tickets = sb.store.select(K_TICKET, limit=changes)
    with sb.store.lock, sb.store.transaction():
        for t in tickets:
            t["subject"] = t["subject"] + " (edited)"
            t["updated_at"] = now
            sb.store.put(K_TICKET, t)
    [run] = connection_sync_now(connection, resources=["tickets"], transport=sb.transport())
    page_size = sb.config.syncro_page_sizes["tickets"]
    ideal = math.ceil(changes / page_size)
    sb.close()
    assert hw is not None
    return [
        (
            "(c) incremental after 1 % changed",
            f"{changes:,} changed, {run.updated:,} written",
            f"{run.requests} requests",
            f"ideal {ideal}",
            f"{run.requests / ideal:.2f}x ideal",
        ),
    ]


def bench_memory(records: int) -> tuple:
    from connectors.services import connection_sync_now

    _setup_limits(10**7, 0)
    sb = _sandbox(records, seed=14)
    connection = _world(f"bench-d-{records}")
    tracemalloc.start()
    started = time.perf_counter()
    [run] = connection_sync_now(
        connection, mode="full", resources=["tickets"], transport=sb.transport()
    )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    sb.close()
    return (
        f"(d) peak memory, {records:,}-record sync",
        f"{run.created:,} records",
        f"{time.perf_counter() - started:.1f} s (traced)",
        f"{peak / 2**20:.1f} MiB peak",
        "",
    )


def main() -> None:
    records = int(os.environ.get("BENCH_SYNC_RECORDS", "100000"))
    baseline = int(os.environ.get("BENCH_SYNC_BASELINE", "10000"))
    rows: list[tuple] = []
    rows += bench_throughput(records, baseline)
    rows += bench_rate_limit(float(os.environ.get("BENCH_RATE_SECONDS", "60")))
    rows += bench_incremental(records)
    rows.append(bench_memory(min(10_000, records)))
    if records > 10_000:
        rows.append(bench_memory(records))
    print_table(
        "Sync engine (in-process sandbox)",
        ["measure", "size", "time / sent", "result", "vs baseline"],
        rows,
    )
