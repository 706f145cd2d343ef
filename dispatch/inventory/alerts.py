"""The low-stock alert condition, registered with `connectors.alerts.conditions` by
``DispatchConfig.ready``: one alert per (depot, part) whose mirrored level is under the
portal's minimum (`dispatch.models.StockMinimum`). It clears by itself when the level is back
at the minimum or above (a sync, a confirmed part request), or when the minimum is lowered.

The condition also records each crossing (`thresholds_refresh`: ``StockMinimum.below_since``)
and sends `dispatch.inventory.signals.stock_below_threshold` once per crossing after commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction

from accounts.models import Tenant
from connectors.alerts.conditions import Finding, portal_path
from connectors.alerts.models import AlertKind
from connectors.synchroteam.models import SynchroteamDepot, SynchroteamPart
from dispatch.inventory import selectors
from dispatch.inventory.signals import stock_below_threshold
from dispatch.models import StockMinimum


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"


def thresholds_refresh(tenant: Tenant, now: dt.datetime) -> list[tuple[StockMinimum, Decimal]]:
    """Compare every minimum of `tenant` with its mirrored level; store crossings in
    ``below_since`` and send `stock_below_threshold` for each one once the transaction commits.
    Returns ``[(minimum, quantity)]`` of the levels below now."""
    below, crossings = [], []
    for row, qty in selectors.minimum_levels(tenant):
        is_below = selectors.is_below(qty, row.minimum)
        if is_below:
            below.append((row, qty))
        if is_below == (row.below_since is not None):
            continue
        changed = StockMinimum.objects.filter(pk=row.pk, below_since__isnull=is_below).update(
            below_since=now if is_below else None
        )
        if changed:  # a concurrent evaluation that got there first sends it instead
            crossings.append((row, qty, is_below))
    if crossings:
        transaction.on_commit(lambda: _send(tenant, crossings, now))
    return below


def _names(tenant: Tenant, rows: list[StockMinimum]) -> tuple[dict, dict]:
    """The depots and parts the minimum `rows` name, by Synchroteam id (one query each)."""
    depots = SynchroteamDepot.objects.for_tenant(tenant).filter(
        vendor_id__in={r.depot_vendor_id for r in rows}
    )
    parts = SynchroteamPart.objects.for_tenant(tenant).filter(
        vendor_id__in={r.part_vendor_id for r in rows}
    )
    return {d.vendor_id: d for d in depots.defer("raw")}, {
        p.vendor_id: p for p in parts.defer("raw")
    }


def _send(tenant: Tenant, crossings, now: dt.datetime) -> None:
    depots, parts = _names(tenant, [c[0] for c in crossings])
    for row, qty, is_below in crossings:
        depot, part = depots.get(row.depot_vendor_id), parts.get(row.part_vendor_id)
        payload = {
            "depot": {
                "id": row.depot_vendor_id,
                "name": depot.name if depot else "",
                "kind": depot.kind if depot else "",
                "technician_id": depot.user_vendor_id if depot else None,
            },
            "part": {
                "id": row.part_vendor_id,
                "reference": part.reference if part else "",
                "name": part.name if part else "",
            },
            "quantity": _fmt(qty),
            "minimum": _fmt(row.minimum),
            "below": is_below,
            "at": now.isoformat(),
        }
        stock_below_threshold.send_robust(
            StockMinimum,
            tenant=tenant,
            minimum=row,
            quantity=qty,
            below=is_below,
            at=now,
            payload=payload,
        )


def low_stock(tenant: Tenant, now: dt.datetime) -> Iterable[Finding]:
    """Levels under their minimum. Key ``low_stock:<connection uuid>:<depot id>:<part id>``."""
    below = thresholds_refresh(tenant, now)
    if not below:
        return
    depots, parts = _names(tenant, [row for row, _ in below])
    link = portal_path("dispatch:inventory_below")
    for row, qty in below:
        depot, part = depots.get(row.depot_vendor_id), parts.get(row.part_vendor_id)
        what = f"{part.reference} {part.name}" if part else f"part {row.part_vendor_id}"
        where = depot.name if depot else f"depot {row.depot_vendor_id}"
        yield Finding(
            AlertKind.LOW_STOCK,
            f"low_stock:{row.connection.uuid}:{row.depot_vendor_id}:{row.part_vendor_id}",
            f"Synchroteam · {where}: {_fmt(qty)} × {what} left, below the minimum of "
            f"{_fmt(row.minimum)}. Replenish it from the below-threshold list.",
            link,
        )


__all__ = ["low_stock", "thresholds_refresh"]
