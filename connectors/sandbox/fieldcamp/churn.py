"""FieldCamp churn: visits are rescheduled, added and cancelled (each with a calendar change
record), invoices settle; stamped with the sandbox's now."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from connectors.sandbox.clock import iso_z, parse_instant
from connectors.sandbox.store import Where

from .records import (
    K_CHANGE,
    K_INVOICE,
    K_VISIT,
    TITLES,
    _event_id,
    change_record,
    from_oid,
    visit_record,
)

if TYPE_CHECKING:
    from .emulator import FieldCampSandbox


def churn_fieldcamp(v: FieldCampSandbox, count: int, rng: Any) -> dict[str, Any]:
    """Reschedule some visits, add new ones, cancel one (each with a calendar change record),
    and settle an invoice; stamped with the sandbox's now."""
    sb = v.sandbox
    store = sb.store
    now = sb.clock.now()
    out: dict[str, list[str]] = {"updated": [], "created": [], "deleted": []}
    if count <= 0:
        return out

    def change(action: str, visit: dict[str, Any]) -> None:
        seq = store.next_id(K_CHANGE)
        store.put(K_CHANGE, change_record(seq, action, visit, now))

    upcoming = store.ids(K_VISIT, [Where("status IN ('scheduled', 'dispatched')")])
    for n in rng.sample(upcoming, min(len(upcoming), max(count // 2, 1))):
        visit = store.get(K_VISIT, n)
        shift = timedelta(hours=rng.choice([-2, -1, 1, 2, 24, 48]))
        start = parse_instant(visit["scheduledStart"]) + shift
        visit.update(
            scheduledStart=iso_z(start),
            scheduledEnd=iso_z(start + timedelta(minutes=visit["serviceDuration"])),
            updatedAt=iso_z(now),
        )
        store.put(K_VISIT, visit)
        change("updated", visit)
        out["updated"].append(visit["id"])
    for _ in range(max(count // 4, 1)):
        n = store.next_id(K_VISIT)
        job_n = store.next_id("fieldcamp.job")
        start = (now + timedelta(days=rng.randint(1, 14))).replace(
            hour=rng.randint(8, 16), minute=0, second=0, microsecond=0
        )
        visit = visit_record(
            n,
            job_n=job_n,
            job_number=f"JOB-{1000 + job_n}",
            client_n=rng.randint(1, 10),
            tech_n=rng.randint(1, 10),
            title=rng.choice(TITLES),
            start=start,
            minutes=60,
            status="scheduled",
            created=now,
            updated=now,
            address="To be confirmed",
            event=_event_id(rng),
        )
        store.put(K_VISIT, visit)
        change("created", visit)
        out["created"].append(visit["id"])
    cancellable = sorted(set(upcoming) - {from_oid(K_VISIT, i) for i in out["updated"]})
    if count >= 10 and cancellable:
        visit = store.get(K_VISIT, rng.choice(cancellable))
        visit.update(visitStatus="cancelled", updatedAt=iso_z(now))
        store.put(K_VISIT, visit)
        change("deleted", visit)
        out["deleted"].append(visit["id"])
    open_invoices = store.ids(K_INVOICE, [Where("status IN ('unpaid', 'overdue', 'partial')")])
    for n in rng.sample(open_invoices, min(len(open_invoices), max(count // 10, 1))):
        invoice = store.get(K_INVOICE, n)
        invoice.update(
            status="paid", amountPaid=invoice["total"], balance=0.0, updatedAt=iso_z(now)
        )
        store.put(K_INVOICE, invoice)
    return out
