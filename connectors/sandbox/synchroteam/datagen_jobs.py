"""Synchroteam generated jobs: one function per resource (the job, its travel and work
activities, its invoice and quotation) and the technicians' timesheets."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.sandbox.datagen import Gen
from connectors.sandbox.store import Store

from .records import (
    ADDRESS_KEYS,
    FIRST_IDS,
    HISTORY_SPREAD,
    JOB_TYPES,
    STATUSES,
    TRADE_TEMPLATES,
    K,
    activity,
    blank_job,
    custom_values,
    invoice_record,
    st_date,
)

if TYPE_CHECKING:
    pass

JOB_DESCRIPTIONS = {
    "HVAC": [
        "No cooling upstairs",
        "Annual AC tune-up",
        "Furnace short cycling",
        "Replace condenser fan motor",
        "Thermostat not responding",
        "Strange noise from air handler",
    ],
    "Plumbing": [
        "Water heater leaking",
        "Kitchen drain clogged",
        "Low water pressure",
        "Install new water heater",
        "Toilet running constantly",
        "Leak under slab suspected",
    ],
    "Electrical": [
        "Breaker keeps tripping",
        "Install EV charger in garage",
        "Upgrade panel to 200A",
        "Outlets dead in kitchen",
        "Install recessed lighting",
        "Flickering lights",
    ],
}


def generate_jobs(
    gen: Gen,
    store: Store,
    customers: list[dict[str, Any]],
    sites: list[dict[str, Any]],
    equipment: list[dict[str, Any]],
    techs: list[dict[str, Any]],
) -> tuple[dict[str, int], dict[str, int]]:
    """n jobs scheduled over the history and two weeks ahead, with their travel and work
    activities, invoices (65 % of finished jobs) and quotations (10 %), then the
    technicians' timesheets. Written in batches of 5 000 jobs; returns the next ids and the
    next invoice and quotation numbers."""
    sites_of: dict[int, list[dict[str, Any]]] = {}
    for site in sites:
        sites_of.setdefault(site["customer"]["id"], []).append(site)
    equipment_of: dict[int, list[dict[str, Any]]] = {}
    for eq in equipment:
        equipment_of.setdefault(eq["site"]["id"], []).append(eq)
    rng = gen.rng
    ids = {k: FIRST_IDS[k] for k in ("job", "job_num", "activity", "invoice", "quotation")}
    nums = {"invoice": 1, "quotation": 1}
    batch: dict[str, list[dict[str, Any]]] = {
        "job": [],
        "activity": [],
        "invoice": [],
        "quotation": [],
    }

    def flush() -> None:
        for name, rows in batch.items():
            if rows:
                store.put_many(K[name], rows)
                rows.clear()

    start_times = sorted(gen.past(HISTORY_SPREAD, -14) for _ in range(gen.n))
    for i, sched in enumerate(start_times):
        cust = rng.choice(customers)
        site = rng.choice(sites_of[cust["id"]])
        job, tech, sched, created = _job(gen, ids, i, sched, cust, site, equipment_of, techs)
        activities, actual_end, modified = _job_activities(gen, ids, job, tech, sched, created)
        batch["activity"].extend(activities)
        if actual_end is not None and rng.random() < 0.65:
            batch["invoice"].append(_job_invoice(gen, ids, nums, job, actual_end))
        if rng.random() < 0.1:
            batch["quotation"].append(_job_quotation(gen, ids, nums, job, created))
        job["dateModified"] = st_date(gen.not_after_anchor(modified, created))
        batch["job"].append(job)
        if len(batch["job"]) >= 5000:
            flush()
    batch["activity"].extend(generate_timesheets(gen, ids, techs))
    flush()
    return ids, nums


def _job_status(rng: Any, i: int, hours_ahead: float) -> str:
    """A status that fits a job scheduled ``hours_ahead`` of now; the first jobs take every
    status once, so each shows up."""
    if i < len(STATUSES):
        return STATUSES[i]
    if hours_ahead > 24:
        return rng.choices(["scheduled", "synchronized", "created", "cancelled"], [50, 20, 25, 5])[
            0
        ]
    if hours_ahead > -4:
        return rng.choices(["synchronized", "started", "paused", "scheduled"], [30, 40, 15, 15])[0]
    if hours_ahead > -24 * 10:
        return rng.choices(["completed", "validated", "cancelled", "paused"], [45, 45, 7, 3])[0]
    return rng.choices(["validated", "completed", "cancelled"], [80, 12, 8])[0]


def _job(
    gen: Gen,
    ids: dict[str, int],
    i: int,
    sched: datetime,
    cust: dict[str, Any],
    site: dict[str, Any],
    equipment_of: dict[int, list[dict[str, Any]]],
    techs: list[dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, Any], datetime, datetime]:
    """The ``i``-th job at ``site``: type, status, custom fields and (unless still "created")
    its technician and schedule. Returns the job, the technician, the start time and the
    creation time."""
    rng = gen.rng
    d = st_date
    jid, num = ids["job"], ids["job_num"]
    ids["job"] += 1
    ids["job_num"] += 1
    type_id, type_name, trade = rng.choice(JOB_TYPES)
    eq_choices = [e for e in equipment_of.get(site["id"], []) if e["category"] == trade]
    eq = rng.choice(eq_choices) if eq_choices else None
    sched = sched.replace(
        minute=rng.choice([0, 30]), second=0, microsecond=0, hour=rng.randint(7, 16)
    )
    created = sched - timedelta(days=rng.uniform(0.2, 14))
    status = _job_status(rng, i, (sched - gen.anchor).total_seconds() / 3600)
    created = gen.not_after_anchor(created, gen.anchor - timedelta(days=14))
    job = blank_job(jid, num, created)
    tech = rng.choice(techs)
    job.update({k: site[k] for k in ADDRESS_KEYS})
    job.update(
        myId=f"WO-{num}" if rng.random() < 0.6 else None,
        description=rng.choice(JOB_DESCRIPTIONS[trade]),
        priority=rng.choices(["low", "medium", "high"], [20, 65, 15])[0],
        customer={"id": cust["id"], "myId": cust["myId"], "name": cust["name"]},
        site={"id": site["id"], "myId": site["myId"], "name": site["name"]},
        equipment={"id": eq["id"], "myId": eq["myId"], "name": eq["name"]} if eq else None,
        type={"id": type_id, "name": type_name},
        reportTemplate={"id": TRADE_TEMPLATES[trade][0], "name": TRADE_TEMPLATES[trade][1]},
        contactFirstName=cust["contactFirstName"],
        contactLastName=cust["contactLastName"],
        contactPhone=cust["contactPhone"],
        contactMobile=cust["contactMobile"],
        contactEmail=cust["contactEmail"],
        status=status,
        customFieldValues=custom_values(
            "job",
            {
                101: f"PO-{rng.randint(1000, 99999)}" if rng.random() < 0.5 else "",
                102: rng.choice(["Repair", "Maintenance", "Install", "Inspection", "Emergency"]),
                103: "yes" if "Install" in type_name or "Upgrade" in type_name else "no",
                104: str(rng.choice([0, 0, 0, 1, 2, 3])) if trade == "HVAC" else "",
            },
        ),
    )
    if status != "created":
        duration = timedelta(minutes=rng.choice([60, 90, 120, 180, 240]))
        job.update(
            technician={"id": tech["id"], "login": tech["login"], "name": tech["name"]},
            scheduledStart=d(sched),
            scheduledEnd=d(sched + duration),
        )
    return job, tech, sched, created


def _job_activities(
    gen: Gen,
    ids: dict[str, int],
    job: dict[str, Any],
    tech: dict[str, Any],
    sched: datetime,
    created: datetime,
) -> tuple[list[dict[str, Any]], datetime | None, datetime]:
    """Travel to a started job, work on a finished one, validation of a validated one.
    Returns the activities, the actual end (None unless finished) and the job's last change
    (scheduling counts as a change five minutes after creation)."""
    rng = gen.rng
    d = st_date
    status = job["status"]
    modified = created if status == "created" else min(created + timedelta(minutes=5), gen.anchor)
    out: list[dict[str, Any]] = []
    actual_end = None
    if status in ("started", "paused", "completed", "validated"):
        actual_start = min(sched + timedelta(minutes=rng.randint(-20, 40)), gen.anchor)
        travel_start = actual_start - timedelta(minutes=rng.randint(10, 45))
        out.append(
            activity(
                ids["activity"], "travel", tech, job, travel_start, actual_start, "Drive to site"
            )
        )
        ids["activity"] += 1
        job["actualStart"] = d(actual_start)
        modified = max(modified, actual_start)
        if status in ("completed", "validated"):
            actual_end = min(actual_start + timedelta(minutes=rng.randint(35, 260)), gen.anchor)
            job["actualEnd"] = d(actual_end)
            out.append(
                activity(
                    ids["activity"], "work", tech, job, actual_start, actual_end, job["description"]
                )
            )
            ids["activity"] += 1
            modified = max(modified, actual_end)
            if status == "validated":
                validated = gen.after(actual_end, 72)
                job["dateValidated"] = d(validated)
                modified = max(modified, validated)
    return out, actual_end, modified


def _job_invoice(
    gen: Gen, ids: dict[str, int], nums: dict[str, int], job: dict[str, Any], actual_end: datetime
) -> dict[str, Any]:
    """The invoice of a finished job, issued within four days of the work."""
    iid = ids["invoice"]
    ids["invoice"] += 1
    issued = gen.after(actual_end, 96)
    inv = invoice_record(iid, nums["invoice"], job, gen.rng, issued, gen.anchor)
    nums["invoice"] += 1
    return inv


def _job_quotation(
    gen: Gen, ids: dict[str, int], nums: dict[str, int], job: dict[str, Any], created: datetime
) -> dict[str, Any]:
    """A quotation made when the job was created."""
    qid = ids["quotation"]
    ids["quotation"] += 1
    q = invoice_record(qid, nums["quotation"], job, gen.rng, created, gen.anchor, quotation=True)
    nums["quotation"] += 1
    return q


def generate_timesheets(
    gen: Gen, ids: dict[str, int], techs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Clock in/out per technician per weekday over the recent weeks (4 % of days taken off
    as unavailability), up to the sandbox's now."""
    rng = gen.rng
    out: list[dict[str, Any]] = []
    days = min(HISTORY_SPREAD, max(14, gen.n // 40))
    for day in range(days, -1, -1):
        date = (gen.anchor - timedelta(days=day)).replace(hour=0, minute=0, second=0, microsecond=0)
        if date.weekday() >= 5:
            continue
        for tech in techs:
            if rng.random() < 0.04:
                out.append(
                    activity(
                        ids["activity"],
                        "unavailability",
                        tech,
                        None,
                        date + timedelta(hours=8),
                        date + timedelta(hours=17),
                        rng.choice(["Vacation", "Sick day", "Training"]),
                    )
                )
                ids["activity"] += 1
                continue
            clock_in = date + timedelta(hours=7, minutes=rng.randint(0, 50))
            if clock_in > gen.anchor:
                continue
            out.append(activity(ids["activity"], "clockin", tech, None, clock_in, None, ""))
            ids["activity"] += 1
            clock_out = clock_in + timedelta(hours=8, minutes=rng.randint(0, 120))
            if clock_out <= gen.anchor:
                out.append(activity(ids["activity"], "clockout", tech, None, clock_out, None, ""))
                ids["activity"] += 1
    return out
