"""FieldCamp JSON -> mirror rows, and the FieldCamp streams.

Invoices have a ``since`` filter (vendor-apis.md §3.6) and calendar change records a ``since``
parameter (seed 002): both are "filter" streams. Visits and integration sync jobs have no
documented filter: "compare". Every list is cursor-paginated (``next_cursor``).
"""

from __future__ import annotations

import datetime as dt

from connectors.fieldcamp.models import (
    FieldCampCalendarChange,
    FieldCampInvoice,
    FieldCampSyncJob,
    FieldCampVisit,
)
from connectors.http import Page
from connectors.sync import MappingError, StreamSpec, custom_field_map, opt_decimal, opt_dt, text


def _id(r: dict, *keys: str) -> str:
    if not isinstance(r, dict):
        raise MappingError(f"record is a {type(r).__name__}, not an object")
    for key in keys or ("id", "_id", "recordId"):
        value = r.get(key)
        if value not in (None, "") and not isinstance(value, dict | list | bool):
            return str(value)[:64]
    raise MappingError("missing id")


def _stamps(r: dict) -> dict:
    return {
        "vendor_created_at": opt_dt(r.get("createdAt") or r.get("created_at"), "createdAt"),
        "vendor_updated_at": opt_dt(r.get("updatedAt") or r.get("updated_at"), "updatedAt"),
        "custom_fields": custom_field_map(r.get("customFields") or r.get("custom_fields")),
    }


def map_visit(r: dict) -> dict:
    return {
        "vendor_id": _id(r),
        **_stamps(r),
        "job_vendor_id": text(r.get("jobId"), 64),
        "technician_vendor_id": text(r.get("technicianId"), 64),
        "visit_status": text(r.get("visitStatus"), 30),
        "scheduled_start": opt_dt(r.get("scheduledStart"), "scheduledStart"),
        "scheduled_end": opt_dt(r.get("scheduledEnd"), "scheduledEnd"),
    }


def map_invoice(r: dict) -> dict:
    return {
        "vendor_id": _id(r),
        **_stamps(r),
        "number": text(r.get("invoiceNumber") or r.get("number"), 60),
        "client_vendor_id": text(r.get("clientId"), 64),
        "status": text(r.get("status"), 20),
        "total": opt_decimal(r.get("total"), "total"),
        "due_date": opt_dt(r.get("dueDate"), "dueDate"),
    }


def map_sync_job(r: dict) -> dict:
    values = {
        "vendor_id": _id(r, "job_id", "id"),
        **_stamps(r),
        "integration": text(r.get("integration"), 40),
        "mode": text(r.get("mode") or r.get("scope"), 20),
        "status": text(r.get("status"), 20),
        "finished_at": opt_dt(r.get("finished_at") or r.get("completed_at"), "finished_at"),
    }
    if values["vendor_updated_at"] is None:
        values["vendor_updated_at"] = values["finished_at"] or values["vendor_created_at"]
    return values


def map_calendar_change(r: dict) -> dict:
    changed = opt_dt(
        r.get("changed_at") or r.get("occurred_at") or r.get("updated_at"), "changed_at"
    )
    return {
        "vendor_id": _id(r, "id", "change_id"),
        "vendor_created_at": changed,
        "vendor_updated_at": changed,
        "custom_fields": {},
        "action": text(r.get("action"), 20),
        "visit_vendor_id": text(r.get("visit_id") or r.get("visitId"), 64),
        "google_event_id": text(r.get("google_event_id") or r.get("googleEventId"), 255),
        "changed_at": changed,
    }


def zulu(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _list(resource: str, since_param: str | None = None):
    def fetch(client, cursor: dict) -> Page:
        params = {}
        if since_param and cursor.get("since"):
            params[since_param] = zulu(cursor["since"])
        return client.list_page(resource, cursor=cursor.get("cursor"), params=params)

    return fetch


STREAMS = [
    StreamSpec("visits", FieldCampVisit, _list("visits"), map_visit, "compare"),
    StreamSpec("invoices", FieldCampInvoice, _list("invoices", "since"), map_invoice, "filter"),
    StreamSpec(
        "sync_jobs",
        FieldCampSyncJob,
        _list("sync_jobs"),
        map_sync_job,
        "compare",
        label="Integration sync jobs",
    ),
    StreamSpec(
        "calendar_changes",
        FieldCampCalendarChange,
        _list("calendar_changes", "since"),
        map_calendar_change,
        "filter",
        label="Calendar changes",
    ),
]
