"""FieldCamp data: generated visits, calendar changes and invoices, and churn."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

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

TECHS = list(range(1, 11))  # FieldCamp technician numbers (ids via ``oid("tech", n)``)

if TYPE_CHECKING:
    from .emulator import FieldCampSandbox


def generate_fieldcamp(v: FieldCampSandbox, gen: Gen) -> None:
    """Fill the store: max(20, n/2) visits over the last eight months and three weeks ahead
    (statuses by time), their Google Calendar change records of the last 30 days, invoices for
    60 % of completed visits, and the integrations' state (calendars connected and synced 25
    minutes ago, QuickBooks not connected). The random draws happen in one fixed order, so a
    seed gives the same data set byte for byte."""
    store = v.sandbox.store
    n_clients = max(10, gen.n // 25)
    visits, changes, invoices, jobs = generate_visits(gen, n_clients)
    store.put_many(K_VISIT, visits)
    store.put_many(K_CHANGE, changes)
    store.put_many(K_INVOICE, invoices)
    store.set_sequence(K_VISIT, len(visits) + 1)
    store.set_sequence(K_CHANGE, len(changes) + 1)
    store.set_sequence(K_INVOICE, len(invoices) + 1)
    store.set_sequence("fieldcamp.job", jobs + 1)
    store.set_sequence("fieldcamp.client", n_clients + 1)
    store.meta_set("fieldcamp.integrations", integration_states(gen.anchor))


def generate_visits(
    gen: Gen, n_clients: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], int]:
    """``(visits, calendar changes, invoices, number of jobs)``: about four visits per three
    jobs, each job's client one of ``n_clients``; changes ordered and numbered by time."""
    rng = gen.rng
    n_visits = max(20, gen.n // 2)
    addresses = [gen.fake.address().replace("\n", ", ") for _ in range(min(n_clients, 2000))]
    visits: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    invoices: list[dict[str, Any]] = []
    recent = gen.anchor - timedelta(days=30)
    job_n = 0
    starts = sorted(gen.past(240, -21) for _ in range(n_visits))
    for i, start in enumerate(starts, 1):
        if i == 1 or rng.random() < 0.75:
            job_n += 1
        client = (job_n * 7919) % n_clients + 1
        visit, created, updated = _visit(gen, i, start, job_n, client, addresses)
        visits.append(visit)
        changes.extend(_calendar_changes(visit, created, updated, recent, len(changes) + 1))
        if visit["visitStatus"] == "completed" and rng.random() < 0.6:
            issue = min(updated + timedelta(hours=rng.randint(1, 48)), gen.anchor)
            invoices.append(
                invoice_record(len(invoices) + 1, visit, client, issue, gen.anchor, rng)
            )
    changes.sort(key=lambda c: (c["changed_at"], c["_seq"]))
    for seq, change in enumerate(changes, 1):
        change["_seq"] = seq
        change["id"] = f"chg_{seq:010d}"
    return visits, changes, invoices, job_n


def _visit(
    gen: Gen, i: int, start: datetime, job_n: int, client: int, addresses: list[str]
) -> tuple[dict[str, Any], datetime, datetime]:
    """Visit ``i`` of job ``job_n`` around ``start``: a status that fits its time (future:
    mostly scheduled; now: on the way or in progress; past: mostly completed). Returns it with
    its creation and last-change times."""
    rng = gen.rng
    start = start.replace(minute=rng.choice([0, 15, 30, 45]), second=0, microsecond=0)
    created = gen.not_after_anchor(
        start - timedelta(days=rng.uniform(0.5, 20)), gen.anchor - timedelta(days=20)
    )
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
    updated = gen.not_after_anchor(created + timedelta(minutes=rng.randint(1, 600)), created)
    if status in ("completed", "on_hold"):
        updated = gen.not_after_anchor(
            start + timedelta(minutes=minutes + rng.randint(0, 120)), min(start, gen.anchor)
        )
    visit = visit_record(
        i,
        job_n=job_n,
        job_number=f"JOB-{1000 + job_n}",
        client_n=client,
        tech_n=None if status == "unscheduled" else rng.choice(TECHS),
        title=rng.choice(TITLES),
        start=None if status == "unscheduled" else start,
        minutes=minutes,
        status=status,
        created=created,
        updated=updated,
        address=addresses[client % len(addresses)],
        event=None if status == "unscheduled" else _event_id(rng),
    )
    return visit, created, updated


def _calendar_changes(
    visit: dict[str, Any], created: datetime, updated: datetime, recent: datetime, seq: int
) -> list[dict[str, Any]]:
    """The change records of a visit with a Google event touched after ``recent``: created
    (if it was), then updated or deleted (cancelled); numbered from ``seq``."""
    out: list[dict[str, Any]] = []
    if not (visit["googleEventId"] and updated > recent):
        return out
    if created > recent:
        out.append(change_record(seq + len(out), "created", visit, created))
    action = "deleted" if visit["visitStatus"] == "cancelled" else "updated"
    if updated > created:
        out.append(change_record(seq + len(out), action, visit, updated))
    return out


def integration_states(anchor: datetime) -> dict[str, dict[str, Any]]:
    """The integrations as generated: both calendars connected and synced 25 (Google) and 28
    (Outlook) minutes before ``anchor``, QuickBooks not connected."""
    last = anchor - timedelta(minutes=25)
    return {
        "google-calendar": {"connected": True, "last_synced_at": iso_z(last)},
        "outlook-calendar": {
            "connected": True,
            "last_synced_at": iso_z(last - timedelta(minutes=3)),
        },
        "quickbooks": {"connected": False, "last_synced_at": None},
    }
