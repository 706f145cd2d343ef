"""The ticket list at 100 000 mirrored Syncro tickets: query count and server time per filter.

Fills a scratch database with one tenant's N tickets (``BENCH_TICKETS``, default 100 000), 400
customers, timer entries (a tenth of them billable and not charged), ticket line items and a few
hundred billing drafts, then requests ``/tickets/`` through Django's test client (middleware,
view, template: the whole server side) for each filter, at 25 and 100 rows per page.

Baselines measured in the same run:

* **per-row billing state**: the same page with each row's billing state looked up one ticket at
  a time (the obvious way to write it): its query count grows with the page size;
* **no indexes**: the same requests after dropping the mirror's ticket indexes (the tenant-led
  ones on status, customer, technician, created, number and customer name).

    BENCH_TICKETS=100000 python -m benchmarks ticket_list
"""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
STATUSES = [
    "New",
    "In Progress",
    "Waiting on Customer",
    "Scheduled",
    "Resolved",
    "Invoiced",
    "Closed",
]
WEIGHTS = [5, 8, 4, 3, 30, 30, 20]
TECHS = {1735: "Michael Swanson", 1737: "Winter Reyes", 1750: "Howard Enos", 1760: "Rob Keller"}
TICKET_INDEXES = ["sx_tkt_st", "sx_tkt_cus", "sx_tkt_usr", "sx_tkt_crt", "sx_tkt_num", "sx_tkt_cnm"]


def _fill(n: int):
    from accounts.demo import seed_accounts
    from billing.models import BillingDraft, LaborType
    from connectors.models import Connection
    from connectors.syncro.models import (
        SyncroCustomer,
        SyncroLineItem,
        SyncroProduct,
        SyncroTicket,
        SyncroTimerEntry,
    )

    rng = random.Random(7)
    accounts = seed_accounts()
    tenant = accounts.tenant
    conn = Connection.objects.create(tenant=tenant, vendor="syncro", account="demo")
    common = {"tenant": tenant, "connection": conn}
    customers = [
        SyncroCustomer(
            **common,
            vendor_id=20_000 + i,
            name=f"Customer {i:03d} LLC",
            business_name=f"Customer {i:03d} LLC",
        )
        for i in range(400)
    ]
    SyncroCustomer.objects.bulk_create(customers, batch_size=1000)
    product = SyncroProduct.objects.create(
        **common, vendor_id=26118, name="Labor - Onsite Business", price_retail=120
    )
    LaborType.objects.create(
        tenant=tenant, kind="onsite", product_vendor_id=product.vendor_id, product_name=product.name
    )
    start = datetime(2026, 2, 1, tzinfo=UTC)
    words = [
        "printer",
        "email",
        "server",
        "VPN",
        "laptop",
        "backup",
        "firewall",
        "Wi-Fi",
        "cloud",
        "phone",
    ]
    batch: list = []
    for i in range(n):
        created = start + timedelta(minutes=4 * i)
        cust = customers[rng.randrange(len(customers))]
        tech = rng.choice(list(TECHS))
        batch.append(
            SyncroTicket(
                **common,
                vendor_id=1_000_000 + i,
                number=str(10_000 + i),
                subject=f"{rng.choice(words).capitalize()} issue {rng.choice(words)} #{i}",
                status=rng.choices(STATUSES, WEIGHTS)[0],
                priority=rng.choice(["Normal", "Normal", "High", "Urgent", "Low"]),
                customer_vendor_id=cust.vendor_id,
                customer_name=cust.name,
                user_vendor_id=tech,
                vendor_created_at=created,
                vendor_updated_at=created + timedelta(hours=3),
                raw={"id": 1_000_000 + i, "user": {"id": tech, "full_name": TECHS[tech]}},
            )
        )
        if len(batch) == 5000:
            SyncroTicket.objects.bulk_create(batch)
            batch = []
    SyncroTicket.objects.bulk_create(batch)
    timers = []
    lines = []
    for j in range(n // 5):
        tid = 1_000_000 + rng.randrange(n)
        uncharged = rng.random() < 0.1
        timers.append(
            SyncroTimerEntry(
                **common,
                vendor_id=5_000_000 + j,
                ticket_vendor_id=tid,
                billable=True,
                recorded=not uncharged,
                active_duration=rng.choice([900, 1800, 2700, 3600]),
                start_time=start + timedelta(minutes=j),
            )
        )
        if j % 2 == 0:
            lines.append(
                SyncroLineItem(
                    **common,
                    vendor_id=7_000_000 + j,
                    ticket_vendor_id=tid,
                    invoice_vendor_id=None if rng.random() < 0.2 else 9_000 + j,
                    product_vendor_id=product.vendor_id,
                    name=product.name,
                    quantity=1,
                )
            )
    SyncroTimerEntry.objects.bulk_create(timers, batch_size=5000)
    SyncroLineItem.objects.bulk_create(lines, batch_size=5000)
    drafts = []
    for _ in range(300):
        tid = 1_000_000 + n - 1 - rng.randrange(min(n, 3000))
        drafts.append(
            BillingDraft(
                tenant=tenant,
                connection=conn,
                ticket_vendor_id=tid,
                ticket_number=str(tid - 1_000_000 + 10_000),
                drafted_by=accounts.users["technician"],
                decision=rng.choice(["pending", "pending", "approved", "rejected"]),
                minutes=30,
                labor_type="onsite",
                product_vendor_id=product.vendor_id,
                product_name=product.name,
                comment_subject="Labor",
                comment_body="Work",
                comment_hidden=False,
                comment_do_not_email=True,
                line_description="Work",
            )
        )
    BillingDraft.objects.bulk_create(drafts)
    return accounts, tenant


def _scenarios(n: int) -> list[tuple[str, dict]]:
    some_number = str(10_000 + n // 2)
    return [
        ("no filter", {}),
        ("status Not Closed", {"status": "Not Closed"}),
        ("status In Progress", {"status": "In Progress"}),
        ("customer", {"customer": "20042"}),
        ("technician", {"technician": "1750"}),
        ("created in one week", {"created_from": "2026-05-04", "created_to": "2026-05-10"}),
        ("has unbilled time", {"unbilled": "on"}),
        ("search #number", {"q": f"#{some_number}"}),
        ("search text", {"q": "printer issue vpn"}),
        ("deep page (2000)", {"page": "2000"}),
    ]


def _measure(client, params: dict) -> tuple[int, float]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    client.get("/tickets/", params)  # warm
    times = []
    count = 0
    for _ in range(REPEAT):
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            response = client.get("/tickets/", params)
            times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.status_code
        count = len(ctx.captured_queries)
    return count, statistics.median(times)


def _per_row_states(tenant, per: int, params: dict) -> tuple[int, float]:
    """Baseline: the page's billing state fetched one ticket at a time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing.models import BillingDraft
    from billing.selectors import TicketFilters, ticket_queryset, unbilled_timers
    from connectors.syncro.models import SyncroLineItem

    filters = TicketFilters(status=params.get("status", ""))
    times = []
    count = 0
    for _ in range(REPEAT):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            qs = ticket_queryset(tenant, filters)
            qs.count()
            for t in qs[:per]:
                BillingDraft.objects.filter(tenant=tenant, ticket_vendor_id=t.vendor_id).exists()
                unbilled_timers(tenant).filter(ticket_vendor_id=t.vendor_id).exists()
                SyncroLineItem.objects.filter(tenant=tenant, ticket_vendor_id=t.vendor_id).exists()
            times.append((time.perf_counter() - t0) * 1000)
        count = len(ctx.captured_queries)
    return count, statistics.median(times)


def main() -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from benchmarks.env import print_table

    settings.DEBUG = False
    n = int(os.environ.get("BENCH_TICKETS", "100000"))
    t0 = time.perf_counter()
    accounts, tenant = _fill(n)
    print(f"filled {n:,} tickets in {time.perf_counter() - t0:.1f} s on {connection.vendor}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    client = Client()
    client.force_login(accounts.users["billing"])
    scenarios = _scenarios(n)
    indexed: dict[tuple[str, int], tuple[int, float]] = {}
    for name, params in scenarios:
        for per in (25, 100):
            indexed[(name, per)] = _measure(client, {**params, "per": per})
    naive = {per: _per_row_states(tenant, per, {}) for per in (25, 100)}
    with connection.cursor() as cur:
        for name in TICKET_INDEXES:
            cur.execute(f"DROP INDEX {name}")  # scratch database only
        if connection.vendor == "postgresql":
            cur.execute("ANALYZE")
    unindexed = {(name, 25): _measure(client, {**params, "per": 25}) for name, params in scenarios}
    rows = []
    for name, _params in scenarios:
        q25, t25 = indexed[(name, 25)]
        q100, t100 = indexed[(name, 100)]
        uq, ut = unindexed[(name, 25)]
        rows.append([name, q25, q100, t25, t100, ut, f"{ut / t25:.1f}x" if t25 else "-"])
    print_table(
        f"/tickets/ at {n:,} tickets ({connection.vendor}; median of {REPEAT}; ms = whole request)",
        [
            "filter",
            "queries @25",
            "queries @100",
            "ms @25",
            "ms @100",
            "ms @25 no indexes",
            "no-index / indexed",
        ],
        rows,
    )
    print_table(
        "Baseline: billing state looked up per row (no filter)",
        [
            "page size",
            "queries (per-row)",
            "ms (per-row, ORM only)",
            "queries (/tickets/)",
            "ms (/tickets/, whole request)",
        ],
        [
            [
                per,
                naive[per][0],
                naive[per][1],
                indexed[("no filter", per)][0],
                indexed[("no filter", per)][1],
            ]
            for per in (25, 100)
        ],
    )
