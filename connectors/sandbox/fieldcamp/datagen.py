"""FieldCamp data: generated visits, calendar changes and invoices, and churn."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from connectors.sandbox.clock import iso_z
from connectors.sandbox.datagen import Gen

from .records import (
    K_CHANGE,
    K_INVOICE,
    K_VISIT,
    TITLES,
    _event_id,
    change_record,
    invoice_record,
    visit_record,
)

if TYPE_CHECKING:
    from .emulator import FieldCampSandbox


def generate_fieldcamp(v: FieldCampSandbox, gen: Gen) -> None:
    """Fill the store: max(20, n/2) visits over the last eight months and three weeks ahead (statuses by time), their Google Calendar change records of the last 30 days, invoices for 60 % of completed visits, and the integrations' state (calendars connected and synced 25 minutes ago, QuickBooks not connected)."""
    store = v.sandbox.store
    rng, fake = gen.rng, gen.fake
    n_visits = max(20, gen.n // 2)
    n_clients = max(10, gen.n // 25)
    techs = list(range(1, 11))
    addresses = [fake.address().replace("\n", ", ") for _ in range(min(n_clients, 2000))]
    visits, changes, invoices = [], [], []
    change_seq = 1
    recent = gen.anchor - timedelta(days=30)
    job_n = 0
    starts = sorted(gen.past(240, -21) for _ in range(n_visits))
    for i, start in enumerate(starts, 1):
        if i == 1 or rng.random() < 0.75:
            job_n += 1
        client = (job_n * 7919) % n_clients + 1
        start = start.replace(minute=rng.choice([0, 15, 30, 45]), second=0, microsecond=0)
        created = min(start - timedelta(days=rng.uniform(0.5, 20)), gen.anchor)
        ahead = (start - gen.anchor).total_seconds() / 3600
        if ahead > 24:
            status = rng.choices(
                ["scheduled", "unscheduled", "dispatched", "cancelled"], [70, 10, 15, 5]
            )[0]
        elif ahead > -3:
            status = rng.choice(["dispatched", "en_route", "in_progress", "on_hold", "scheduled"])
        else:
            status = rng.choices(["completed", "cancelled", "on_hold"], [88, 9, 3])[0]
        minutes = rng.choice([30, 45, 60, 90, 120])
        updated = min(created + timedelta(minutes=rng.randint(1, 600)), gen.anchor)
        if status in ("completed", "on_hold"):
            updated = min(start + timedelta(minutes=minutes + rng.randint(0, 120)), gen.anchor)
        visit = visit_record(
            i,
            job_n=job_n,
            job_number=f"JOB-{1000 + job_n}",
            client_n=client,
            tech_n=None if status == "unscheduled" else rng.choice(techs),
            title=rng.choice(TITLES),
            start=None if status == "unscheduled" else start,
            minutes=minutes,
            status=status,
            created=created,
            updated=updated,
            address=addresses[client % len(addresses)],
            event=None if status == "unscheduled" else _event_id(rng),
        )
        visits.append(visit)
        if visit["googleEventId"] and updated > recent:
            if created > recent:
                changes.append(change_record(change_seq, "created", visit, created))
                change_seq += 1
            action = "deleted" if status == "cancelled" else "updated"
            if updated > created:
                changes.append(change_record(change_seq, action, visit, updated))
                change_seq += 1
        if status == "completed" and rng.random() < 0.6:
            issue = min(updated + timedelta(hours=rng.randint(1, 48)), gen.anchor)
            invoices.append(
                invoice_record(len(invoices) + 1, visit, client, issue, gen.anchor, rng)
            )
    changes.sort(key=lambda c: (c["changed_at"], c["_seq"]))
    for seq, change in enumerate(changes, 1):
        change["_seq"] = seq
        change["id"] = f"chg_{seq:010d}"
    store.put_many(K_VISIT, visits)
    store.put_many(K_CHANGE, changes)
    store.put_many(K_INVOICE, invoices)
    store.set_sequence(K_VISIT, len(visits) + 1)
    store.set_sequence(K_CHANGE, len(changes) + 1)
    store.set_sequence(K_INVOICE, len(invoices) + 1)
    store.set_sequence("fieldcamp.job", job_n + 1)
    store.set_sequence("fieldcamp.client", n_clients + 1)
    last = gen.anchor - timedelta(minutes=25)
    store.meta_set(
        "fieldcamp.integrations",
        {
            "google-calendar": {"connected": True, "last_synced_at": iso_z(last)},
            "outlook-calendar": {
                "connected": True,
                "last_synced_at": iso_z(last - timedelta(minutes=3)),
            },
            "quickbooks": {"connected": False, "last_synced_at": None},
        },
    )
