"""The list pages at 100 000 records: server time and query count per page, under production
settings (``DEBUG`` off, the production middleware), against the Django admin changelist.

Fills a scratch database with one tenant's N Syncro tickets (`ticket_list_bench._fill`: 400
customers, timers, line items, drafts), N Synchroteam jobs over a year around today (5 000
customers, 40 technicians, three in five finished; most of those invoiced at Synchroteam or
carrying a ``[ST-JOB num]`` line item, the rest unbilled), one work activity per finished job,
and 30 days of per-minute `RequestUsage` rows for each connection (43 200 each). Then requests
each page through Django's test client (middleware, view, template: the whole server side).
The unbilled-work page and the home page are measured twice: as read (their reconciliation
snapshot cached, `dispatch.snapshots`) and "after a write" (the snapshot expired before each
request, as a sync page, a webhook or a draft expires it: the cost of computing it).

Baseline measured in the same run: the Django admin changelist of the same tickets
(``/admin/syncro/syncroticket/``, a superuser), the figure the ticket list must beat 3x.

    BENCH_RECORDS=100000 python -m benchmarks pages
    BENCH_PAGES=unbilled,tickets BENCH_EXPLAIN=1 python -m benchmarks pages   # some pages, plans
"""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
JOB_STATUSES = ["created", "scheduled", "synchronized", "started", "cancelled"]


def _fill_jobs(accounts, n: int, now: datetime) -> dict:
    from connectors.models import Connection
    from connectors.synchroteam.models import (
        SynchroteamActivity,
        SynchroteamCustomer,
        SynchroteamInvoice,
        SynchroteamJob,
        SynchroteamUser,
    )
    from connectors.syncro.models import SyncroLineItem, line_item_tags

    rng = random.Random(11)
    tenant = accounts.tenant
    conn = Connection.objects.create(tenant=tenant, vendor="synchroteam", account="demo")
    sx_conn = Connection.objects.get(tenant=tenant, vendor="syncro")
    common = {"tenant": tenant, "connection": conn}
    customers = [
        SynchroteamCustomer(**common, vendor_id=30_000 + i, name=f"Client {i:04d} Ltd")
        for i in range(5000)
    ]
    SynchroteamCustomer.objects.bulk_create(customers, batch_size=2000)
    techs = [
        SynchroteamUser(
            **common, vendor_id=500 + i, name=f"Tech {i:02d}", profile="technician", active=True
        )
        for i in range(40)
    ]
    SynchroteamUser.objects.bulk_create(techs)
    first = now - timedelta(days=300)
    step = timedelta(days=365) / n
    jobs, acts, invoices, lines = [], [], [], []
    for i in range(n):
        start = first + step * i
        done = start < now - timedelta(days=1) and rng.random() < 0.8
        status = rng.choice(["completed", "validated"]) if done else rng.choice(JOB_STATUSES)
        cust = customers[rng.randrange(len(customers))]
        tech = techs[rng.randrange(len(techs))]
        vid = 2_000_000 + i
        jobs.append(
            SynchroteamJob(
                **common,
                vendor_id=vid,
                num=str(100_000 + i),
                status=status,
                type_name="Maintenance",
                description=f"Service visit {i}",
                customer_vendor_id=cust.vendor_id,
                customer_name=cust.name,
                site_vendor_id=None,
                technician_vendor_id=tech.vendor_id,
                technician_name=tech.name,
                scheduled_start=start,
                scheduled_end=start + timedelta(hours=2),
                actual_start=start if done else None,
                actual_end=start + timedelta(minutes=90) if done else None,
                raw={"id": vid, "num": str(100_000 + i), "notes": "x" * 400},
            )
        )
        if done:
            acts.append(
                SynchroteamActivity(
                    **common,
                    vendor_id=8_000_000 + i,
                    type="work",
                    user_vendor_id=tech.vendor_id,
                    job_vendor_id=vid,
                    start=start,
                    end=start + timedelta(minutes=75),
                )
            )
            billed = rng.random()
            if billed < 0.9:
                invoices.append(
                    SynchroteamInvoice(**common, vendor_id=9_000_000 + i, job_vendor_id=vid)
                )
            elif billed < 0.95:
                name = f"Labor - Onsite [ST-JOB {100_000 + i}]"
                lines.append(
                    SyncroLineItem(
                        tenant=tenant,
                        connection=sx_conn,
                        vendor_id=7_500_000 + i,
                        ticket_vendor_id=1_000_000 + rng.randrange(n),
                        name=name,
                        quantity=1,
                        **line_item_tags(name, {}),  # bulk_create skips save()
                    )
                )
        if len(jobs) == 5000:
            SynchroteamJob.objects.bulk_create(jobs)
            jobs = []
    SynchroteamJob.objects.bulk_create(jobs)
    SynchroteamActivity.objects.bulk_create(acts, batch_size=5000)
    SynchroteamInvoice.objects.bulk_create(invoices, batch_size=5000)
    SyncroLineItem.objects.bulk_create(lines, batch_size=5000)
    return {"connection": conn, "customer": customers[42].vendor_id}


def _fill_usage(now: datetime) -> None:
    from connectors.models import Connection, RequestUsage

    minute0 = now.replace(second=0, microsecond=0) - timedelta(days=30)
    for conn in Connection.objects.all():
        scope = f"{conn.vendor}:bench:{conn.pk}"
        rows = [
            RequestUsage(
                scope=scope,
                connection=conn,
                minute=minute0 + timedelta(minutes=m),
                requests=(m % 50) + 1,
            )
            for m in range(30 * 24 * 60)
        ]
        RequestUsage.objects.bulk_create(rows, batch_size=5000)


def _measure(client, url: str, params: dict, before=None) -> tuple[int, float, int]:
    """``(queries, median ms, status)`` of `REPEAT` requests after a warming one; `before()`,
    when given, runs before each request, untimed (a write that expires a cache)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url, params)  # warm
    times = []
    count = 0
    for _ in range(REPEAT):
        if before is not None:
            before()
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - t0) * 1000)
        count = len(ctx.captured_queries)
    return count, statistics.median(times), response.status_code


def _slowest_queries(client, url: str, params: dict, top: int = 2) -> list[tuple[float, str]]:
    """The `top` slowest queries of one request: ``[(ms, full SQL)]``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(url, params)
    ranked = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))
    return [(float(q["time"]) * 1000, q["sql"]) for q in ranked[:top]]


def main() -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from benchmarks.env import print_table
    from benchmarks.ticket_list_bench import _fill

    settings.DEBUG = False
    n = int(os.environ.get("BENCH_RECORDS", "100000"))
    now = timezone.now().astimezone(UTC)
    t0 = time.perf_counter()
    accounts, _tenant = _fill(n)
    jobs = _fill_jobs(accounts, n, now)
    _fill_usage(now)
    print(
        f"filled {n:,} tickets and jobs in {time.perf_counter() - t0:.1f} s on {connection.vendor}"
    )
    with connection.cursor() as cur:
        # PostgreSQL: VACUUM too, as autovacuum would after a bulk load, so the visibility map
        # lets the index-only counts skip the table (without it every capped count reads heap)
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    client = Client()
    client.force_login(accounts.users["owner"])
    today = timezone.localdate()
    from dispatch import snapshots

    def expire() -> None:  # what a sync page, webhook or draft does to the snapshot
        snapshots.changed(accounts.tenant.pk)

    pages = [
        ("unbilled work", "/reconciliation/", {}),
        ("unbilled work, after a write", "/reconciliation/", {}, expire),
        ("unbilled work, technician", "/reconciliation/", {"technician": "505"}),
        ("home", "/", {}),
        ("home, after a write", "/", {}, expire),
        ("jobs list", "/jobs/", {}),
        ("jobs list, customer", "/jobs/", {"customer": str(jobs["customer"])}),
        ("jobs list, status", "/jobs/", {"status": "completed"}),
        ("jobs list, search", "/jobs/", {"q": "visit 4242"}),
        ("technician board (week)", "/jobs/board/", {"date": today.isoformat()}),
        ("tickets: no filter", "/tickets/", {}),
        ("tickets: text search", "/tickets/", {"q": "printer issue vpn"}),
        ("tickets: page 2000", "/tickets/", {"page": "2000"}),
        ("tickets: Not Closed", "/tickets/", {"status": "Not Closed"}),
        ("tickets: customer", "/tickets/", {"customer": "20042"}),
        ("tickets: unbilled", "/tickets/", {"unbilled": "on"}),
        ("billing queue", "/billing/", {}),
        ("integrations", "/integrations/", {}),
    ]
    only = os.environ.get("BENCH_PAGES", "")  # "unbilled,jobs": pages whose name starts so
    if only:
        pages = [p for p in pages if p[0].startswith(tuple(only.split(",")))]
    results = {name: _measure(client, *rest) for name, *rest in pages}
    admin = get_user_model().objects.create_superuser("bench-admin@example.test", "x" * 16)
    admin_client = Client()
    admin_client.force_login(admin)
    admin_q, admin_ms, admin_status = _measure(admin_client, "/admin/syncro/syncroticket/", {})
    rows = []
    for name, *_ in pages:
        q, ms, status = results[name]
        ratio = f"{admin_ms / ms:.1f}x" if name.startswith("tickets") and ms else ""
        rows.append([name, status, q, ms, ratio])
    rows.append(["admin changelist (baseline)", admin_status, admin_q, admin_ms, "1.0x"])
    print_table(
        f"pages at {n:,} records ({connection.vendor}; DEBUG off; median of {REPEAT}; "
        "ms = whole request; ratio = admin ms / page ms)",
        ["page", "status", "queries", "ms", "vs admin"],
        rows,
    )
    settings.DEBUG = True  # only to read the query log of one request per page
    print("\nslowest query of each page (ms, SQL), and its plan:")
    for name, url, params, *before in pages:
        if before:
            before[0]()
        (ms, sql), *_ = _slowest_queries(client, url, params, top=1)
        print(f"\n[{name}] {ms:.1f} ms  {sql[:240]}")
        if os.environ.get("BENCH_EXPLAIN"):
            for line in _explain(sql):
                print(f"    {line}")
    settings.DEBUG = False


def _explain(sql: str) -> list[str]:
    """The plan of `sql` (SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN ANALYZE``)."""
    from django.db import connection

    prefix = "EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    with connection.cursor() as cur:
        cur.execute(prefix + sql)
        return [" ".join(str(c) for c in row) for row in cur.fetchall()]
