"""The part page's chart, drawn on the server as inline SVG (no script, no CDN; the same way the
Integrations card draws its request sparkline, `connectors.summary`).

`part_history` buckets the part's mirrored movements by week: bars up for units received from
suppliers, bars down for units used on jobs (or written off), and a line for the total held in
all depots at the end of each week, worked back from today's mirrored levels (transfers between
depots leave the total unchanged).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from accounts.localtime import local_day_bounds
from connectors.synchroteam.models import (
    SynchroteamPart,
    SynchroteamPartMovement,
    SynchroteamStockLevel,
)

WIDTH, HEIGHT, BAR = 520, 140, 14
#: vertical layout: line area 0..70, zero axis of the bars at 105, bars ±30
LINE_TOP, LINE_BOTTOM, AXIS, BAR_SPAN = 6, 70, 105, 30


@dataclass
class Week:
    start: dt.date
    received: Decimal
    used: Decimal
    total: Decimal


def weeks_of(tenant, part: SynchroteamPart, *, today: dt.date, weeks: int = 26) -> list[Week]:
    """`weeks` Monday-based buckets ending with the current week: received, used and the total
    held at each week's end (the last is today's mirrored total)."""
    first = today - dt.timedelta(days=today.weekday(), weeks=weeks - 1)
    zone = timezone.get_current_timezone()
    received = [Decimal(0)] * weeks
    used = [Decimal(0)] * weeks
    moves = (
        SynchroteamPartMovement.objects.for_tenant(tenant)
        .alive()
        .filter(part_vendor_id=part.vendor_id, date__gte=local_day_bounds(first, zone)[0])
        .values_list("date", "from_depot_vendor_id", "to_depot_vendor_id", "quantity")
    )
    for when, src, dst, qty in moves:
        i = (when.astimezone(zone).date() - first).days // 7
        if not 0 <= i < weeks:
            continue
        if src is None and dst is not None:
            received[i] += qty
        elif dst is None and src is not None:
            used[i] += qty
    total = sum(
        SynchroteamStockLevel.objects.for_tenant(tenant)
        .alive()
        .filter(part_vendor_id=part.vendor_id)
        .values_list("quantity", flat=True),
        Decimal(0),
    )
    out = []
    for i in range(weeks - 1, -1, -1):
        out.append(Week(first + dt.timedelta(weeks=i), received[i], used[i], total))
        total = total - received[i] + used[i]
    return out[::-1]


def part_history(tenant, part: SynchroteamPart, *, today: dt.date, weeks: int = 26) -> dict:
    """SVG geometry for the template: ``{"bars": [{x, y, h, kind, title}], "points": "x,y …",
    "width", "height", "axis", "peak_total", "peak_flow", "weeks", "has_data"}``."""
    data = weeks_of(tenant, part, today=today, weeks=weeks)
    step = WIDTH / weeks
    peak_total = max([w.total for w in data] + [Decimal(1)])
    peak_flow = max([max(w.received, w.used) for w in data] + [Decimal(1)])
    bars, points = [], []
    for i, w in enumerate(data):
        x = round(i * step + (step - BAR) / 2, 1)
        label = f"week of {w.start:%d %b}"
        if w.received:
            h = round(float(w.received / peak_flow) * BAR_SPAN, 1)
            bars.append(
                {
                    "x": x,
                    "y": round(AXIS - h, 1),
                    "h": h,
                    "kind": "in",
                    "title": f"{label}: {w.received.normalize():f} received",
                }
            )
        if w.used:
            h = round(float(w.used / peak_flow) * BAR_SPAN, 1)
            bars.append(
                {
                    "x": x,
                    "y": AXIS,
                    "h": h,
                    "kind": "out",
                    "title": f"{label}: {w.used.normalize():f} used",
                }
            )
        y = LINE_BOTTOM - float(max(w.total, Decimal(0)) / peak_total) * (LINE_BOTTOM - LINE_TOP)
        points.append(f"{round(i * step + step / 2, 1)},{round(y, 1)}")
    return {
        "bars": bars,
        "points": " ".join(points),
        "width": WIDTH,
        "height": HEIGHT,
        "axis": AXIS,
        "line_bottom": LINE_BOTTOM,
        "peak_total": peak_total,
        "peak_flow": peak_flow,
        "weeks": data,
        "has_data": any(w.received or w.used for w in data) or peak_total > 1,
    }
