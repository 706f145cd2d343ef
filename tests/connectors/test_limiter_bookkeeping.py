"""The limiter's bookkeeping off the hot path (issue 14, item 3): one check of the shared store
per request whatever the number of buckets, usage counted in memory and flushed in batches
without losing a request, a fixed number of database queries for any number of requests, and
`RequestUsage` indexed by (connection, minute) and pruned after the retention period."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import time_machine
from django.core.management import call_command
from django.db import connection as database
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pyrate_limiter import Duration, Rate

from connectors import ratelimit, usage
from connectors.demo import seed_connections
from connectors.errors import RateLimited
from connectors.limitstore import SQLiteStore
from connectors.models import LimitState, RequestUsage
from connectors.ratelimit import ConnectionGate
from connectors.services import connection_sync_now

ROOT = Path(__file__).resolve().parents[2]
OK = httpx.Response(200)


@pytest.fixture
def batched(settings):
    """Flushes only when asked: nothing is written by size or age during a test."""
    settings.RATE_LIMIT_USAGE_FLUSH_REQUESTS = 10_000
    settings.RATE_LIMIT_USAGE_FLUSH_SECONDS = 3600
    settings.RATE_LIMIT_STATE_REFRESH_SECONDS = 3600
    return settings


def send(gate: ConnectionGate, n: int, *, kind: str = "read", response=OK) -> None:
    for _ in range(n):
        gate.before(method="GET", path="tickets", kind=kind)
        gate.after(response, method="GET", kind=kind)


def written(connection) -> tuple[int, int]:
    totals = RequestUsage.objects.filter(connection=connection).aggregate(
        n=Sum("requests"), t=Sum("throttled")
    )
    return totals["n"] or 0, totals["t"] or 0


def test_background_reads_are_counted_in_memory_and_flushed_exactly(db, syncro_connection, batched):
    gate = ConnectionGate(syncro_connection, "tok", batch_usage=True)
    send(gate, 7)
    assert written(syncro_connection) == (0, 0)
    assert usage.pending() == 7
    gate.flush()
    assert written(syncro_connection) == (7, 0)
    assert usage.pending() == 0
    send(gate, 5)
    gate.flush()
    assert written(syncro_connection) == (12, 0)  # added to this minute's row, not replaced


def test_the_tally_is_written_every_n_requests(db, syncro_connection, batched):
    batched.RATE_LIMIT_USAGE_FLUSH_REQUESTS = 5
    gate = ConnectionGate(syncro_connection, "tok", batch_usage=True)
    send(gate, 12)
    assert written(syncro_connection) == (10, 0)
    assert usage.pending() == 2


def test_a_429_a_write_and_an_unbatched_gate_are_written_at_once(db, syncro_connection, batched):
    gate = ConnectionGate(syncro_connection, "tok", batch_usage=True)
    send(gate, 1, kind="write")
    assert written(syncro_connection) == (1, 0)
    gate.after(httpx.Response(429, headers={"Retry-After": "1"}), method="GET", kind="read")
    assert written(syncro_connection) == (2, 1)
    LimitState.objects.all().delete()  # the pause of the 429
    send(ConnectionGate(syncro_connection, "tok"), 2)  # a webhook refresh, a status check
    assert written(syncro_connection) == (4, 1)


def test_a_failed_flush_keeps_the_tally(db, syncro_connection, batched, monkeypatch):
    send(ConnectionGate(syncro_connection, "tok", batch_usage=True), 3)

    def broken(*args):
        raise RuntimeError("database gone")

    monkeypatch.setattr(usage, "_add", broken)
    with pytest.raises(RuntimeError):
        usage.flush()
    assert usage.pending() == 3
    monkeypatch.undo()
    usage.flush()
    assert written(syncro_connection) == (3, 0)


def test_nothing_counted_is_lost_at_the_end_of_a_sync(world, sandbox, batched):
    made = seed_connections(world.tenant, {}, root="http://sandbox.invalid")
    connection = {c.vendor: c for c in made}["syncro"]
    runs = connection_sync_now(connection, mode="full", transport=sandbox.transport())
    sent = sum(r.requests for r in runs)
    assert sent > 10
    assert usage.pending() == 0
    assert written(connection)[0] == sent


def test_a_fixed_number_of_queries_for_any_number_of_requests(db, syncro_connection, batched):
    def queries(n: int) -> int:
        gate = ConnectionGate(syncro_connection, "tok", batch_usage=True)
        with CaptureQueriesContext(database) as captured:
            send(gate, n)
            gate.flush()
        return len(captured.captured_queries)

    with time_machine.travel(dt.datetime(2026, 5, 1, 9, 0, 30, tzinfo=dt.UTC), tick=False):
        queries(1)  # this minute's row exists from here on
        few, many = queries(5), queries(50)
    assert few == many  # not proportional to the requests
    assert many <= 3  # the shared state read once, one UPDATE (or INSERT) of the minute's row


def test_one_check_of_the_store_per_request_for_three_buckets(db, syncro_connection, batched):
    gate = ConnectionGate(syncro_connection, "tok", batch_usage=True)
    assert len(gate.scopes("read")) == 3  # Syncro: tenant reads, all reads, egress
    store = ratelimit.shared_store()
    assert isinstance(store, SQLiteStore)
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    send(gate, 10)
    store.conn.set_trace_callback(None)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 10  # one SELECT of every bucket's count per request
    assert sum("INSERT" in s for s in statements) == 30  # recorded in the three buckets


def test_a_request_refused_by_one_bucket_is_charged_to_none(db, syncro_connection, settings):
    settings.SYNCRO_RATE_BUDGET_PER_MINUTE = 2
    settings.SYNCRO_WRITE_RESERVE_PER_MINUTE = 0
    gate = ConnectionGate(syncro_connection, "tok", max_wait=0)
    send(gate, 2, kind="write")  # the egress budget is spent by writes
    with pytest.raises(RateLimited):
        gate.before(method="GET", path="tickets", kind="read")
    store = ratelimit.shared_store()
    counts = {
        scope: store.bucket(ratelimit._table_name(scope), rates).count()
        for scope, rates in gate.scopes("read")
    }
    assert list(counts.values()) == [0, 0, 2]  # tenant reads, all reads untouched; egress full


def test_a_changed_limit_setting_applies_to_the_same_scope_at_once(db, syncro_connection, settings):
    """Buckets are cached per scope and rates: a budget raised after the scope's first request
    (an admin change, a test's settings) is checked at once, on the entries already recorded."""
    settings.SYNCRO_RATE_BUDGET_PER_MINUTE = 2
    settings.SYNCRO_WRITE_RESERVE_PER_MINUTE = 0
    send(ConnectionGate(syncro_connection, "tok", max_wait=0), 2)
    with pytest.raises(RateLimited):
        ConnectionGate(syncro_connection, "tok", max_wait=0).before(
            method="GET", path="tickets", kind="read"
        )
    settings.SYNCRO_RATE_BUDGET_PER_MINUTE = 10
    gate = ConnectionGate(syncro_connection, "tok", max_wait=0)
    send(gate, 3)  # room under the new budget, though the scope's bucket was made for 2
    egress = gate.scopes("read")[-1]
    assert ratelimit.shared_store().bucket(ratelimit._table_name(egress[0]), egress[1]).count() == 5


def test_prune_deletes_rows_older_than_the_retention_and_keeps_newer(
    db, syncro_connection, settings
):
    settings.REQUEST_USAGE_RETENTION_DAYS = 30
    now = timezone.now().replace(second=0, microsecond=0)
    for days in (45, 31, 29, 0):
        RequestUsage.objects.create(
            scope="s", connection=syncro_connection, minute=now - dt.timedelta(days=days)
        )
    assert usage.prune_usage(now=now) == 2
    kept = sorted((now - r.minute).days for r in RequestUsage.objects.all())
    assert kept == [0, 29]
    call_command("prune_usage", "--days", "10", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert [(now - r.minute).days for r in RequestUsage.objects.all()] == [0]


def test_the_prune_is_scheduled_nightly(db):
    from django_q.models import Schedule

    row = Schedule.objects.get(name="usage:prune")
    assert row.func == "connectors.tasks.prune_usage" and row.minutes == 24 * 60


def test_request_usage_is_indexed_by_connection_and_minute(db):
    with database.cursor() as cursor:
        constraints = database.introspection.get_constraints(cursor, RequestUsage._meta.db_table)
    indexed = [c["columns"] for c in constraints.values() if c["index"]]
    assert ["connection_id", "minute"] in indexed


WORKER = """
import sys, time
import django
django.setup()
from pyrate_limiter import Duration, Rate
from connectors.errors import RateLimited
from connectors.ratelimit import take_all
scopes = [("test:wide", [Rate(1000, Duration.MINUTE)]), ("test:shared", [Rate(25, Duration.MINUTE)])]
granted = 0
for _ in range(int(sys.argv[1])):
    try:
        take_all(scopes, deadline=time.monotonic())
        granted += 1
    except RateLimited:
        pass
print(granted)
"""


def test_two_processes_never_take_more_than_the_tightest_shared_bucket(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "RATE_LIMIT_SQLITE_PATH": str(tmp_path / "ratelimit.sqlite"),
        "RATE_LIMIT_REDIS_URL": "",
        "FIELDLINE_VAR_DIR": str(tmp_path),
        "DEBUG": "true",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DATABASE_URL", None)
    procs = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", WORKER, "40"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    granted = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        granted.append(int(out.strip().splitlines()[-1]))
    assert sum(granted) == 25  # 80 attempts, the tightest bucket allows 25 a minute
    store = SQLiteStore(str(tmp_path / "ratelimit.sqlite"))
    wide = store.bucket(ratelimit._table_name("test:wide"), [Rate(1000, Duration.MINUTE)])
    assert wide.count() == 25  # refused attempts were charged to no bucket


def test_with_no_refresh_interval_the_shared_state_is_read_before_every_request(
    db, syncro_connection, batched
):
    batched.RATE_LIMIT_STATE_REFRESH_SECONDS = 0
    gate = ConnectionGate(syncro_connection, "tok", batch_usage=True)
    with CaptureQueriesContext(database) as captured:
        send(gate, 3)
    assert len(captured.captured_queries) == 3  # the query the interval saves
