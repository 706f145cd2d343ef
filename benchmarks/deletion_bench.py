"""The windowed comment-deletion query at scale (issue 14 item 5): the time of the sync engine's
``finish_sweep`` closing a full sweep of Syncro ticket comments that visited only the tickets
active in the window (``SYNC_COMMENTS_FULL_SWEEP_DAYS``), at ``BENCH_SCALE`` tickets, against the
same at a tenth of the tickets (the baseline, measured in the same run) for the linearity ratio.

The mirror is filled directly (one comment per ticket, half the tickets updated inside the
window, 0.1 % of the visited tickets' comments not seen by the sweep, so deleted): no vendor
requests, only what ``finish_sweep`` does, whatever query it uses. Each run restores the rows it
marked deleted and re-locks the stream.

    python -m benchmarks deletion                   # 100 000 tickets, baseline 10 000
    python -m benchmarks --scale 1000000 deletion   # 1 000 000, baseline 100 000 (the issue's)
"""

from __future__ import annotations

import datetime as dt
import secrets
import time

from benchmarks.env import Sample, print_figures, runs, scale

WINDOW_DAYS = 30


def _series_insert(model, n: int, columns: dict[str, str], params: list) -> None:
    """``INSERT INTO model(columns) SELECT <expressions of i> FROM 0..n-1`` in one statement
    (``generate_series`` on PostgreSQL, a recursive CTE on SQLite): a million rows in seconds."""
    from django.db import connection as db

    names = ", ".join(columns)
    values = ", ".join(columns.values())
    table = model._meta.db_table
    if db.vendor == "postgresql":
        series = f"generate_series(0, {n - 1}) AS s(i)"
        sql = f"INSERT INTO {table} ({names}) SELECT {values} FROM {series}"  # noqa: S608
    else:
        sql = (
            f"WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {n - 1}) "  # noqa: S608
            f"INSERT INTO {table} ({names}) SELECT {values} FROM s"  # noqa: S608 - ours
        )
    with db.cursor() as cur:
        cur.execute(sql, params)  # table, columns and expressions are this module's


def _fill(n: int):
    from django.db import connection as db
    from django.utils import timezone

    from accounts.models import Tenant
    from connectors.models import Connection, SyncRun, SyncStream
    from connectors.syncro.models import SyncroTicket, SyncroTicketComment

    slug = f"deletion-{n}-{secrets.token_hex(3)}"
    tenant = Tenant.objects.create(name=slug, slug=slug)
    connection = Connection.objects.create(tenant=tenant, vendor="syncro", account=slug)
    now = timezone.now()
    stamp = db.ops.adapt_datetimefield_value
    generation = 2
    common = {
        "tenant_id": str(tenant.pk),
        "connection_id": str(connection.pk),
        "raw": "'{}'",
        "custom_fields": "'{}'",
        "is_deleted": "FALSE",
        "synced_at": "%s",
    }
    # odd tickets were active inside the window, even ones not
    _series_insert(
        SyncroTicket,
        n,
        {
            **common,
            "vendor_id": "1000000 + i",
            "vendor_created_at": "%s",
            "vendor_updated_at": "CASE WHEN i %% 2 = 1 THEN %s ELSE %s END",
            "seen_generation": str(generation),
            "number": "CAST(i AS TEXT)" if db.vendor == "sqlite" else "i::text",
            "subject": "'Printer offline'",
            **{c: "''" for c in ("status", "problem_type", "priority", "ticket_type_name")},
            "customer_name": "''",
        },
        [
            stamp(now),
            stamp(now - dt.timedelta(days=300)),
            stamp(now - dt.timedelta(days=5)),
            stamp(now - dt.timedelta(days=200)),
        ],
    )
    # the visited tickets' comments were seen, except one in a thousand (deleted)
    _series_insert(
        SyncroTicketComment,
        n,
        {
            **common,
            "vendor_id": "50000000 + i",
            "ticket_vendor_id": "1000000 + i",
            "vendor_created_at": "%s",
            "seen_generation": (
                f"CASE WHEN i %% 2 = 1 AND i %% 2000 != 1 THEN {generation} ELSE {generation - 1} END"
            ),
            "subject": "'Update'",
            "body": "'Replaced the toner.'",
            "tech": "''",
            "hidden": "FALSE",
        },
        [stamp(now), stamp(now - dt.timedelta(days=200))],
    )
    stream = SyncStream.objects.create(
        connection=connection, resource="ticket_comments", generation=generation - 1
    )
    run = SyncRun.objects.create(
        tenant=tenant,
        connection=connection,
        stream=stream,
        mode=SyncRun.Mode.FULL,
        status=SyncRun.Status.RUNNING,
    )
    checkpoint = {
        "mode": SyncRun.Mode.FULL,
        "generation": generation,
        "parents_since": (now - dt.timedelta(days=WINDOW_DAYS)).isoformat(),
        "started_at": now.isoformat(),
        "max_seen": now.isoformat(),
    }
    return connection, stream, run, checkpoint


def _one(connection, stream, run, checkpoint) -> tuple[float, int]:
    from connectors.models import SyncRun, SyncStream
    from connectors.sync import finish_sweep
    from connectors.syncro.models import SyncroTicketComment

    SyncroTicketComment.objects.filter(connection=connection, is_deleted=True).update(
        is_deleted=False, deleted_at=None
    )
    SyncStream.objects.filter(pk=stream.pk).update(lock_run=run, generation=1)
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.RUNNING, deleted=0)
    stream.refresh_from_db()
    spec = next(s for s in connection.vendor_descriptor.streams if s.resource == stream.resource)
    started = time.perf_counter()
    done = finish_sweep(stream=stream, run=run, spec=spec, checkpoint=checkpoint)
    seconds = time.perf_counter() - started
    assert done.status == SyncRun.Status.SUCCEEDED, done.error
    return seconds, done.deleted


def measure_at(n: int) -> tuple[Sample, int, float]:
    """(finish_sweep seconds over the runs, comments deleted, fill seconds) at ``n`` tickets."""
    from django.db import connection as db

    started = time.perf_counter()
    world = _fill(n)
    if db.vendor == "postgresql":
        with db.cursor() as cur:
            cur.execute("ANALYZE")
    filled = time.perf_counter() - started
    results = [_one(*world) for _ in range(runs())]
    return Sample(tuple(s for s, _ in results)), results[-1][1], filled


def main() -> None:
    from django.conf import settings
    from django.db import connection as db

    settings.SYNC_COMMENTS_FULL_SWEEP_DAYS = WINDOW_DAYS
    n = scale()
    base_n = max(1000, n // 10)
    base, base_deleted, base_fill = measure_at(base_n)
    now, deleted, fill = measure_at(n)
    print(f"filled {base_n:,} and {n:,} tickets (+1 comment each) in {base_fill + fill:.0f} s")
    linear = now.median / base.median / (n / base_n)
    print_figures(
        f"Windowed comment-deletion (finish_sweep of a full comment sweep, {db.vendor})",
        [
            (
                f"finish_sweep at {n:,} tickets ({deleted:,} comments deleted, "
                f"{n // 2:,} tickets outside the window)",
                now.text(" s", digits=3),
                f"{base_n:,} tickets: {base.text(' s', digits=3)} ({base_deleted:,} deleted)",
                f"{now.median / base.median:.1f}x for {n // base_n}x the rows "
                f"({linear:.2f} of linear)",
                "linear (<= 1.0 of linear; <= 3 s at 1 000 000 on PG)",
            )
        ],
    )
