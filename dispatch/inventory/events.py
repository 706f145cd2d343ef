"""Inventory's part in the outbound events and the BI exports.

* `send_stock_event`: the receiver of `dispatch.inventory.signals.stock_below_threshold` that
  raises ``stock.below_threshold`` (`connectors.events.registry`) when a level goes below its
  portal minimum (not when it comes back: that is not an event type receivers subscribe to).
  The ``data`` keys are the registry's (``part_id``, ``part_reference``, ``depot_id``,
  ``depot_name``, ``quantity``, ``threshold``) plus the depot's ``kind``, the van's
  ``technician_id``, the part's ``part_name`` and ``at`` (ISO 8601).
* The ``stock`` CSV export (`dispatch.exports` registry): one row per mirrored stock level of
  the tenant's Synchroteam connection, with its depot and the portal's minimum.

Both are connected in `dispatch.apps.DispatchConfig.ready` (`connect`).
"""

from __future__ import annotations

from collections.abc import Iterator

from accounts.models import Tenant
from connectors.events.registry import STOCK_BELOW_THRESHOLD
from connectors.events.services import emit_event
from connectors.synchroteam.models import SynchroteamDepot, SynchroteamStockLevel
from dispatch.exports import CHUNK, Export, register
from dispatch.inventory.signals import stock_below_threshold
from dispatch.models import StockMinimum


def stock_event_data(payload: dict) -> dict:
    """The ``stock.below_threshold`` event ``data`` from the signal's `payload` (shape in
    `dispatch.inventory.signals`): flat keys as the registry lists them."""
    depot = payload.get("depot") or {}
    part = payload.get("part") or {}
    return {
        "part_id": part.get("id"),
        "part_reference": part.get("reference", ""),
        "part_name": part.get("name", ""),
        "depot_id": depot.get("id"),
        "depot_name": depot.get("name", ""),
        "kind": depot.get("kind", ""),
        "technician_id": depot.get("technician_id"),
        "quantity": payload.get("quantity"),
        "threshold": payload.get("minimum"),
        "at": payload.get("at"),
    }


def send_stock_event(sender, *, tenant, below: bool, payload: dict, **kwargs) -> None:
    """Raise ``stock.below_threshold`` for `tenant` when `below` (see module docstring)."""
    if below:
        emit_event(tenant, STOCK_BELOW_THRESHOLD, stock_event_data(payload))


STOCK_COLUMNS = (
    "depot_id",
    "depot",
    "depot_kind",
    "technician_id",
    "part_id",
    "part_reference",
    "part_name",
    "quantity",
    "minimum",
    "below_minimum",
)


def stock_rows(tenant: Tenant, start=None, end=None) -> Iterator[list]:
    """The tenant's live stock levels by depot then part (`STOCK_COLUMNS`); a snapshot, so the
    date range does not apply. Quantities and minimums are decimals as mirrored."""
    depots = {
        d.vendor_id: d
        for d in SynchroteamDepot.objects.for_tenant(tenant)
        .alive()
        .only("vendor_id", "name", "kind", "user_vendor_id")
    }
    minimums = {
        (m.depot_vendor_id, m.part_vendor_id): m.minimum
        for m in StockMinimum.objects.filter(tenant=tenant).only(
            "depot_vendor_id", "part_vendor_id", "minimum"
        )
    }
    qs = (
        SynchroteamStockLevel.objects.for_tenant(tenant)
        .alive()
        .order_by("depot_vendor_id", "part_reference", "vendor_id")
        .values_list("depot_vendor_id", "part_vendor_id", "part_reference", "part_name", "quantity")
    )
    for depot_id, part_id, reference, name, quantity in qs.iterator(chunk_size=CHUNK):
        depot = depots.get(depot_id)
        minimum = minimums.get((depot_id, part_id))
        yield [
            depot_id,
            depot.name if depot else "",
            depot.kind if depot else "",
            depot.user_vendor_id if depot else "",
            part_id,
            reference,
            name,
            quantity,
            "" if minimum is None else minimum,
            "" if minimum is None else ("yes" if quantity < minimum else "no"),
        ]


STOCK_EXPORT = Export(
    "stock",
    "Stock levels",
    "Every mirrored Synchroteam stock level: depot or van, part, quantity and the portal's minimum.",
    STOCK_COLUMNS,
    stock_rows,
)


def connect() -> None:
    """Connect the event receiver and register the export (idempotent)."""
    stock_below_threshold.connect(send_stock_event, dispatch_uid="dispatch.inventory.events")
    register(STOCK_EXPORT)
