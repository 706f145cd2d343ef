"""FieldCamp JSON -> mirror rows, and the FieldCamp streams.

Invoices have a ``since`` filter (vendor-apis.md §3.6) and calendar change records a ``since``
parameter (seed 002): both are "filter" streams. Visits and integration sync jobs have no
documented filter: "compare". Every list is cursor-paginated (``next_cursor``).
"""

from __future__ import annotations

import datetime as dt

from connectors.fieldcamp.client import INTEGRATIONS, PAGE_SIZE
from connectors.fieldcamp.models import (
    FieldCampCalendarChange,
    FieldCampInvoice,
    FieldCampSyncJob,
    FieldCampVisit,
)
from connectors.http import Page
from connectors.mapping import (
    Changes,
    MappingError,
    StreamSpec,
    custom_field_map,
    opt_decimal,
    opt_dt,
    text,
)


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
    """A job descriptor (trigger response) or an integration status row (``integration`` key,
    vendor id = the integration slug; the API lists no jobs, seed 002).

    A status row has no ``vendor_updated_at``, so every sync rewrites it: ``connected`` can flip
    without ``last_synced_at`` moving, and the engine skips rows whose timestamp is unchanged
    (the disconnected-integration alert reads this row)."""
    if "connected" in r and "job_id" not in r:
        last = opt_dt(r.get("last_synced_at"), "last_synced_at")
        return {
            "vendor_id": _id(r, "slug"),
            "vendor_created_at": None,
            "vendor_updated_at": None,
            "custom_fields": {},
            "integration": text(r.get("integration"), 40),
            "mode": "status",
            "status": "running"
            if r.get("active_job_id")
            else ("connected" if r.get("connected") else "disconnected"),
            "finished_at": last,
        }
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


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _list(resource: str, since_param: str | None = None, *, always_since: bool = False):
    def fetch(client, cursor: dict) -> Page:
        params = {}
        since = cursor.get("since") or (EPOCH if always_since else None)
        if since_param and since:
            params[since_param] = zulu(since)
        return client.list_page(resource, cursor=cursor.get("cursor"), params=params)

    return fetch


def fetch_integrations(client, cursor: dict) -> Page:
    """One page per integration status route (``page`` 1..3)."""
    index = cursor["page"] - 1
    slug = INTEGRATIONS[index]
    status = client.integration_status(slug)
    record = {**status, "slug": slug, "integration": status.get("integration") or slug}
    has_more = index + 1 < len(INTEGRATIONS)
    return Page(
        records=[record],
        number=cursor["page"],
        next_page=cursor["page"] + 1 if has_more else None,
        total_pages=len(INTEGRATIONS),
    )


STREAMS = [
    StreamSpec(
        "visits",
        FieldCampVisit,
        _list("visits"),
        map_visit,
        "compare",
        page_size=PAGE_SIZE,
        # visit, job and schedule events (vendor-apis.md §3.7) request a run of this stream
        changes=Changes.WEBHOOK,
    ),
    StreamSpec(
        "invoices",
        FieldCampInvoice,
        _list("invoices", "since"),
        map_invoice,
        "filter",
        page_size=PAGE_SIZE,
        changes=Changes.VENDOR_FILTER,
        changes_param="since",
    ),
    StreamSpec(
        "sync_jobs",
        FieldCampSyncJob,
        fetch_integrations,
        map_sync_job,
        "compare",
        label="Integration sync jobs",
        detect_deletions=False,
        changes=Changes.SNAPSHOT,
        requests_per_run=len(INTEGRATIONS),  # one status route per integration
    ),
    StreamSpec(
        "calendar_changes",
        FieldCampCalendarChange,
        # without `since` the vendor answers only changes since its last successful sync
        _list("calendar_changes", "since", always_since=True),
        map_calendar_change,
        "filter",
        label="Calendar changes",
        detect_deletions=False,
        changes=Changes.VENDOR_FILTER,
        changes_param="since",
    ),
]
