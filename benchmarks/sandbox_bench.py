"""Sandbox benchmark: requests per second for a 100-row page (in-process and over loopback),
each against a trivial WSGI app serving a body of the same size through the same path (the
baseline measured in the same run), the time and disk size to generate the large scale, and
the emulator's time for a full sweep of ``BENCH_SCALE`` Syncro tickets (``GET /tickets``, page
after page, 50 a page) served by keyset against the same sweep served by ``OFFSET`` (issue 14
item 5).

Run: ``python -m benchmarks sandbox`` (generation of 100 000 tickets + 100 000 jobs takes a
minute or two; ``SANDBOX_BENCH_SCALE=20000`` for a quicker generation; ``--scale 1000000`` for
the 1 000 000-ticket sweep, whose OFFSET baseline is sampled: every k-th page, k = scale /
100 000, its time multiplied by k, since an OFFSET page costs what its position costs).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from connectors.sandbox import Sandbox, SandboxConfig, accounts
from connectors.sandbox.core import vendor_base_url
from connectors.sandbox.server import start_in_thread

DURATION = float(os.environ.get("SANDBOX_BENCH_SECONDS", "2.0"))
START = "2026-05-01T09:00:00Z"


def trivial_app(body: bytes) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return app


def rate(client: httpx.Client, url: str, **kw: Any) -> float:
    """Requests per second issuing GET ``url`` sequentially for ~DURATION seconds."""
    client.get(url, **kw).raise_for_status()
    n, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < DURATION:
        client.get(url, **kw)
        n += 1
    return n / elapsed


def page_cases(sb: Sandbox) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, vendor, request kwargs) for 100-row pages."""
    syncro_auth = {"Authorization": f"Bearer {accounts.SYNCRO_USERS[0].token}"}
    return [
        (
            "Syncro GET /ticket_timers (100/page)",
            "syncro",
            {"url": "/ticket_timers", "headers": syncro_auth, "params": {"page": 3}},
        ),
        (
            "Synchroteam GET job/list?pageSize=100",
            "synchroteam",
            {
                "url": "/job/list",
                "params": {"page": 20, "pageSize": 100},
                "auth": (accounts.SYNCHROTEAM_DOMAIN, accounts.SYNCHROTEAM_API_KEY),
            },
        ),
        (
            "FieldCamp GET /visits?limit=100",
            "fieldcamp",
            {
                "url": "/visits",
                "params": {"limit": 100},
                "headers": {"Authorization": f"Bearer {accounts.FIELDCAMP_API_KEY}"},
            },
        ),
    ]


def measure_pages(
    sb: Sandbox, root: str | None, transport_for: Callable[[Any], httpx.BaseTransport] | None
) -> list[tuple[str, float, float, int]]:
    out = []
    for label, vendor, kw in page_cases(sb):
        kw = dict(kw)
        url = kw.pop("url")
        if root is None:
            assert transport_for is not None
            base = vendor_base_url(vendor)
            with httpx.Client(base_url=base, transport=transport_for(sb.app)) as c:
                body = c.get(url, **kw).content
                rps = rate(c, url, **kw)
            with httpx.Client(
                base_url="http://baseline.invalid",
                transport=httpx.WSGITransport(app=trivial_app(body)),
            ) as c:
                base_rps = rate(c, "/")
        else:
            with httpx.Client(base_url=vendor_base_url(vendor, root)) as c:
                body = c.get(url, **kw).content
                rps = rate(c, url, **kw)
            baseline = start_in_thread(trivial_app(body))
            try:
                with httpx.Client(base_url=baseline.base_url) as c:
                    base_rps = rate(c, "/")
            finally:
                baseline.shutdown()
                baseline.server_close()
        out.append((label, rps, base_rps, len(body)))
    return out


def fill_tickets(sb: Sandbox, n: int) -> None:
    """Add tickets until the store holds ``n``: copies of a generated one (same body size),
    with new ids and numbers, loaded in bulk."""
    from connectors.sandbox.syncro.records import K_TICKET

    template = sb.store.select(K_TICKET, limit=1)[0]
    have = sb.store.count(K_TICKET)
    first = sb.store.next_id(K_TICKET, max(n - have, 0))
    with sb.store.bulk_load():
        for start in range(0, n - have, 20_000):
            sb.store.put_many(
                K_TICKET,
                (
                    {**template, "id": first + i, "number": type(template["number"])(900_000 + i)}
                    for i in range(start, min(start + 20_000, n - have))
                ),
            )


def sweep(sb: Sandbox, *, keyset: bool, step: int = 1) -> tuple[float, int]:
    """Seconds to serve every ``step``-th page of ``GET /tickets`` (in-process, no sync engine),
    multiplied by ``step``; and the number of tickets served (times ``step``)."""
    sb.store.keyset = keyset
    client = sb.client("syncro", user_id=accounts.SYNCRO_USERS[0].user_id)
    seconds, served, page = 0.0, 0, 1
    try:
        while True:
            started = time.perf_counter()
            body = client.get("/tickets", params={"page": page}).json()
            seconds += time.perf_counter() - started
            served += len(body["tickets"])
            if page >= body["meta"]["total_pages"]:
                break
            page += step
    finally:
        sb.store.keyset = True
        client.close()
    return seconds * step, served * step


def bench_sweep(n: int) -> None:
    from benchmarks.env import Sample, print_figures, ratio, runs

    step = max(1, n // 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        sb = Sandbox.create(
            Path(tmp) / "sweep.sqlite3",
            seed=2,
            scale="small",
            clock_start=START,
            frozen=True,
            config=SandboxConfig.unlimited(),
        )
        started = time.perf_counter()
        fill_tickets(sb, n)
        print(f"filled {n:,} Syncro tickets for the sweep in {time.perf_counter() - started:.1f} s")
        keyset, offset = [], []
        for _ in range(runs()):
            keyset.append(sweep(sb, keyset=True))
            offset.append(sweep(sb, keyset=False, step=step))
        sb.close()
    now = Sample(tuple(s for s, _ in keyset))
    base = Sample(tuple(s for s, _ in offset))
    sampled = f" (1 page in {step} timed, x{step})" if step > 1 else ""
    print_figures(
        f"Sandbox: full sweep of GET /tickets, {n:,} tickets, emulator time only",
        [
            (
                f"full sweep, {keyset[0][1]:,} tickets served, keyset",
                now.text(" s"),
                f"OFFSET paging: {base.text(' s')}{sampled}",
                f"{ratio(now, base, invert=True)} faster",
                "no OFFSET scans (linear in the rows)",
            ),
        ],
    )


def main() -> None:
    from benchmarks.env import scale as bench_scale

    bench_sweep(bench_scale())
    scale = os.environ.get("SANDBOX_BENCH_SCALE", "large")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sandbox.sqlite3"
        started = time.perf_counter()
        sb = Sandbox.create(
            path,
            seed=1,
            scale=scale,
            clock_start=START,
            frozen=True,
            config=SandboxConfig.unlimited(),
        )
        gen_seconds = time.perf_counter() - started
        size = sb.store.size_bytes()
        counts = sb.store.counts_by_kind()
        rows = sum(counts.values())
        from connectors.sandbox.transport import SandboxTransport

        in_process = measure_pages(sb, None, SandboxTransport)
        server = start_in_thread(sb.app)
        try:
            loopback = measure_pages(sb, server.base_url, None)
        finally:
            server.shutdown()
            server.server_close()
        sb.close()

    print(
        f"\nGeneration (scale={scale}, seed 1): {counts.get('syncro.ticket', 0):,} Syncro tickets, {counts.get('synchroteam.job', 0):,} Synchroteam jobs, {counts.get('fieldcamp.visit', 0):,} FieldCamp visits, {rows:,} records in all"
    )
    print(
        f"  time {gen_seconds:.1f} s   disk {size / 1024 / 1024:.0f} MiB   ({rows / gen_seconds:,.0f} records/s)"
    )
    print(
        f"\n{'100-row page':42} {'mode':11} {'req/s':>8} {'baseline':>9} {'ratio':>6} {'bytes':>8}"
    )
    for mode, results in (("in-process", in_process), ("loopback", loopback)):
        for label, rps, base_rps, nbytes in results:
            print(
                f"{label:42} {mode:11} {rps:8.0f} {base_rps:9.0f} {rps / base_rps:6.2f} {nbytes:8d}"
            )
    print(
        "baseline = a trivial WSGI app answering a body of the same size through the same transport/server"
    )


if __name__ == "__main__":
    main()
