"""Sync engine benchmarks against the in-process vendor sandbox (issue 4 §8).

(a) records mirrored per second (Syncro tickets, full sweep) vs a naive loop of one
    ``update_or_create`` per record over the same pages, measured in the same run;
(b) sandbox Syncro limit set to 600/min for one minute: requests sent / allowed budget, 429s;
(c) requests of an incremental sync after 1 % of tickets changed vs ceil(changes / page size);
(d) peak Python memory (tracemalloc) of a 10 000- and a ``BENCH_SCALE``-record sync, under
    production settings (``DEBUG`` off: no query log), the 10 000 one as baseline;
(requests per incremental per vendor: ``vendor_requests_bench.py``).

Sizes: ``BENCH_SYNC_RECORDS`` (default ``BENCH_SCALE``, 100 000) tickets; the naive baseline
runs on the first ``BENCH_SYNC_BASELINE`` (default 10 000) records because it is slow; rates
are compared. (a), (c), (d) share one generated sandbox. ``BENCH_RUNS`` repeats (a) and (d).
"""

from __future__ import annotations

import contextlib
import math
import os
import time
import tracemalloc

from benchmarks.env import Sample, print_figures, runs, scale

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


def bench_throughput(sb, records: int, baseline_records: int) -> tuple[list[tuple], object]:
    """(a) rows, and the connection of the last engine run (fully synced, for (c))."""
    from connectors.services import connection_client, connection_sync_now
    from connectors.syncro.mapping import map_ticket
    from connectors.syncro.models import SyncroTicket

    _setup_limits(10**7, 0)
    rates, seconds = [], []
    for _ in range(runs()):
        connection = _world("bench-a")
        started = time.perf_counter()
        [run] = connection_sync_now(
            connection, mode="full", resources=["tickets"], transport=sb.transport()
        )
        seconds.append(time.perf_counter() - started)
        assert run.status == "succeeded", run.error
        rates.append(run.created / seconds[-1])

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
    naive_rate = done / (time.perf_counter() - started)
    now = Sample(tuple(rates))
    return [
        (
            f"(a) full sync of {run.created:,} tickets (engine, in-process sandbox)",
            now.text(" rec/s", digits=0) + f" ({Sample(tuple(seconds)).text(' s', digits=1)})",
            f"update_or_create per record ({done:,}): {naive_rate:,.0f} rec/s",
            f"{now.median / naive_rate:.1f}x",
            ">= 0.5 of a plain executemany upsert (upsert bench)",
        ),
    ], connection


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
            "(b) rate-limit conformance, Syncro at 600/min",
            f"{sent} sent in {elapsed:.0f} s, {throttled} x 429",
            f"budget {allowed:.0f}",
            f"{sent / allowed:.2f} of budget",
            "all of the budget, 0 x 429",
        ),
    ]


def bench_incremental(sb, connection, records: int) -> list[tuple]:
    """(c) on ``connection``, fully synced from ``sb`` (the sandbox is left changed)."""
    from connectors.models import SyncStream
    from connectors.sandbox.clock import iso_z
    from connectors.sandbox.syncro.records import K_TICKET
    from connectors.services import connection_sync_now

    _setup_limits(10**7, 0)
    hw = SyncStream.objects.get(connection=connection, resource="tickets").high_water
    sb.clock.advance(600)
    changes = max(1, records // 100)
    # touch 1 % of the tickets the way the vendor would (updated_at = now)
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
    assert hw is not None
    return [
        (
            "(c) Syncro tickets: incremental after 1 % changed",
            f"{run.requests} requests ({changes:,} changed, {run.updated:,} written)",
            f"ideal ceil({changes:,} / {page_size}) = {ideal}",
            f"{run.requests / ideal:.2f}x ideal",
            "1.0x ideal (+1 for the empty last page at most)",
        ),
    ]


def bench_memory(sb, records: int) -> tuple[float, int, float]:
    """Peak traced MiB of a full ticket sync from ``sb``, records, seconds (traced)."""
    from connectors.services import connection_sync_now

    _setup_limits(10**7, 0)
    connection = _world(f"bench-d-{records}")
    tracemalloc.start()
    started = time.perf_counter()
    [run] = connection_sync_now(
        connection, mode="full", resources=["tickets"], transport=sb.transport()
    )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20, run.created, time.perf_counter() - started


def memory_rows(big_sb, records: int) -> list[tuple]:
    from django.conf import settings

    small_n = min(10_000, records)
    small_sb = _sandbox(small_n, seed=14) if records > small_n else big_sb
    small = Sample(tuple(bench_memory(small_sb, small_n)[0] for _ in range(runs())))
    if small_sb is not big_sb:
        small_sb.close()
    if records <= small_n:
        big = small
    else:
        big = Sample(tuple(bench_memory(big_sb, records)[0] for _ in range(runs())))
    mode = "DEBUG off" if not settings.DEBUG else "DEBUG ON (query log counted)"
    return [
        (
            f"(d) peak memory of a {records:,}-ticket sync ({mode})",
            big.text(" MiB", digits=1),
            f"{small_n:,}-ticket sync: {small.text(' MiB', digits=1)}",
            f"{big.median / small.median:.2f}x for {records // small_n}x the records",
            "flat (about 1x), production settings",
        )
    ]


def main() -> None:
    records = int(os.environ.get("BENCH_SYNC_RECORDS") or scale())
    baseline = int(os.environ.get("BENCH_SYNC_BASELINE", "10000"))
    started = time.perf_counter()
    sb = _sandbox(records, seed=11)
    print(f"generated the {records:,}-ticket sandbox in {time.perf_counter() - started:.0f} s")
    rows: list[tuple] = []
    throughput, synced = bench_throughput(sb, records, baseline)
    rows += throughput
    rows += memory_rows(sb, records)
    rows += bench_incremental(sb, synced, records)
    sb.close()
    rows += bench_rate_limit(float(os.environ.get("BENCH_RATE_SECONDS", "60")))
    print_figures("Sync engine (in-process sandbox)", sorted(rows, key=lambda r: r[0]))
