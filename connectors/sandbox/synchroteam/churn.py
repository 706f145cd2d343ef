"""Synchroteam churn: jobs move along their lifecycle (with activities), new ones arrive, the
odd one is deleted, invoices settle; stamped with the sandbox's now."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from connectors.sandbox.store import Where

from .records import (
    JOB_TYPES,
    K,
    activity,
    blank_job,
    custom_values,
    merge_custom_values,
    st_date,
    st_parse,
)

if TYPE_CHECKING:
    from .emulator import SynchroteamSandbox


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
