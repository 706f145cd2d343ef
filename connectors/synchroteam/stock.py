"""Synchroteam inventory JSON -> mirror rows, and the four inventory streams.

Sources: the v3 documentation lists Stock Depots, Stock Parts, Part Movements and Part Requests
(vendor-apis.md §2.1) without retrievable bodies; the paths, filters and field names here are
the readings of two unofficial MCP servers plus the sandbox's decisions, all listed as open
questions in README "Synchroteam inventory". Paging and dates as every Synchroteam list
(§2.4, §2.7).

=================  ======================  ==============================================
stream             list                    incremental
=================  ======================  ==============================================
depots             ``depot/list``          compare (a few dozen rows)
stock_levels       ``stockpart/list``      compare: a level changes in place
part_movements     ``partmovement/list``   ``changedSince`` (append-only log: no deletions)
part_requests      ``partrequest/list``    ``changedSince`` (MCP: ``changed_since``)
=================  ======================  ==============================================

All four are ``Changes.SWEEP`` for the schedules: the nightly full sweep syncs them, and the
portal's own replenishments reach the mirror by write-through. ``changedSince`` is not in the
official documentation (vendor-apis.md §2.5), so no 10-minute incremental relies on it.
"""

from __future__ import annotations

import datetime as dt

from connectors.http import Page
from connectors.mapping import Changes, MappingError, StreamSpec, opt_decimal, opt_dt, text
from connectors.synchroteam.client import PAGE_SIZE
from connectors.synchroteam.mapping import _base, _ref, _spec
from connectors.synchroteam.models import (
    SynchroteamDepot,
    SynchroteamPartMovement,
    SynchroteamPartRequest,
    SynchroteamStockLevel,
)

#: Synchroteam's naive date format (vendor-apis.md §2.7; read and sent as UTC)
DATE_FMT = "%Y-%m-%d %H:%M:%S"


def _quantity(r: dict, key: str = "quantity") -> object:
    value = opt_decimal(r.get(key), key, places=3)
    if value is None:
        raise MappingError(f"missing {key}")
    return value


def _required(r: dict, key: str) -> int:
    value = _ref(r, key)
    if value is None:
        raise MappingError(f"missing {key}.id")
    return value


def _part(r: dict) -> dict:
    part = r.get("part") if isinstance(r.get("part"), dict) else {}
    return {
        "part_vendor_id": _required(r, "part"),
        "part_reference": text(part.get("reference"), 120),
    }


def map_depot(r: dict) -> dict:
    """A ``depot/list`` record; raises MappingError (quarantine) for a bad id or user."""
    user = _ref(r, "user")
    return {
        **_base(r),
        "my_id": text(r.get("myId"), 120),
        "name": text(r.get("name"), 255),
        "kind": SynchroteamDepot.Kind.VEHICLE if user else SynchroteamDepot.Kind.WAREHOUSE,
        "user_vendor_id": user,
        "is_default": r.get("isDefault") is True,
        "active": r.get("active") is not False,
    }


def map_stock_level(r: dict) -> dict:
    """A ``stockpart/list`` record: depot, part and quantity are required."""
    part = r.get("part") if isinstance(r.get("part"), dict) else {}
    return {
        **_base(r),
        "depot_vendor_id": _required(r, "depot"),
        **_part(r),
        "part_name": text(part.get("name"), 255),
        "quantity": _quantity(r),
    }


def map_part_movement(r: dict) -> dict:
    """A ``partmovement/list`` record: part and quantity required, at least one depot."""
    values = {
        **_base(r),
        **_part(r),
        "from_depot_vendor_id": _ref(r, "fromDepot"),
        "to_depot_vendor_id": _ref(r, "toDepot"),
        "quantity": _quantity(r),
        "job_vendor_id": _ref(r, "job"),
        "user_vendor_id": _ref(r, "user"),
        "request_vendor_id": _ref(r, "partRequest"),
        "date": opt_dt(r.get("date") or r.get("dateCreated"), "date"),
    }
    if values["from_depot_vendor_id"] is None and values["to_depot_vendor_id"] is None:
        raise MappingError("movement names neither fromDepot nor toDepot")
    return values


def request_status(r: dict) -> str:
    """The vendor's flags as one word: deleted, completed, sent or open."""
    if r.get("isDeleted") is True:
        return "deleted"
    if r.get("isComplete") is True:
        return "completed"
    return "sent" if r.get("isSent") is True else "open"


def map_part_request(r: dict) -> dict:
    """A ``partrequest/list`` record (or a ``partrequest/send`` answer)."""
    return {
        **_base(r),
        "my_id": text(r.get("myId"), 120),
        "status": request_status(r),
        "urgent": r.get("isUrgent") is True,
        **_part(r),
        "quantity": _quantity(r),
        "depot_vendor_id": _required(r, "depot"),
        "from_depot_vendor_id": _ref(r, "fromDepot"),
        "user_vendor_id": _ref(r, "user"),
    }


def st_since(value: dt.datetime) -> str:
    """An aware datetime as the ``changedSince`` value (UTC, ``YYYY-MM-DD HH:MM:SS``)."""
    return value.astimezone(dt.UTC).strftime(DATE_FMT)


def _changed_since(resource: str):
    def fetch(client, cursor: dict) -> Page:
        params = {"changedSince": st_since(cursor["since"])} if cursor.get("since") else None
        return client.list_page(resource, page=cursor["page"], params=params)

    return fetch


STOCK_STREAMS = [
    _spec("depots", SynchroteamDepot, map_depot, "Stock depots"),
    _spec("stock_levels", SynchroteamStockLevel, map_stock_level, "Stock levels"),
    StreamSpec(
        "part_movements",
        SynchroteamPartMovement,
        _changed_since("part_movements"),
        map_part_movement,
        "filter",
        page_size=PAGE_SIZE,
        label="Part movements",
        # changedSince is the sandbox's and not documented (vendor-apis.md §2.5: NOT FOUND):
        # sweep nightly; an incremental that sends it still gets every record if ignored.
        changes=Changes.SWEEP,
        detect_deletions=False,
    ),
    StreamSpec(
        "part_requests",
        SynchroteamPartRequest,
        _changed_since("part_requests"),
        map_part_request,
        "filter",
        page_size=PAGE_SIZE,
        label="Part requests",
        # changedSince is the sandbox's and not documented (vendor-apis.md §2.5: NOT FOUND):
        # sweep nightly; an incremental that sends it still gets every record if ignored.
        changes=Changes.SWEEP,
    ),
]
