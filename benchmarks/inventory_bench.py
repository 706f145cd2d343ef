"""Requests per Synchroteam inventory sync (issue 16), counted by the in-process sandbox.

For each scale in ``BENCH_INVENTORY_SCALES`` (default ``small,medium``; ``large`` = 100 000
jobs): the generated depots, stock levels, part movements and part requests; the requests of a
full sync of the four inventory streams, against the baseline of one request per 100 records
of each stream (what paging at the vendor's maximum page size costs, vendor-apis.md §2.4); then
the requests of an incremental sync after one replenishment (one part request fulfilled at
once: one request, one movement, two levels changed) an hour later, against the same baseline.
"""

from __future__ import annotations

import math
import os

from benchmarks.env import print_table

IN_PROCESS = "http://sandbox.invalid"
STREAMS = {
    "depots": "synchroteam.depot",
    "stock_levels": "synchroteam.stockpart",
    "part_movements": "synchroteam.partmovement",
    "part_requests": "synchroteam.partrequest",
}


def _connection(scale: str):
    from accounts.models import Tenant
    from connectors.demo import seed_connections

    tenant = Tenant.objects.create(name=f"inventory-{scale}", slug=f"inventory-{scale}")
    return {c.vendor: c for c in seed_connections(tenant, {}, root=IN_PROCESS)}["synchroteam"]


def bench_scale(scale: str) -> list[tuple]:
    from django.conf import settings

    from connectors import ratelimit
    from connectors.sandbox import Sandbox, SandboxConfig
    from connectors.services import connection_sync_now

    settings.SYNCHROTEAM_RATE_BUDGET_PER_MINUTE = 10**7
    settings.SYNCHROTEAM_DAILY_QUOTA = 10**7
    ratelimit.reset_buckets()
    sb = Sandbox.create(
        seed=16, scale=scale, clock_start="2026-11-02T09:00:00Z", config=SandboxConfig.unlimited()
    )
    connection = _connection(scale)
    counts = {r: sb.store.count(k) for r, k in STREAMS.items()}
    baseline = sum(max(1, math.ceil(n / 100)) for n in counts.values())
    before = sb.request_counts().get("synchroteam", 0)
    runs = connection_sync_now(
        connection, mode="full", resources=list(STREAMS), transport=sb.transport()
    )
    assert all(r.status == "succeeded" for r in runs), [(r.stream.resource, r.error) for r in runs]
    full = sb.request_counts()["synchroteam"] - before
    sb.clock.advance(3600)
    main = sb.store.select("synchroteam.depot")[0]
    van = sb.store.select("synchroteam.depot")[-1]
    level = next(
        lv
        for lv in sb.store.select("synchroteam.stockpart")
        if lv["depot"]["id"] == main["id"] and lv["quantity"] >= 1
    )
    with sb.client("synchroteam") as client:
        client.post(
            "/partrequest/send",
            json={
                "myId": "FL-bench",
                "part": {"id": level["part"]["id"]},
                "quantity": 1,
                "depot": {"id": van["id"]},
                "fromDepot": {"id": main["id"]},
            },
        )
    before = sb.request_counts()["synchroteam"]
    runs = connection_sync_now(connection, resources=list(STREAMS), transport=sb.transport())
    incremental = sb.request_counts()["synchroteam"] - before
    by = {r.stream.resource: r.requests for r in runs}
    sb.close()
    size = ", ".join(f"{n:,} {r}" for r, n in counts.items())
    return [
        (scale, "full", size, full, baseline, f"{full / baseline:.2f}x"),
        (
            scale,
            "incremental",
            " + ".join(f"{by[r]} {r}" for r in STREAMS),
            incremental,
            baseline,
            f"{incremental / baseline:.2f}x",
        ),
    ]


def main() -> None:
    scales = os.environ.get("BENCH_INVENTORY_SCALES", "small,medium").split(",")
    rows: list[tuple] = []
    for scale in scales:
        rows += bench_scale(scale.strip())
    print_table(
        "Synchroteam inventory sync: requests counted by the sandbox",
        [
            "scale",
            "sync",
            "records / requests per stream",
            "requests",
            "1 per 100 records",
            "ratio",
        ],
        rows,
    )
