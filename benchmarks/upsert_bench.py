"""The mirror upsert (issue 14 Build 2 and 5), measured with ``DEBUG`` off.

(a) A full sweep of Syncro tickets through the engine (`connectors.sync.run_stream`: mapping,
    the page transaction of `connectors.sync_page`, the fixed upsert of `connectors.upsert`),
    fed pre-fetched vendor pages (no HTTP, no rate limiter: the product's database side), against
    the issue's baseline: a plain ``executemany INSERT … ON CONFLICT DO UPDATE`` of the same
    rows (already converted) in 50-row transactions. Two sweeps: into an empty mirror
    (inserts), then again with nothing changed (the baseline rewrites every row; the upsert's
    ``WHERE`` skips them). On PostgreSQL each ``SYNC_PG_UPSERT`` method is measured: executemany
    with server-side binding (default), COPY to a temporary table and one merge, and Django's
    client-side-binding cursor.
(b) The windowed comment-deletion query of a full sweep (`connectors.sync.deletion_candidates`,
    correlated ``NOT EXISTS``) against the previous ``NOT IN`` form of the same query, at
    ``BENCH_DELETION_TICKETS`` tickets with one comment each (default 1 000 000 on PostgreSQL,
    100 000 on SQLite; the ``NOT IN`` baseline runs at 100 000 and, on PostgreSQL, at the full
    size under a ``BENCH_DELETION_TIMEOUT`` (default 60 s) statement timeout).

Sizes: ``BENCH_UPSERT_RECORDS`` (default 20 000) tickets.
"""

from __future__ import annotations

import datetime as dt
import os
import time

from benchmarks.env import print_table

IN_PROCESS = "http://sandbox.invalid"
_worlds = {"n": 0}


def _world(name: str):
    from accounts.models import Tenant
    from connectors.demo import seed_connections

    _worlds["n"] += 1
    slug = f"{name}-{_worlds['n']}"
    tenant = Tenant.objects.create(name=slug, slug=slug)
    return {c.vendor: c for c in seed_connections(tenant, {}, root=IN_PROCESS)}["syncro"]


class PrefetchedClient:
    """A Syncro client that answers ``list_page`` from pages fetched before the clock starts."""

    gate = None

    def __init__(self, pages: list) -> None:
        self.pages = pages

    def list_page(self, resource: str, *, page: int = 1, params: dict | None = None):
        return self.pages[page - 1]


def _prefetch(records: int) -> list:
    from connectors.ratelimit import reset_buckets
    from connectors.sandbox import Sandbox, SandboxConfig
    from connectors.services import connection_client

    reset_buckets()
    sb = Sandbox.create(seed=14, scale=records, config=SandboxConfig.unlimited())
    client, _ = connection_client(_world("upsert-fetch"), gate=False, transport=sb.transport())
    pages, number = [], 1
    while number is not None:
        page = client.list_page("tickets", page=number, params={})
        pages.append(page)
        number = page.next_page
    sb.close()
    return pages


def _engine_sweep(connection, client) -> tuple[float, object]:
    from connectors.models import SyncRun
    from connectors.sync import ensure_streams, run_stream

    [stream] = ensure_streams(connection, ["tickets"])
    run = SyncRun.objects.create(
        tenant=connection.tenant, connection=connection, stream=stream, mode="full"
    )
    started = time.perf_counter()
    run = run_stream(run, client)
    took = time.perf_counter() - started
    assert run.status == "succeeded", run.error
    return took, run


def _baseline_rows(connection, pages) -> tuple[str, list[tuple]]:
    """The plain statement (every column rewritten, no ``WHERE``) and its converted rows."""
    from django.db import connection as db
    from django.utils import timezone

    from connectors.syncro.mapping import map_ticket
    from connectors.syncro.models import SyncroTicket
    from connectors.upsert import CONFLICT_COLUMNS, build_rows, statement_for

    statement = statement_for(SyncroTicket)
    q = db.ops.quote_name
    good = {}
    for page in pages:
        for record in page.records:
            values = map_ticket(record)
            good[values["vendor_id"]] = (values, record)
    engine = {
        "tenant": connection.tenant_id,
        "connection": connection.pk,
        "synced_at": timezone.now(),
        "is_deleted": False,
        "deleted_at": None,
        "seen_generation": 1,
    }
    rows = build_rows(statement, good, engine)
    keys = {"tenant_id", *CONFLICT_COLUMNS}
    sets = ", ".join(
        f"{q(f.column)} = excluded.{q(f.column)}" for f in statement.fields if f.column not in keys
    )
    sql = (
        f"INSERT INTO {statement.table} ({statement.columns}) "  # noqa: S608 - model's columns
        f"VALUES ({', '.join(['%s'] * len(statement.fields))}) "
        f"ON CONFLICT ({', '.join(q(c) for c in CONFLICT_COLUMNS)}) DO UPDATE SET {sets}"
    )
    return sql, rows


def _baseline_sweep(sql: str, rows: list[tuple]) -> float:
    from django.db import connection as db
    from django.db import transaction

    started = time.perf_counter()
    for i in range(0, len(rows), 50):
        with transaction.atomic(), db.cursor() as cursor:
            cursor.executemany(sql, rows[i : i + 50])
    return time.perf_counter() - started


def bench_upsert(records: int) -> list[tuple]:
    from django.conf import settings
    from django.db import connection as db

    pages = _prefetch(records)
    n = sum(len(p.records) for p in pages)
    base_conn = _world("upsert-plain")
    sql, rows = _baseline_rows(base_conn, pages)
    base_insert = _baseline_sweep(sql, rows)
    base_again = _baseline_sweep(sql, rows)
    out = [
        ("plain executemany upsert, 50-row tx", "insert", n, base_insert, n / base_insert, 1.0),
        ("plain executemany upsert, 50-row tx", "unchanged", n, base_again, n / base_again, 1.0),
    ]
    methods = ["executemany", "copy", "client"] if db.vendor == "postgresql" else ["sqlite"]
    for method in methods:
        settings.SYNC_PG_UPSERT = method
        connection = _world(f"upsert-{method}")
        client = PrefetchedClient(pages)
        took, run = _engine_sweep(connection, client)
        assert run.created == n, (run.created, n)
        again, run2 = _engine_sweep(connection, client)
        assert run2.unchanged == n, (run2.unchanged, n)
        label = f"engine full sweep ({method})"
        out.append((label, "insert", n, took, n / took, base_insert / took))
        out.append((label, "unchanged", n, again, n / again, base_again / again))
    settings.SYNC_PG_UPSERT = "executemany"
    return [(a, b, c, f"{d:.2f} s", f"{e:,.0f} rec/s", f"{f:.2f}x") for a, b, c, d, e, f in out]


# --- (b) the windowed deletion query ---------------------------------------------------------


def _series(db, n: int) -> tuple[str, str]:
    """``(prefix, source)`` producing ``g`` = 1..n in an ``INSERT … SELECT``."""
    if db.vendor == "postgresql":
        return "", f"generate_series(1, {int(n)}) AS s(g)"
    return (
        f"WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {int(n)}) ",  # noqa: S608
        "s",
    )


def _fill(model, connection, n: int, expressions: dict[str, str]) -> None:
    """Insert `n` rows of `model` for `connection` in one statement: `expressions` give SQL of
    ``g`` per column, the rest take the converted field default."""
    from django.db import connection as db
    from django.db import transaction

    from connectors.upsert import statement_for

    statement = statement_for(model)
    exprs, params = [], []
    fixed = {"tenant_id": connection.tenant_id, "connection_id": connection.pk}
    for i, (f, default) in enumerate(zip(statement.fields, statement.defaults, strict=True)):
        if i in statement.per_row_defaults:
            default = statement.converters[i](f.get_default())  # synced_at: now
        if f.column in expressions:
            exprs.append(expressions[f.column])
        elif f.column in fixed:
            exprs.append("%s")
            params.append(fixed[f.column])
        else:
            exprs.append("%s")
            params.append(default if f.column not in {"raw", "custom_fields"} else "{}")
    prefix, source = _series(db, n)
    with transaction.atomic(), db.cursor() as cursor:
        cursor.execute(
            f"{prefix}INSERT INTO {statement.table} ({statement.columns}) "  # noqa: S608
            f"SELECT {', '.join(exprs)} FROM {source}",
            params,
        )


def _deletion_world(n: int):
    """`n` tickets (vendor_updated_at spread over a year, 1 in 50 deleted) with one comment
    each; comments of tickets active in the last 30 days were seen by sweep 2, the rest not."""
    from django.db import connection as db

    from connectors.syncro.models import SyncroTicket, SyncroTicketComment

    connection = _world("deletion")
    if db.vendor == "postgresql":
        ago = "(now() - make_interval(days => (g %% 365)::int))"
    else:
        ago = "strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now', '-' || (g %% 365) || ' days')"
    _fill(
        SyncroTicket,
        connection,
        n,
        {
            "vendor_id": "g",
            "vendor_updated_at": ago,
            "number": "CAST(g AS TEXT)" if db.vendor != "postgresql" else "g::text",
            "is_deleted": "(g %% 50 = 0)",
        },
    )
    _fill(
        SyncroTicketComment,
        connection,
        n,
        {
            "vendor_id": "g",
            "ticket_vendor_id": "g",
            "seen_generation": "(CASE WHEN g %% 365 < 30 THEN 2 ELSE 1 END)",
        },
    )
    return connection


def _not_in_candidates(spec, connection, generation, parents_since):
    """The query as it was before issue 14 (``NOT IN`` subqueries), for the baseline."""
    alive = spec.model.objects.filter(connection=connection, is_deleted=False)
    visited = spec.parents(connection, parents_since).values("vendor_id")
    skipped = spec.parents(connection, None).exclude(vendor_id__in=visited)
    judged = alive.exclude(**{f"{spec.parent_field}__in": skipped.values("vendor_id")})
    return alive, judged.filter(seen_generation__lt=generation)


def _time_count(candidates, spec, connection, timeout: float | None) -> tuple[str, int | None]:
    from django.db import connection as db
    from django.db import transaction
    from django.utils import timezone

    since = timezone.now() - dt.timedelta(days=30)
    _, missing = candidates(spec, connection, 2, since)
    with transaction.atomic():
        if timeout and db.vendor == "postgresql":
            with db.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {int(timeout * 1000)}")
        started = time.perf_counter()
        try:
            count = missing.count()
        except Exception as exc:  # the statement timeout
            if "statement timeout" not in str(exc):
                raise
            return f"> {timeout:.0f} s (timed out)", None
    return f"{time.perf_counter() - started:.2f} s", count


def bench_deletion(n: int, timeout: float) -> list[tuple]:
    from django.db import connection as db

    from connectors.sync import deletion_candidates
    from connectors.vendors import vendor_for

    spec = vendor_for("syncro").stream("ticket_comments")
    out = []
    sizes = sorted({min(n, 100_000), n})
    for size in sizes:
        connection = _deletion_world(size)
        if db.vendor == "postgresql":
            with db.cursor() as cursor:
                cursor.execute("ANALYZE")
        new, count_new = _time_count(deletion_candidates, spec, connection, None)
        run_old = size <= 100_000 or db.vendor == "postgresql"
        old, count_old = (
            _time_count(_not_in_candidates, spec, connection, timeout)
            if run_old
            else ("not run", None)
        )
        same = "yes" if count_old is None or count_old == count_new else f"NO ({count_old})"
        out.append((f"{size:,} tickets", new, old, count_new, same))
    return out


def main() -> None:
    from django.conf import settings
    from django.db import connection as db

    settings.DEBUG = False  # production settings: no query log
    records = int(os.environ.get("BENCH_UPSERT_RECORDS", "20000"))
    default_n = 1_000_000 if db.vendor == "postgresql" else 100_000
    n = int(os.environ.get("BENCH_DELETION_TICKETS", str(default_n)))
    timeout = float(os.environ.get("BENCH_DELETION_TIMEOUT", "60"))
    print_table(
        f"(a) upsert on {db.vendor}, {records:,} Syncro tickets, DEBUG off "
        "(ratio = the engine's rate / the plain upsert's, same rows, same run)",
        ["what", "sweep", "records", "time", "rate", "ratio"],
        bench_upsert(records),
    )
    if not n:
        return
    print_table(
        f"(b) windowed comment-deletion query on {db.vendor} (30-day window, one comment per "
        "ticket)",
        ["size", "NOT EXISTS (now)", "NOT IN (before)", "missing", "same result"],
        bench_deletion(n, timeout),
    )
