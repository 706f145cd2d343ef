"""Synchroteam JSON -> mirror rows, and the Synchroteam streams.

Synchroteam documents no modified-since filter (vendor-apis.md §2.5: ``changedSince`` was not
found anywhere; synchroteam-py filters ``dateModified`` client-side), so every stream is
"compare": a run lists all pages (``pageSize`` 100) and writes only records whose
``dateModified`` changed. At 100 000 jobs that is about 1 000 requests a listing against a
daily quota of about 15 000, so no stream runs in the 10-minute incremental: jobs are refreshed
one by one from webhook events (`Changes.WEBHOOK`), everything else by the nightly full sweep
(`Changes.SWEEP`), which also detects deletions. Dates are naive
``YYYY-MM-DD HH:MM[:SS]`` strings read as UTC (the account zone is unverified, §4.6).
"""

from __future__ import annotations

from connectors.http import Page
from connectors.mapping import (
    Changes,
    StreamSpec,
    custom_field_map,
    opt_decimal,
    opt_dt,
    opt_int,
    require_id,
    text,
)
from connectors.synchroteam.client import PAGE_SIZE
from connectors.synchroteam.models import (
    SynchroteamActivity,
    SynchroteamCustomer,
    SynchroteamEquipment,
    SynchroteamInvoice,
    SynchroteamJob,
    SynchroteamPart,
    SynchroteamQuotation,
    SynchroteamSite,
    SynchroteamUser,
)


def _base(r: dict) -> dict:
    custom = r.get("customFieldValues", r.get("CustomFieldValues"))
    return {
        "vendor_id": require_id(r),
        "vendor_created_at": opt_dt(r.get("dateCreated"), "dateCreated"),
        "vendor_updated_at": opt_dt(r.get("dateModified"), "dateModified"),
        "custom_fields": custom_field_map(custom),
    }


def _ref(r: dict, key: str) -> int | None:
    value = r.get(key)
    if isinstance(value, dict):
        return opt_int(value.get("id"), f"{key}.id")
    return opt_int(value, key)


def _name(r: dict, key: str) -> str:
    value = r.get(key)
    return text(value.get("name") if isinstance(value, dict) else value, 255)


def map_customer(r: dict) -> dict:
    return {
        **_base(r),
        "my_id": text(r.get("myId"), 120),
        "name": text(r.get("name"), 255),
        "address": text(r.get("address"), 500),
        "contact_email": text(r.get("contactEmail"), 255),
        "contact_phone": text(r.get("contactPhone") or r.get("contactMobile"), 60),
        "active": r.get("active") is not False,
    }


def map_site(r: dict) -> dict:
    return {
        **_base(r),
        "my_id": text(r.get("myId"), 120),
        "name": text(r.get("name"), 255),
        "customer_vendor_id": _ref(r, "customer"),
        "address": text(r.get("address"), 500),
        "active": r.get("active") is not False,
    }


def map_user(r: dict) -> dict:
    name = r.get("name") or " ".join(x for x in (r.get("firstName"), r.get("lastName")) if x)
    return {
        **_base(r),
        "login": text(r.get("login"), 255),
        "name": text(name, 255),
        "email": text(r.get("email"), 255),
        "profile": text(r.get("profile") or r.get("type"), 60),
        "active": r.get("active") is not False and r.get("status") != "inactive",
    }


def map_job(r: dict) -> dict:
    return {
        **_base(r),
        "num": text(r.get("num"), 60),
        "my_id": text(r.get("myId"), 120),
        "description": text(r.get("description")),
        "status": text(r.get("status"), 30),
        "priority": text(r.get("priority"), 30),
        "type_name": _name(r, "type")[:120],
        "customer_vendor_id": _ref(r, "customer"),
        "customer_name": _name(r, "customer"),
        "site_vendor_id": _ref(r, "site"),
        "technician_vendor_id": _ref(r, "technician"),
        "technician_name": _name(r, "technician"),
        "scheduled_start": opt_dt(r.get("scheduledStart"), "scheduledStart"),
        "scheduled_end": opt_dt(r.get("scheduledEnd"), "scheduledEnd"),
        "actual_start": opt_dt(r.get("actualStart"), "actualStart"),
        "actual_end": opt_dt(r.get("actualEnd"), "actualEnd"),
    }


def map_activity(r: dict) -> dict:
    return {
        **_base(r),
        "type": _name(r, "type")[:60] or text(r.get("activityType"), 60),
        "user_vendor_id": _ref(r, "user") or _ref(r, "technician"),
        "job_vendor_id": _ref(r, "job"),
        "start": opt_dt(r.get("start") or r.get("dateStart"), "start"),
        "end": opt_dt(r.get("end") or r.get("dateEnd"), "end"),
    }


def map_equipment(r: dict) -> dict:
    return {
        **_base(r),
        "my_id": text(r.get("myId"), 120),
        "name": text(r.get("name"), 255),
        "customer_vendor_id": _ref(r, "customer"),
        "site_vendor_id": _ref(r, "site"),
    }


def map_part(r: dict) -> dict:
    return {
        **_base(r),
        "reference": text(r.get("reference"), 120),
        "name": text(r.get("name"), 255),
        "type": text(r.get("type"), 20),
        "price": opt_decimal(r.get("price"), "price"),
        "status": text(r.get("status"), 20),
    }


def _document(r: dict) -> dict:
    return {
        **_base(r),
        "num": text(r.get("num"), 60),
        "status": text(r.get("status"), 30),
        "job_vendor_id": _ref(r, "job"),
        "customer_vendor_id": _ref(r, "customer"),
        "date": opt_dt(r.get("date") or r.get("dateCreated"), "date"),
        "total": opt_decimal(r.get("total", r.get("totalAmount")), "total"),
    }


def _list(resource: str):
    def fetch(client, cursor: dict) -> Page:
        return client.list_page(resource, page=cursor["page"])

    return fetch


def _spec(resource, model, mapper, label="", changes=Changes.SWEEP):
    return StreamSpec(
        resource,
        model,
        _list(resource),
        mapper,
        "compare",
        page_size=PAGE_SIZE,
        label=label,
        changes=changes,
    )


STREAMS = [
    _spec("customers", SynchroteamCustomer, map_customer),
    _spec("sites", SynchroteamSite, map_site),
    _spec("users", SynchroteamUser, map_user, "Users (technicians)"),
    # job events (creation, status change, completion: seed 000) refresh the job they name
    # (``job/details``, connectors/synchroteam/webhooks.py); the portal's job writes are
    # written through
    _spec("jobs", SynchroteamJob, map_job, changes=Changes.WEBHOOK),
    _spec("activities", SynchroteamActivity, map_activity),
    _spec("equipment", SynchroteamEquipment, map_equipment),
    _spec("parts", SynchroteamPart, map_part, "Parts and services"),
    _spec("invoices", SynchroteamInvoice, _document),
    _spec("quotations", SynchroteamQuotation, _document),
]
