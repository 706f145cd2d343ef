"""Synchroteam generated inventory: three warehouses, one van per technician, the stock of each
tracked part in each, and the history that led there (parts used on finished jobs, Monday
restocks from the van's home warehouse, monthly supplier receipts, part requests).

Drawn from a ``random.Random`` of its own, seeded with ``(seed, "synchroteam:stock")``, after
every other Synchroteam resource: the shared generator's draws keep their order, so no seeded
figure of the other resources moves (docs/sandbox.md "Data"). The history is simulated in time
order, so each level equals its starting quantity plus the movements in, minus the ones out.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.sandbox.store import Where

from .records import FIRST_IDS, HISTORY_SPREAD, JOB_TYPES, K, st_date, st_parse
from .stock import depot_ref, movement_record, part_ref

if TYPE_CHECKING:
    from .emulator import SynchroteamSandbox

#: (name, isDefault) of the warehouses; vans restock from the first two in turn
WAREHOUSES = [("Main Warehouse", True), ("North Depot", False), ("South Depot", False)]
TRADE_OF_TYPE = {type_id: trade for type_id, _name, trade in JOB_TYPES}


def _depots(users: list[dict[str, Any]], at: datetime) -> list[dict[str, Any]]:
    out = []
    for i, (name, default) in enumerate(WAREHOUSES):
        out.append(
            {
                "id": FIRST_IDS["depot"] + i,
                "myId": f"WH-{i + 1:02d}",
                "name": name,
                "isDefault": default,
                "isProvider": False,
                "user": None,
                "active": True,
                "dateCreated": st_date(at),
                "dateModified": st_date(at),
            }
        )
    techs = [u for u in users if u["profile"] == "technician"]
    for n, tech in enumerate(techs, start=1):
        out.append(
            {
                "id": FIRST_IDS["depot"] + len(WAREHOUSES) + n - 1,
                "myId": f"VAN-{n:02d}",
                "name": f"Van {n:02d} · {tech['name']}",
                "isDefault": False,
                "isProvider": False,
                "user": {"id": tech["id"], "login": tech["login"], "name": tech["name"]},
                "active": tech["active"],
                "dateCreated": st_date(at),
                "dateModified": st_date(at),
            }
        )
    return out


def generate_stock(v: SynchroteamSandbox, anchor: datetime) -> dict[str, int]:
    """Fill depots, stock parts, part movements and part requests (module docstring); returns
    the count of each. Reads the users, parts and jobs already in the store."""
    store = v.sandbox.store
    rng = random.Random(f"{v.sandbox.seed}:synchroteam:stock")
    start = (anchor - timedelta(days=HISTORY_SPREAD)).replace(
        hour=6, minute=0, second=0, microsecond=0
    )
    users = store.select(K["user"])
    parts = [p for p in store.select(K["part"]) if p.get("isTracked")]
    depots = _depots(users, start - timedelta(days=30))
    warehouses, vans = depots[: len(WAREHOUSES)], depots[len(WAREHOUSES) :]
    van_of = {d["user"]["id"]: d for d in vans}
    by_id = {d["id"]: d for d in depots}
    user_of = {u["id"]: u for u in users}
    # level[(depot id, part id)] = quantity; target = the quantity a restock brings back
    level: dict[tuple[int, int], int] = {}
    target: dict[tuple[int, int], int] = {}
    touched: dict[tuple[int, int], datetime] = {}
    for i, wh in enumerate(warehouses):
        for part in parts if i == 0 else rng.sample(parts, 10):
            target[(wh["id"], part["id"])] = rng.randint(40, 150) if i == 0 else rng.randint(15, 60)
    for van in vans:
        for part in rng.sample(parts, min(10, len(parts))):
            big = "per lb" in part["name"]
            target[(van["id"], part["id"])] = rng.randint(8, 20) if big else rng.randint(2, 8)
    level.update(target)
    movements: list[dict[str, Any]] = []
    requests: list[dict[str, Any]] = []
    ids = {"mv": FIRST_IDS["partmovement"], "rq": FIRST_IDS["partrequest"]}
    part_by_id = {p["id"]: p for p in parts}

    def move(part, src, dst, qty, at, **extra) -> None:
        for depot, sign in ((src, -1), (dst, 1)):
            if depot is not None:
                key = (depot["id"], part["id"])
                level[key] = level.get(key, 0) + sign * qty
                touched[key] = at
        movements.append(
            movement_record(
                ids["mv"], part=part, from_depot=src, to_depot=dst, quantity=qty, at=at, **extra
            )
        )
        ids["mv"] += 1

    events: list[tuple[datetime, int, Any]] = []
    done = store.select(K["job"], [Where("status IN ('completed', 'validated')")])
    for job in done:
        end = st_parse(job.get("actualEnd"))
        tech = (job.get("technician") or {}).get("id")
        if end and tech in van_of and end <= anchor:
            events.append((end, 1, job))
    day = start
    while day < anchor:
        if day.weekday() == 0:
            events.append((day.replace(hour=7), 0, "restock"))
        if day.day == 1:
            events.append((day.replace(hour=6), 0, "receipt"))
        day += timedelta(days=1)
    events.sort(key=lambda e: (e[0], e[1], e[2]["id"] if isinstance(e[2], dict) else 0))
    for at, _order, what in events:
        if what == "receipt":
            for wh in warehouses:
                for (did, pid), want in target.items():
                    if did == wh["id"] and level[(did, pid)] < want * 0.6:
                        move(
                            part_by_id[pid],
                            None,
                            wh,
                            want - level[(did, pid)],
                            at,
                            comment="Supplier delivery",
                        )
        elif what == "restock":
            for n, van in enumerate(vans):
                home = warehouses[n % 2]
                tech = user_of[van["user"]["id"]]
                for (did, pid), want in target.items():
                    short = want - level[(did, pid)] if did == van["id"] else 0
                    have = level.get((home["id"], pid), 0)
                    qty = min(short, have)
                    if qty <= 0:
                        continue
                    rid = None
                    if rng.random() < 0.25:  # the technician asked for it in the app
                        rid = ids["rq"]
                        ids["rq"] += 1
                    move(
                        part_by_id[pid],
                        home,
                        van,
                        qty,
                        at,
                        user=tech,
                        request_id=rid,
                        comment="Weekly restock",
                    )
                    if rid:
                        requests.append(
                            _request(
                                rid, part_by_id[pid], qty, van, home, tech, at, ids["mv"] - 1, rng
                            )
                        )
        else:
            job = what
            van = van_of[job["technician"]["id"]]
            trade = TRADE_OF_TYPE.get((job.get("type") or {}).get("id"))
            held = [
                part_by_id[pid]
                for (did, pid) in target
                if did == van["id"]
                and part_by_id[pid]["category"] == trade
                and level[(did, pid)] > 0
            ]
            if not held or rng.random() < 0.35:
                continue
            for part in rng.sample(held, min(len(held), rng.choice([1, 1, 2]))):
                key = (van["id"], part["id"])
                qty = min(level[key], rng.randint(1, 4) if "per lb" in part["name"] else 1)
                move(
                    part,
                    van,
                    None,
                    qty,
                    at,
                    user=user_of[job["technician"]["id"]],
                    job=job,
                    comment=f"Used on job {job['num']}",
                )
    # a few requests still open: vans short of something now
    for van in vans:
        short = [
            (pid, want - level[(did, pid)])
            for (did, pid), want in target.items()
            if did == van["id"] and level[(did, pid)] < want
        ]
        if short and rng.random() < 0.3:
            pid, qty = rng.choice(short)
            rid = ids["rq"]
            ids["rq"] += 1
            at = anchor - timedelta(hours=rng.randint(1, 30))
            requests.append(
                _request(
                    rid, part_by_id[pid], qty, van, None, user_of[van["user"]["id"]], at, None, rng
                )
            )
    levels = []
    for n, ((did, pid), qty) in enumerate(sorted(level.items())):
        at = touched.get((did, pid), start)
        levels.append(
            {
                "id": FIRST_IDS["stockpart"] + n,
                "depot": depot_ref(by_id[did]),
                "part": part_ref(part_by_id[pid]),
                "quantity": qty,
                "serialNumbers": [],
                "dateCreated": st_date(start),
                "dateModified": st_date(at),
            }
        )
    store.put_many(K["depot"], depots)
    store.put_many(K["stockpart"], levels)
    store.put_many(K["partmovement"], movements)
    store.put_many(K["partrequest"], sorted(requests, key=lambda r: r["id"]))
    store.set_sequence(K["depot"], FIRST_IDS["depot"] + len(depots))
    store.set_sequence(K["stockpart"], FIRST_IDS["stockpart"] + len(levels))
    store.set_sequence(K["partmovement"], ids["mv"])
    store.set_sequence(K["partrequest"], ids["rq"])
    return {
        "depot": len(depots),
        "stockpart": len(levels),
        "partmovement": len(movements),
        "partrequest": len(requests),
    }


def _request(rid, part, qty, van, source, tech, at, movement_id, rng) -> dict[str, Any]:
    """A technician's part request for `van`; complete when `movement_id` fulfilled it."""
    return {
        "id": rid,
        "myId": None,
        "part": part_ref(part),
        "quantity": qty,
        "depot": depot_ref(van),
        "fromDepot": depot_ref(source) if source else None,
        "user": {"id": tech["id"], "login": tech["login"], "name": tech["name"]},
        "isUrgent": rng.random() < 0.15,
        "isSent": True,
        "isComplete": movement_id is not None,
        "isDeleted": False,
        "comment": "",
        "partMovement": {"id": movement_id} if movement_id else None,
        "dateCreated": st_date(at - timedelta(hours=20) if movement_id else at),
        "dateModified": st_date(at),
    }
