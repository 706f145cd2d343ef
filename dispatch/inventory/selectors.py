"""Inventory reads: depots and vans with their stock, one part everywhere and its history, and
the levels below the portal's minimums with the technicians whose vans are short before
tomorrow's jobs. Everything is the tenant's Synchroteam mirror plus `dispatch.models.StockMinimum`.

The mirror has no parts planned per job (Synchroteam's ``job/parts`` was not mirrored), so
"short before tomorrow" is: a van below a minimum whose technician has jobs scheduled tomorrow
(in the company's time zone).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum

from accounts.localtime import company_zone, local_day_bounds
from accounts.models import Tenant
from connectors.synchroteam.models import (
    SynchroteamDepot,
    SynchroteamJob,
    SynchroteamPart,
    SynchroteamPartMovement,
    SynchroteamPartRequest,
    SynchroteamStockLevel,
    SynchroteamUser,
)
from dispatch.models import StockMinimum

ZERO = Decimal(0)


@dataclass
class LevelRow:
    """One part in one depot: `quantity` mirrored, `minimum` from the portal (None: unset)."""

    depot: SynchroteamDepot | None
    part_vendor_id: int
    reference: str
    name: str
    quantity: Decimal
    minimum: Decimal | None = None
    technician: SynchroteamUser | None = None
    jobs_tomorrow: list = field(default_factory=list)
    open_requests: int = 0

    @property
    def below(self) -> bool:
        """Under its minimum (`is_below`)."""
        return self.minimum is not None and is_below(self.quantity, self.minimum)

    @property
    def shortfall(self) -> Decimal:
        """How many are missing to reach the minimum (0 when not below)."""
        return (self.minimum - self.quantity) if self.below else ZERO


@dataclass
class DepotRow:
    depot: SynchroteamDepot
    technician: SynchroteamUser | None
    parts: int
    units: Decimal
    below: int


def is_below(quantity: Decimal, minimum: Decimal) -> bool:
    """The below-threshold rule, the one place it is written: strictly under the minimum (a
    level at its minimum is stocked; a depot without the part holds 0)."""
    return quantity < minimum


def minimum_levels(tenant: Tenant) -> list[tuple[StockMinimum, Decimal]]:
    """Every portal minimum of `tenant` in a live depot, with the part's mirrored quantity
    there (0 when the depot does not hold it). Reads only the levels that have a minimum."""
    minimums = list(
        StockMinimum.objects.filter(
            tenant=tenant, depot_vendor_id__in=depots(tenant).values("vendor_id")
        ).select_related("connection")
    )
    if not minimums:
        return []
    levels = {
        (d, p): q
        for d, p, q in SynchroteamStockLevel.objects.for_tenant(tenant)
        .alive()
        .filter(
            depot_vendor_id__in={m.depot_vendor_id for m in minimums},
            part_vendor_id__in={m.part_vendor_id for m in minimums},
        )
        .values_list("depot_vendor_id", "part_vendor_id", "quantity")
    }
    return [(m, levels.get((m.depot_vendor_id, m.part_vendor_id), ZERO)) for m in minimums]


def _users(tenant: Tenant, ids) -> dict[int, SynchroteamUser]:
    return {
        u.vendor_id: u
        for u in SynchroteamUser.objects.for_tenant(tenant).filter(vendor_id__in=set(ids) - {None})
    }


def depots(tenant: Tenant):
    """The tenant's live depots (warehouses first, then vans by name)."""
    return SynchroteamDepot.objects.for_tenant(tenant).alive().order_by("kind", "name")


def tracked_parts(tenant: Tenant):
    """The tenant's live parts that are stocked (``type`` part, not services)."""
    return SynchroteamPart.objects.for_tenant(tenant).alive().filter(type="part").order_by("name")


def depot_overview(tenant: Tenant) -> dict[str, list[DepotRow]]:
    """``{"warehouses": [...], "vehicles": [...]}``: each depot with its technician, how many
    parts and units it holds and how many levels are below their minimum."""
    agg: dict[int, list] = defaultdict(lambda: [0, ZERO, 0])
    for depot_id, parts, units in (
        SynchroteamStockLevel.objects.for_tenant(tenant)
        .alive()
        .values("depot_vendor_id")
        .annotate(parts=Count("pk", filter=Q(quantity__gt=0)), units=Sum("quantity"))
        .values_list("depot_vendor_id", "parts", "units")
        .order_by()
    ):
        agg[depot_id][0], agg[depot_id][1] = parts, units or ZERO
    for minimum, quantity in minimum_levels(tenant):
        if is_below(quantity, minimum.minimum):
            agg[minimum.depot_vendor_id][2] += 1
    all_depots = list(depots(tenant))
    users = _users(tenant, [d.user_vendor_id for d in all_depots])
    out: dict[str, list[DepotRow]] = {"warehouses": [], "vehicles": []}
    for d in all_depots:
        parts, units, below = agg[d.vendor_id]
        key = "vehicles" if d.kind == SynchroteamDepot.Kind.VEHICLE else "warehouses"
        out[key].append(DepotRow(d, users.get(d.user_vendor_id), parts, units, below))
    return out


def _part_names(tenant: Tenant, ids) -> dict[int, tuple[str, str]]:
    return {
        vid: (ref, name)
        for vid, ref, name in SynchroteamPart.objects.for_tenant(tenant)
        .filter(vendor_id__in=set(ids))
        .values_list("vendor_id", "reference", "name")
    }


def depot_levels(tenant: Tenant, depot: SynchroteamDepot) -> list[LevelRow]:
    """Every part the depot holds or should hold (a minimum set), by reference."""
    mins = dict(
        StockMinimum.objects.filter(tenant=tenant, depot_vendor_id=depot.vendor_id).values_list(
            "part_vendor_id", "minimum"
        )
    )
    held = list(
        SynchroteamStockLevel.objects.for_tenant(tenant)
        .alive()
        .filter(depot_vendor_id=depot.vendor_id)
        .defer("raw")
    )
    names = _part_names(tenant, [lv.part_vendor_id for lv in held] + list(mins))
    rows = {}
    for lv in held:
        ref, name = names.get(lv.part_vendor_id, (lv.part_reference, lv.part_name))
        rows[lv.part_vendor_id] = LevelRow(
            depot, lv.part_vendor_id, ref, name, lv.quantity, mins.get(lv.part_vendor_id)
        )
    for part_id, minimum in mins.items():
        if part_id not in rows:
            ref, name = names.get(part_id, ("", f"Part {part_id}"))
            rows[part_id] = LevelRow(depot, part_id, ref, name, ZERO, minimum)
    return sorted(rows.values(), key=lambda r: (r.reference, r.part_vendor_id))


def part_levels(tenant: Tenant, part: SynchroteamPart) -> list[LevelRow]:
    """The part's level in every depot that holds it or has a minimum for it."""
    mins = dict(
        StockMinimum.objects.filter(tenant=tenant, part_vendor_id=part.vendor_id).values_list(
            "depot_vendor_id", "minimum"
        )
    )
    by_depot = {d.vendor_id: d for d in depots(tenant)}
    users = _users(tenant, [d.user_vendor_id for d in by_depot.values()])
    rows = {}
    for lv in (
        SynchroteamStockLevel.objects.for_tenant(tenant)
        .alive()
        .filter(part_vendor_id=part.vendor_id)
    ):
        rows[lv.depot_vendor_id] = lv.quantity
    out = []
    for depot_id in set(rows) | set(mins):
        depot = by_depot.get(depot_id)
        row = LevelRow(depot, part.vendor_id, part.reference, part.name, rows.get(depot_id, ZERO))
        row.minimum = mins.get(depot_id)
        row.technician = users.get(depot.user_vendor_id) if depot else None
        out.append(row)
    return sorted(
        out,
        key=lambda r: (
            r.depot is None,
            r.depot.kind if r.depot else "",
            r.depot.name if r.depot else "",
        ),
    )


def part_movements(tenant: Tenant, part: SynchroteamPart, limit: int = 50):
    """The part's latest movements, newest first."""
    return (
        SynchroteamPartMovement.objects.for_tenant(tenant)
        .alive()
        .filter(part_vendor_id=part.vendor_id)
        .order_by("-date", "-vendor_id")[:limit]
    )


def default_source(
    sources: list[tuple[SynchroteamDepot, Decimal]], wanted: int
) -> tuple[SynchroteamDepot | None, int]:
    """The depot a replenishment is offered from, and the quantity offered. Among the depots
    that hold all `wanted`: a warehouse before a van (a van is not emptied for another), then
    the one holding the most; `wanted` is offered. When none holds that many: the depot holding
    the most, offered what it holds (whole units, at least 1). ``(None, wanted)`` when no depot
    holds the part.

    `sources`: ``(depot, quantity held)`` pairs, quantities > 0."""
    if not sources:
        return None, wanted
    enough = [(d, q) for d, q in sources if q >= wanted]
    if enough:
        warehouse_first = max(
            enough, key=lambda dq: (dq[0].kind != SynchroteamDepot.Kind.VEHICLE, dq[1])
        )
        return warehouse_first[0], wanted
    depot, held = max(sources, key=lambda dq: dq[1])
    return depot, max(1, math.floor(held))


def tomorrow(tenant: Tenant, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Tomorrow from 00:00 to 24:00 in the company's time zone, as aware datetimes."""
    zone = company_zone(tenant)
    return local_day_bounds(now.astimezone(zone).date() + dt.timedelta(days=1), zone)


def below_threshold(tenant: Tenant, now: dt.datetime) -> list[LevelRow]:
    """Levels under their minimum, vans with jobs tomorrow first, then by shortfall. Each row
    carries the van's technician, their jobs tomorrow and the open part requests for it."""
    by_depot = {d.vendor_id: d for d in depots(tenant)}
    short = [(m, q) for m, q in minimum_levels(tenant) if is_below(q, m.minimum)]
    names = _part_names(tenant, [m.part_vendor_id for m, _ in short])
    rows = []
    for m, qty in short:
        if m.depot_vendor_id not in by_depot:
            continue  # the depot was deleted between the two reads
        ref, name = names.get(m.part_vendor_id, ("", f"Part {m.part_vendor_id}"))
        rows.append(
            LevelRow(by_depot[m.depot_vendor_id], m.part_vendor_id, ref, name, qty, m.minimum)
        )
    users = _users(tenant, [r.depot.user_vendor_id for r in rows])
    start, end = tomorrow(tenant, now)
    jobs = defaultdict(list)
    for job in (
        SynchroteamJob.objects.for_tenant(tenant)
        .alive()
        .filter(scheduled_start__gte=start, scheduled_start__lt=end)
        .exclude(status="cancelled")
        .order_by("scheduled_start")
    ):
        jobs[job.technician_vendor_id].append(job)
    open_requests = defaultdict(int)
    for depot_id, part_id in (
        SynchroteamPartRequest.objects.for_tenant(tenant)
        .alive()
        .filter(status__in=("open", "sent"))
        .values_list("depot_vendor_id", "part_vendor_id")
    ):
        open_requests[(depot_id, part_id)] += 1
    for row in rows:
        row.technician = users.get(row.depot.user_vendor_id)
        row.jobs_tomorrow = (
            jobs.get(row.depot.user_vendor_id, []) if row.depot.user_vendor_id else []
        )
        row.open_requests = open_requests[(row.depot.vendor_id, row.part_vendor_id)]
    rows.sort(key=lambda r: (not r.jobs_tomorrow, -r.shortfall, r.depot.name, r.reference))
    return rows
