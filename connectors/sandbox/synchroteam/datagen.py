"""Synchroteam data: the generator (one function per resource) and churn."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.sandbox import accounts
from connectors.sandbox.datagen import Gen
from connectors.sandbox.store import Store, Where

from .records import (
    EQUIPMENT,
    FIRST_IDS,
    HISTORY_SPREAD,
    JOB_TYPES,
    PARTS,
    STATUSES,
    TAX,
    TRADE_TEMPLATES,
    K,
    activity,
    blank_job,
    custom_values,
    invoice_record,
    merge_custom_values,
    st_date,
    st_parse,
)

if TYPE_CHECKING:
    from .emulator import SynchroteamSandbox


def _addr(gen: Gen) -> dict[str, Any]:
    f = gen.fake
    street, city, state, zip_code = f.street_address(), f.city(), f.state_abbr(), f.zipcode()
    return {
        "address": f"{street}, {city}, {state} {zip_code}",
        "addressStreet": street,
        "addressCity": city,
        "addressProvince": state,
        "addressZIP": zip_code,
        "addressCountry": "United States",
        "position": {
            "latitude": round(float(f.latitude()), 5),
            "longitude": round(float(f.longitude()), 5),
        },
    }


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
ADDRESS_KEYS = (
    "address",
    "addressStreet",
    "addressCity",
    "addressProvince",
    "addressZIP",
    "addressCountry",
    "position",
)


def generate_synchroteam(v: SynchroteamSandbox, gen: Gen) -> None:
    """Fill the store: users (an office manager and technicians), parts, customers with sites
    and equipment, n jobs with their activities, invoices and quotations, and the
    technicians' timesheets (clock in/out, unavailability). The random draws happen in one
    fixed order, so a seed gives the same data set byte for byte."""
    store = v.sandbox.store
    users = generate_users(gen)
    store.put_many(K["user"], users)
    techs = [u for u in users if u["profile"] == "technician"]
    parts = generate_parts(gen)
    store.put_many(K["part"], parts)
    customers, sites, equipment = generate_customers(gen)
    store.put_many(K["customer"], customers)
    store.put_many(K["site"], sites)
    store.put_many(K["equipment"], equipment)
    ids, nums = generate_jobs(gen, store, customers, sites, equipment, techs)
    for name in ("job", "activity", "invoice", "quotation"):
        store.set_sequence(K[name], ids[name])
    store.set_sequence("synchroteam.job_num", ids["job_num"])
    store.set_sequence("synchroteam.invoice_num", nums["invoice"])
    store.set_sequence("synchroteam.quotation_num", nums["quotation"])
    store.set_sequence(K["customer"], FIRST_IDS["customer"] + len(customers))
    store.set_sequence(K["site"], FIRST_IDS["site"] + len(sites))
    store.set_sequence(K["equipment"], FIRST_IDS["equipment"] + len(equipment))
    store.set_sequence(K["user"], FIRST_IDS["user"] + len(users))
    store.set_sequence(K["part"], FIRST_IDS["part"] + len(parts))


def generate_users(gen: Gen) -> list[dict[str, Any]]:
    """The office manager and min(60, max(8, n/2500)) technicians (5 % inactive)."""
    rng, fake = gen.rng, gen.fake
    d = st_date
    n_techs = min(60, max(8, gen.n // 2500))
    office = {
        "id": FIRST_IDS["user"],
        "myId": "EMP-000",
        "login": "office",
        "firstName": "Office",
        "lastName": "Manager",
        "name": "Office Manager",
        "email": f"office@{accounts.SYNCHROTEAM_DOMAIN}.example",
        "phone": fake.numerify("###-###-####"),
        "profile": "manager",
        "active": True,
        "customFieldValues": [],
        "dateCreated": d(gen.past(900, 600)),
        "dateModified": d(gen.past(600, 300)),
    }
    users = [office]
    for i in range(1, n_techs + 1):
        first, last = fake.first_name(), fake.last_name()
        at = gen.past(900, 280)
        users.append(
            {
                "id": FIRST_IDS["user"] + i,
                "myId": f"EMP-{i:03d}",
                "login": f"{first[0].lower()}{last.lower()}",
                "firstName": first,
                "lastName": last,
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}@{accounts.SYNCHROTEAM_DOMAIN}.example",
                "phone": fake.numerify("###-###-####"),
                "profile": "technician",
                "active": rng.random() > 0.05,
                "customFieldValues": custom_values(
                    "user",
                    {
                        501: fake.bothify("LIC-#######"),
                        502: f"VAN-{i:02d}",
                        503: rng.choice(
                            [
                                "EPA 608",
                                "EPA 608, NATE",
                                "Journeyman Plumber",
                                "Master Electrician",
                                "Journeyman Electrician",
                            ]
                        ),
                    },
                ),
                "dateCreated": d(at),
                "dateModified": d(gen.after(at, 24 * 200)),
            }
        )
    return users


def generate_parts(gen: Gen) -> list[dict[str, Any]]:
    """The parts and services catalogue (``PARTS``)."""
    d = st_date
    parts = []
    for i, (ref, name, kind, cat, price) in enumerate(PARTS):
        parts.append(
            {
                "id": FIRST_IDS["part"] + i,
                "myId": None,
                "reference": ref,
                "name": name,
                "description": name,
                "price": price,
                "isTracked": kind == "part",
                "category": cat,
                "status": "active",
                "type": kind,
                "tax": TAX,
                "dateCreated": d(gen.past(900, 600)),
                "dateModified": d(gen.past(600, 100)),
            }
        )
    return parts


def generate_customers(
    gen: Gen,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """``(customers, sites, equipment)``: max(15, n/20) customers (40 % commercial, with 1-3
    sites), each site with 1-2 pieces of equipment of different trades."""
    rng = gen.rng
    customers: list[dict[str, Any]] = []
    sites: list[dict[str, Any]] = []
    equipment: list[dict[str, Any]] = []
    for i in range(max(15, gen.n // 20)):
        cust, commercial, at = _customer(gen, i)
        customers.append(cust)
        for s in range(rng.choices([1, 2, 3], [70, 22, 8])[0] if commercial else 1):
            site = _site(gen, cust, s, FIRST_IDS["site"] + len(sites), at)
            sites.append(site)
            for trade in rng.sample(list(EQUIPMENT), rng.randint(1, 2)):
                equipment.append(
                    _equipment(gen, site, trade, FIRST_IDS["equipment"] + len(equipment), at)
                )
    return customers, sites, equipment


def _customer(gen: Gen, i: int) -> tuple[dict[str, Any], bool, datetime]:
    """The ``i``-th customer, whether it is commercial, and when it was created."""
    rng, fake = gen.rng, gen.fake
    d = st_date
    at = gen.past(900, 280)
    commercial = rng.random() < 0.4
    first, last = fake.first_name(), fake.last_name()
    name = fake.company() if commercial else f"{last}, {first}"
    cust = {
        "id": FIRST_IDS["customer"] + i,
        "myId": f"CUST-{i + 1:05d}",
        "name": name,
        **_addr(gen),
        "contactFirstName": first,
        "contactLastName": last,
        "contactEmail": f"{first.lower()}.{last.lower()}@example.com",
        "contactPhone": fake.numerify("###-###-####"),
        "contactMobile": fake.numerify("###-###-####"),
        "active": True,
        "customFieldValues": custom_values(
            "customer",
            {
                201: rng.choice(["Due on receipt", "Net 15", "Net 30"])
                if commercial
                else "Due on receipt",
                202: "no" if rng.random() < 0.9 else "yes",
                203: rng.choice(["Phone", "Email", "SMS"]),
            },
        ),
        "dateCreated": d(at),
        "dateModified": d(gen.after(at, 24 * 300)),
    }
    return cust, commercial, at


def _site(gen: Gen, cust: dict[str, Any], s: int, sid: int, at: datetime) -> dict[str, Any]:
    """Site number ``s`` of ``cust`` (the first one at the customer's address)."""
    rng, fake = gen.rng, gen.fake
    d = st_date
    name = cust["name"]
    return {
        "id": sid,
        "myId": f"SITE-{sid - FIRST_IDS['site'] + 1:05d}",
        "name": f"{name} - {'Main' if s == 0 else fake.city()}",
        "customer": {"id": cust["id"], "myId": cust["myId"], "name": name},
        **(_addr(gen) if s else {k: cust[k] for k in ADDRESS_KEYS}),
        "contactFirstName": cust["contactFirstName"],
        "contactLastName": cust["contactLastName"],
        "contactPhone": cust["contactPhone"],
        "active": True,
        "customFieldValues": custom_values(
            "site",
            {
                301: fake.numerify("####") if rng.random() < 0.4 else "",
                302: rng.choice(["Mon-Fri 8-5", "24/7", "Call ahead", "Weekdays after 9am"]),
                303: rng.choice(["yes", "no", "no"]),
            },
        ),
        "dateCreated": d(at),
        "dateModified": d(gen.after(at, 24 * 300)),
    }


def _equipment(
    gen: Gen, site: dict[str, Any], trade: str, eid: int, at: datetime
) -> dict[str, Any]:
    """One piece of ``trade`` equipment installed at ``site``."""
    rng, fake = gen.rng, gen.fake
    d = st_date
    brand, model = rng.choice(EQUIPMENT[trade])
    installed = gen.past(3000, 300)
    return {
        "id": eid,
        "myId": fake.bothify("SN-??########").upper(),
        "name": f"{brand} {model}",
        "brand": brand,
        "model": model,
        "category": trade,
        "customer": site["customer"],
        "site": {"id": site["id"], "myId": site["myId"], "name": site["name"]},
        "active": True,
        "customFieldValues": custom_values(
            "equipment",
            {
                401: installed.strftime("%Y-%m-%d"),
                402: (installed + timedelta(days=3650)).strftime("%Y-%m-%d"),
                403: rng.choice(["R-410A", "R-32", "R-22", "R-454B"]) if trade == "HVAC" else "",
                404: rng.choice(["16x25x1", "20x25x1", "16x20x1"]) if trade == "HVAC" else "",
            },
        ),
        "dateCreated": d(at),
        "dateModified": d(gen.after(at, 24 * 300)),
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
        job["dateModified"] = st_date(min(modified, gen.anchor))
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
    created = min(created, gen.anchor)
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


NEXT_STATUS = {
    "created": "scheduled",
    "scheduled": "synchronized",
    "synchronized": "started",
    "started": "completed",
    "paused": "started",
    "completed": "validated",
}


def churn_synchroteam(v: SynchroteamSandbox, count: int, rng: Any) -> dict[str, Any]:
    """Advance jobs along their lifecycle, create new unscheduled jobs, delete one, touch a
    customer's custom field. ``dateModified`` = sandbox now."""
    sb = v.sandbox
    store = sb.store
    now = sb.clock.now()
    out: dict[str, list[int]] = {"updated": [], "created": [], "deleted": []}
    if count <= 0:
        return out
    movable = store.ids(
        K["job"],
        [Where("status IN ('created','scheduled','synchronized','started','paused','completed')")],
    )
    techs = store.select(K["user"], [Where("status = 'technician'")])
    for jid in rng.sample(movable, min(len(movable), max(count // 2, 1))):
        job = store.get(K["job"], jid)
        new_status = NEXT_STATUS[job["status"]]
        job["status"] = new_status
        tech = rng.choice(techs)
        if new_status == "scheduled":
            start = (now + timedelta(days=rng.randint(1, 10))).replace(
                hour=rng.randint(7, 15), minute=0, second=0, microsecond=0
            )
            job.update(
                technician={"id": tech["id"], "login": tech["login"], "name": tech["name"]},
                scheduledStart=st_date(start),
                scheduledEnd=st_date(start + timedelta(hours=2)),
            )
        elif new_status == "started":
            job["actualStart"] = st_date(now)
        elif new_status == "completed":
            job["actualEnd"] = st_date(now)
            if job.get("technician"):
                started = st_parse(job.get("actualStart")) or now - timedelta(hours=1)
                aid = store.next_id(K["activity"])
                store.put(
                    K["activity"],
                    activity(aid, "work", job["technician"], job, started, now, job["description"]),
                )
        elif new_status == "validated":
            job["dateValidated"] = st_date(now)
        job["dateModified"] = st_date(now)
        store.put(K["job"], job)
        out["updated"].append(jid)
    customers = store.ids(K["customer"])
    for _ in range(max(count // 4, 1)):
        cust = store.get(K["customer"], rng.choice(customers))
        jid = store.next_id(K["job"])
        num = store.next_id("synchroteam.job_num")
        job = blank_job(jid, num, now)
        type_id, type_name, _trade = rng.choice(JOB_TYPES)
        job.update(
            myId=f"WO-{num}",
            description=f"{type_name} requested",
            customer={"id": cust["id"], "myId": cust["myId"], "name": cust["name"]},
            type={"id": type_id, "name": type_name},
            customFieldValues=custom_values("job", {102: "Repair"}),
        )
        store.put(K["job"], job)
        out["created"].append(jid)
    if customers:
        cust = store.get(K["customer"], rng.choice(customers))
        cust["customFieldValues"] = merge_custom_values(
            "customer",
            cust.get("customFieldValues") or [],
            [{"label": "Preferred Contact Method", "value": rng.choice(["Phone", "Email", "SMS"])}],
        )
        cust["dateModified"] = st_date(now)
        store.put(K["customer"], cust)
    deletable = sorted(
        set(store.ids(K["job"], [Where("status IN ('created', 'cancelled')")]))
        - set(out["created"])
        - set(out["updated"])
    )
    if count >= 10 and deletable:
        jid = rng.choice(deletable)
        store.delete(K["job"], jid)
        out["deleted"].append(jid)
    return out
