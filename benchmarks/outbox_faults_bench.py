"""Exactly-once write-back under injected faults (issue 5 acceptance figures).

Approves N billing drafts (each: comment → line item → invoice → status "Invoiced", chained) and
drives the outbox against the in-process Syncro sandbox while fault rules make the sandbox commit
a write and then time out, reset the connection, answer 502, or return broken JSON, and
sometimes fail before committing. Then it counts, from the sandbox's own records:

* writes and faults injected (ledger entries with a fault),
* duplicates (vendor records carrying the same marker more than once),
* lost writes (approved, but neither at the vendor nor waiting for a person),
* blind re-sends (a second send not preceded by two negative looks).

Timer charges ride along (``BENCH_TIMERS``, default 300): billable timers are added to the
sandbox's tickets, and each is charged through the outbox (``POST
/tickets/{id}/charge_timer_entry``, keyed ``timer:<ticket>:<timer>`` as the ticket page keys it)
under the same fault rules, so many answers time out after Syncro committed. Every fifth timer is
confirmed twice (a double click: the same key), every tenth is charged in Syncro by hand before
the portal's charge is sent (the precheck must find it). Counted from the sandbox's ledger: line
items made from one timer (2 = charged twice: a duplicate) and charges lost (confirmed but the
timer is not recorded at Syncro, or left in no settled state).

Baseline in the same run: a naive client that re-POSTs whenever it gets no clean answer (what
the seed runbook forbids), on the same faults; its duplicates show what the outbox prevents.

    BENCH_DRAFTS=550 BENCH_TIMERS=300 python -m benchmarks outbox_faults
"""

from __future__ import annotations

import os
import time
from collections import Counter

FAULTS = [
    "syncro POST * timeout_after_commit probability=0.30",
    "syncro POST * reset_after_commit probability=0.15",
    "syncro POST * error_after_commit status=502 probability=0.15",
    "syncro POST * malformed_json probability=0.10",
    "syncro POST * truncated_json probability=0.05",
    "syncro POST * error_before_commit status=503 probability=0.05",
    "syncro PUT * timeout_after_commit probability=0.30",
]


def _world():
    from django.conf import settings

    from accounts.demo import seed_accounts
    from accounts.models import Credential, Vendor
    from connectors.models import Connection
    from connectors.sandbox import accounts as demo
    from connectors.sandbox.config import SandboxConfig
    from connectors.sandbox.core import IN_PROCESS_BASE, Sandbox, vendor_base_url

    sandbox = Sandbox.create(
        seed=5, scale="small", clock_start="2026-11-02T09:00:00Z", config=SandboxConfig.unlimited()
    )
    settings.CONNECTORS_TRANSPORT = sandbox.transport()
    settings.OUTBOX_ENQUEUE = False
    settings.OUTBOX_VERIFY_DELAY_SECONDS = 0
    settings.OUTBOX_RETRY_DELAY_SECONDS = 0
    for name in (
        "SYNCRO_RATE_BUDGET_PER_MINUTE",
        "SYNCRO_RATE_LIMIT_PER_MINUTE",
        "SYNCRO_TENANT_READ_SHARE_PER_MINUTE",
    ):
        setattr(settings, name, 1_000_000)
    settings.SYNCRO_WRITE_RESERVE_PER_MINUTE = 100_000
    accounts = seed_accounts()
    connection, _ = Connection.objects.get_or_create(
        tenant=accounts.tenant,
        vendor=Vendor.SYNCRO,
        defaults={
            "account": demo.SYNCRO_SUBDOMAIN,
            "base_url": vendor_base_url("syncro", IN_PROCESS_BASE),
        },
    )
    if not Credential.objects.filter(tenant=accounts.tenant, vendor=Vendor.SYNCRO).exists():
        token = next(
            u.token for u in demo.SYNCRO_USERS if u.user_id == demo.SYNCRO_SHARED_TOKEN_USER_ID
        )
        Credential.create(
            tenant=accounts.tenant, vendor=Vendor.SYNCRO, label="Shared", secret=token
        )
    return sandbox, accounts, connection


def _tickets_and_product(sandbox, count: int):
    with sandbox.client("syncro") as client:
        tickets, page = [], 1
        while len(tickets) < count:
            body = client.get("/tickets", params={"page": page}).json()
            if not body["tickets"]:
                break
            tickets.extend(body["tickets"])
            page += 1
        products = client.get("/products", params={"query": "Onsite"}).json()["products"]
    product = next(p for p in products if "Onsite" in p["name"])
    return [tickets[i % len(tickets)] for i in range(count)], product["id"]


def _specs(ticket: dict, product_id: int, key: str):
    from connectors.outbox.scenarios import billing_chain

    return billing_chain(
        ticket,
        key=key,
        product_id=product_id,
        body=f"Work for {key}.",
        description=f"Onsite work {key}",
    )


def _blind_resends(write) -> int:
    """Sends of `write` after the first not preceded by two negative looks."""
    blind, misses = 0, None
    for a in write.attempts.order_by("at", "id"):
        if a.kind == "send" and a.outcome != "not_sent":
            if misses is not None and misses < 2:
                blind += 1
            misses = 0
        elif a.kind == "verify" and a.outcome == "not_found" and misses is not None:
            misses += 1
    return blind


def _add_timers(sandbox, tickets: list[dict], count: int) -> list[tuple[int, int]]:
    """``count`` finished billable timers (30 min) on the tickets, before any fault is set:
    ``[(ticket id, timer id)]``."""
    made = []
    with sandbox.client("syncro") as client:
        for i in range(count):
            tid = tickets[i % len(tickets)]["id"]
            timer = client.post(
                f"/tickets/{tid}/timer_entry",
                json={
                    "start_at": "2026-11-02T08:00:00Z",
                    "end_at": "2026-11-02T08:30:00Z",
                    "billable": True,
                    "notes": f"bench timer {i}",
                },
            ).json()
            made.append((tid, int(timer["id"])))
    return made


def _charge_by_hand(sandbox, timers: list[tuple[int, int]]) -> None:
    """Someone charges these timers in Syncro itself (the mirror would not know yet)."""
    with sandbox.client("syncro") as client:
        for tid, timer_id in timers:
            client.post(
                f"/tickets/{tid}/charge_timer_entry", json={"timer_entry_id": timer_id}
            ).raise_for_status()


def _timer_figures(sandbox, entries, seq0: int) -> dict:
    """Duplicates and lost charges of the timer charges, from the sandbox's own ledger."""
    from connectors.outbox.models import VendorWrite
    from connectors.sandbox.checks import timer_charge_line_items

    writes = list(VendorWrite.objects.filter(batch__kind="bench.timer"))
    made = timer_charge_line_items(sandbox.ledger)
    charges = [e for e in entries if e.path.endswith("/charge_timer_entry")]
    duplicates = lost = blind = 0
    for w in writes:
        blind += _blind_resends(w)
        tid, timer_id = int(w.target["ticket_id"]), int(w.target["timer_entry_id"])
        n = made.get(timer_id, 0)
        duplicates += max(0, n - 1)
        timer = next(t for t in sandbox.syncro.ticket_records(tid)["timers"] if t["id"] == timer_id)
        if w.state == VendorWrite.State.CONFIRMED and (n == 0 or not timer["recorded"]):
            lost += 1
        if w.state not in (
            VendorWrite.State.CONFIRMED,
            VendorWrite.State.NEEDS_REVIEW,
            VendorWrite.State.REJECTED,
        ):
            lost += 1
    return {
        "timer_writes": len(writes),
        "timer_requests": len(charges),
        "timer_faults": sum(1 for e in charges if e.fault),
        "timer_timeouts_after_commit": sum(
            1 for e in charges if e.fault == "timeout_after_commit" and e.committed
        ),
        "timer_confirmed": sum(1 for w in writes if w.state == VendorWrite.State.CONFIRMED),
        "timer_prechecked": sum(
            1 for w in writes if w.attempts.filter(kind="precheck", outcome="found").exists()
        ),
        "timer_needs_person": sum(1 for w in writes if w.is_waiting_for_person),
        "timer_duplicates": duplicates,
        "timer_lost": lost,
        "timer_blind_resends": blind,
    }


def _enqueue_timer_charges(connection, user, timers: list[tuple[int, int]]) -> None:
    """One charge per timer; every fifth confirmed twice (the same key: one batch)."""
    from connectors.outbox.scenarios import plan_of, timer_charge
    from connectors.outbox.services import plan_enqueue

    for i, (tid, timer_id) in enumerate(timers):
        for _click in range(2 if i % 5 == 0 else 1):
            plan = plan_of(connection, [timer_charge(tid, timer_id)], user=user, kind="bench.timer")
            plan_enqueue(plan, by=user)


def _outbox_run(drafts: int, timer_count: int = 0) -> dict:
    from django.db import transaction

    from connectors.outbox import executor
    from connectors.outbox.models import VendorWrite
    from connectors.outbox.scenarios import plan_of
    from connectors.outbox.services import plan_enqueue
    from connectors.sandbox.checks import vendor_copies

    sandbox, accounts, connection = _world()
    tickets, product_id = _tickets_and_product(sandbox, drafts)
    timers = _add_timers(sandbox, tickets, timer_count)
    _charge_by_hand(sandbox, timers[::10])
    for rule in FAULTS:
        sandbox.faults.add(rule)
    seq0 = sandbox.ledger.last_seq()
    started = time.perf_counter()
    billing = accounts.users["billing"]
    with transaction.atomic():
        for i, ticket in enumerate(tickets):
            chain = _specs(ticket, product_id, f"bench:{i}")
            plan_enqueue(plan_of(connection, chain, user=billing, kind="bench"), by=billing)
        _enqueue_timer_charges(connection, billing, timers)
    executor.run_until_settled(max_steps=1_000_000)
    elapsed = time.perf_counter() - started

    entries = [e for e in sandbox.ledger.writes(vendor="syncro") if e.seq > seq0]
    writes = list(VendorWrite.objects.filter(batch__kind="bench"))
    states = Counter(w.state for w in writes)
    duplicates = lost = blind = 0
    records_cache: dict[int, dict] = {}
    for w in writes:
        tid = int(w.target["ticket_id"])
        rec = records_cache.setdefault(tid, sandbox.syncro.ticket_records(tid))
        n = vendor_copies(w, rec)
        duplicates += max(0, n - 1)
        if w.state == VendorWrite.State.CONFIRMED and n == 0:
            lost += 1
        if w.state not in (
            VendorWrite.State.CONFIRMED,
            VendorWrite.State.NEEDS_REVIEW,
            VendorWrite.State.REJECTED,
            VendorWrite.State.PENDING,
        ):
            lost += 1
        blind += _blind_resends(w)
    waiting_on_dependency = sum(
        1
        for w in writes
        if w.state == VendorWrite.State.PENDING
        and w.depends_on_id
        and w.depends_on.state in (VendorWrite.State.NEEDS_REVIEW, VendorWrite.State.REJECTED)
    )
    timer_figures = _timer_figures(sandbox, entries, seq0)
    sandbox.close()
    return {
        **timer_figures,
        "drafts": drafts,
        "writes": len(writes),
        "requests": len(entries),
        "faults": sum(1 for e in entries if e.fault),
        "faulted_after_commit": sum(1 for e in entries if e.fault and e.committed),
        "confirmed": states[VendorWrite.State.CONFIRMED],
        "needs_person": states[VendorWrite.State.NEEDS_REVIEW] + states[VendorWrite.State.REJECTED],
        "waiting_on_person_step": waiting_on_dependency,
        "duplicates": duplicates,
        "lost": lost,
        "blind_resends": blind,
        "seconds": elapsed,
    }


def _naive_run(drafts: int, timer_count: int = 0) -> dict:
    """Baseline: POST, and POST again whenever the answer is not a clean 2xx with an id."""
    import httpx

    from connectors.sandbox.checks import timer_charge_line_items
    from connectors.sandbox.config import SandboxConfig
    from connectors.sandbox.core import Sandbox

    sandbox = Sandbox.create(
        seed=5, scale="small", clock_start="2026-11-02T09:00:00Z", config=SandboxConfig.unlimited()
    )
    tickets, product_id = _tickets_and_product(sandbox, drafts)
    timers = _add_timers(sandbox, tickets, timer_count)
    _charge_by_hand(sandbox, timers[::10])
    for rule in FAULTS:
        sandbox.faults.add(rule)
    started = time.perf_counter()
    markers = []
    with sandbox.client("syncro") as client:
        for i, ticket in enumerate(tickets):
            tid = ticket["id"]
            marker = f"NAIVE{i:06d}"
            markers.append((tid, marker))
            bodies = [
                (
                    f"/tickets/{tid}/comment",
                    {
                        "subject": "Resolution",
                        "body": f"Work {marker}",
                        "hidden": True,
                        "do_not_email": True,
                    },
                ),
                (
                    f"/tickets/{tid}/add_line_item",
                    {
                        "product_id": product_id,
                        "quantity": 0.75,
                        "name": "Labor - Onsite Business",
                        "description": marker,
                        "taxable": False,
                    },
                ),
                (
                    "/invoices",
                    {
                        "ticket_id": tid,
                        "customer_id": ticket["customer_id"],
                        "category": "Standard",
                        "note": marker,
                    },
                ),
            ]
            for path, body in bodies:
                for _attempt in range(3):
                    try:
                        r = client.post(path, json=body)
                        if r.status_code < 300 and isinstance(r.json(), dict):
                            break
                    except (httpx.HTTPError, ValueError):
                        continue
        for i, (tid, timer_id) in enumerate(timers):
            for _click in range(2 if i % 5 == 0 else 1):
                for _attempt in range(3):
                    try:
                        r = client.post(
                            f"/tickets/{tid}/charge_timer_entry", json={"timer_entry_id": timer_id}
                        )
                        if r.status_code < 300 and isinstance(r.json(), dict):
                            break
                    except (httpx.HTTPError, ValueError):
                        continue
    elapsed = time.perf_counter() - started
    made = timer_charge_line_items(sandbox.ledger)
    timer_duplicates = sum(max(0, made.get(timer_id, 0) - 1) for _tid, timer_id in timers)
    duplicates = 0
    for tid, marker in markers:
        rec = sandbox.syncro.ticket_records(tid)
        for items, field in (
            (rec["comments"], "body"),
            (rec["line_items"], "description"),
            (rec["invoices"], "note"),
        ):
            n = sum(1 for x in items if marker in (x.get(field) or ""))
            duplicates += max(0, n - 1)
    sandbox.close()
    return {
        "drafts": drafts,
        "duplicates": duplicates,
        "timer_duplicates": timer_duplicates,
        "seconds": elapsed,
    }


def main() -> None:
    from benchmarks.env import print_table

    drafts = int(os.environ.get("BENCH_DRAFTS", "550"))
    timer_count = int(os.environ.get("BENCH_TIMERS", "300"))
    outbox = _outbox_run(drafts, timer_count)
    naive = _naive_run(drafts, timer_count)
    print_table(
        f"Outbox under faults: {drafts} approved drafts × 4 writes (comment, line item, invoice, "
        f"status) and {timer_count} timer charges",
        ["measure", "outbox", "naive re-POST baseline"],
        [
            ["draft writes", outbox["writes"], drafts * 3],
            ["vendor write requests (drafts and timers)", outbox["requests"], "—"],
            ["faults injected (drafts and timers)", outbox["faults"], "same rules"],
            ["faults after the vendor committed", outbox["faulted_after_commit"], "—"],
            ["draft writes confirmed", outbox["confirmed"], "—"],
            ["draft writes waiting for a person", outbox["needs_person"], "—"],
            ["duplicates at the vendor (draft writes)", outbox["duplicates"], naive["duplicates"]],
            ["lost draft writes", outbox["lost"], "—"],
            ["blind re-sends", outbox["blind_resends"], "every retry"],
            ["timer charges (one write per timer)", outbox["timer_writes"], timer_count],
            ["charge_timer_entry requests", outbox["timer_requests"], "—"],
            ["faults on charge requests", outbox["timer_faults"], "same rules"],
            [
                "charge answers timed out after Syncro committed",
                outbox["timer_timeouts_after_commit"],
                "—",
            ],
            ["timer charges confirmed", outbox["timer_confirmed"], "—"],
            ["of which found already charged (precheck)", outbox["timer_prechecked"], "—"],
            ["timer charges waiting for a person", outbox["timer_needs_person"], "—"],
            [
                "timers charged twice (2 line items from 1 timer)",
                outbox["timer_duplicates"],
                naive["timer_duplicates"],
            ],
            ["lost timer charges", outbox["timer_lost"], "—"],
            ["blind re-sends of timer charges", outbox["timer_blind_resends"], "every retry"],
            ["seconds", outbox["seconds"], naive["seconds"]],
        ],
    )
    broken = outbox["duplicates"] or outbox["lost"] or outbox["blind_resends"]
    timers_broken = outbox["timer_duplicates"] or outbox["timer_lost"]
    if broken or timers_broken or outbox["timer_blind_resends"]:
        raise SystemExit("outbox invariant broken: duplicates, lost writes or blind re-sends")


if __name__ == "__main__":
    from benchmarks.env import django_for_benchmarks

    django_for_benchmarks()
    main()
