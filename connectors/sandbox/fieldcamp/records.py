"""FieldCamp vocabulary, ids, indexed columns and record builders (shared by the routes,
the generator and churn)."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

from connectors.sandbox.clock import iso_z, sortable_text
from connectors.sandbox.store import register_kind
from connectors.sandbox.web import Reply, json_response

K_VISIT = "fieldcamp.visit"


K_INVOICE = "fieldcamp.invoice"


K_SYNC_JOB = "fieldcamp.sync_job"


K_CHANGE = "fieldcamp.calendar_change"


K_JOB = "fieldcamp.job"


INTEGRATIONS = {
    "google-calendar": "google_calendar",
    "outlook-calendar": "outlook_calendar",
    "quickbooks": "quickbooks",
}


DEFAULT_CONNECTED = {"google-calendar": True, "outlook-calendar": True, "quickbooks": False}


VISIT_STATUSES = [
    "unscheduled",
    "scheduled",
    "dispatched",
    "en_route",
    "in_progress",
    "on_hold",
    "completed",
    "cancelled",
]


INVOICE_STATUSES = ["unpaid", "paid", "partial", "overdue"]


PREFIX = {
    K_VISIT: 0x665F1C0A,
    K_INVOICE: 0x6660AA01,
    "job": 0x665E0B11,
    "client": 0x665D0C22,
    "tech": 0x665C0D33,
}


SCHEDULE_MINUTES = 30


def oid(kind: str, n: int) -> str:
    """24-hex ObjectId-like id for internal integer ``n``."""
    return f"{PREFIX[kind]:08x}{n:016x}"


def from_oid(kind: str, value: str) -> int | None:
    """The internal integer behind a 24-hex id of ``kind``, or None when it is not one."""
    try:
        if len(value) != 24 or int(value[:8], 16) != PREFIX[kind]:
            return None
        return int(value[8:], 16)
    except ValueError:
        return None


def _s(value: str | None) -> str | None:
    return sortable_text(value) if value else None


register_kind(
    K_VISIT,
    lambda d: {
        "id": from_oid(K_VISIT, d["id"]),
        "status": d["visitStatus"],
        "ref": d.get("jobNumber"),
        "created_at": _s(d["createdAt"]),
        "updated_at": _s(d["updatedAt"]),
    },
)


register_kind(
    K_INVOICE,
    lambda d: {
        "id": from_oid(K_INVOICE, d["id"]),
        "status": d["status"],
        "ref": d.get("clientId"),
        "created_at": _s(d["createdAt"]),
        "updated_at": _s(d["updatedAt"]),
    },
)


register_kind(
    K_JOB,
    lambda d: {
        "id": from_oid("job", d["id"]),
        "status": d["jobStatus"],
        "ref": d["jobNumber"],
        "customer_id": from_oid("client", d["clientId"]),
        "created_at": _s(d["createdAt"]),
        "updated_at": _s(d["updatedAt"]),
    },
)


register_kind(
    K_SYNC_JOB,
    lambda d: {
        "id": d["_seq"],
        "ref": d["job_id"],
        "status": d["_integration"],
        "created_at": _s(d["created_at"]),
    },
)


register_kind(
    K_CHANGE,
    lambda d: {"id": d["_seq"], "updated_at": _s(d["changed_at"]), "ref": d.get("visit_id")},
)


def fc_error(message: str, status: int, code: str | None = None, **extra: Any) -> Reply:
    """String-shaped error, or object-shaped when ``code`` is given."""
    error: Any = {"code": code, "message": message, **extra} if code else message
    return Reply(json_response({"success": False, "error": error}, status))


def encode_cursor(sort_key: str, seq: int) -> str:
    """Opaque list cursor for the keyset ``(sort_key, seq)`` (URL-safe base64)."""
    return base64.urlsafe_b64encode(f"{sort_key}|{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    """``(sort_key, seq)`` of a cursor. Raises ValueError or UnicodeDecodeError when it is not one."""
    padded = cursor + "=" * (-len(cursor) % 4)
    key, _, seq = base64.urlsafe_b64decode(padded.encode()).decode().partition("|")
    return key, int(seq)


TITLES = [
    "Lawn mowing",
    "Gutter cleaning",
    "AC maintenance",
    "Pest control treatment",
    "Window cleaning",
    "Pool service",
    "Carpet cleaning",
    "Irrigation repair",
    "Pressure washing",
    "Appliance repair",
]


def visit_record(
    n: int,
    *,
    job_n: int,
    job_number: str,
    client_n: int,
    tech_n: int | None,
    title: str,
    start: datetime | None,
    minutes: int,
    status: str,
    created: datetime,
    updated: datetime,
    address: str,
    event: str | None,
) -> dict[str, Any]:
    """A visit in the vendor's shape (ids as 24-hex, times as ``...Z``, end = start + ``minutes``)."""
    return {
        "id": oid(K_VISIT, n),
        "jobId": oid("job", job_n),
        "jobNumber": job_number,
        "clientId": oid("client", client_n),
        "title": title,
        "scheduledStart": iso_z(start) if start else None,
        "scheduledEnd": iso_z(start + timedelta(minutes=minutes)) if start else None,
        "serviceDuration": minutes,
        "technicianId": oid("tech", tech_n) if tech_n else None,
        "visitStatus": status,
        "address": address,
        "googleEventId": event,
        "createdAt": iso_z(created),
        "updatedAt": iso_z(updated),
    }


def change_record(seq: int, action: str, visit: dict[str, Any], at: datetime) -> dict[str, Any]:
    """A Google Calendar change record ``{id, action, visit_id, google_event_id, changed_at}`` (seed 002) plus the internal ``_seq``."""
    return {
        "_seq": seq,
        "id": f"chg_{seq:010d}",
        "action": action,
        "visit_id": visit["id"],
        "google_event_id": visit.get("googleEventId"),
        "changed_at": iso_z(at),
    }


def _event_id(rng: Any) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuv0123456789") for _ in range(26))


def invoice_record(
    n: int, visit: dict[str, Any], client: int, issued: datetime, anchor: datetime, rng: Any
) -> dict[str, Any]:
    """An invoice of ``visit`` issued at ``issued``: 1-3 lines, 6 % tax, status by age (unpaid past due date -> overdue)."""
    items = []
    for _ in range(rng.randint(1, 3)):
        qty = rng.choice([1, 1, 2, 3])
        price = rng.choice([45.0, 60.0, 85.0, 120.0, 150.0, 19.99])
        items.append(
            {
                "name": rng.choice(TITLES),
                "quantity": qty,
                "unitPrice": price,
                "discount": 0,
                "markup": 0,
                "total": round(qty * price, 2),
            }
        )
    subtotal = round(sum(i["total"] for i in items), 2)
    discount = round(subtotal * 0.05, 2) if rng.random() < 0.1 else 0.0
    tax = round((subtotal - discount) * 0.06, 2)
    total = round(subtotal - discount + tax, 2)
    due = issued + timedelta(days=15)
    age = (anchor - issued).days
    status = (
        rng.choices(["paid", "unpaid", "partial"], [70, 20, 10])[0]
        if age > 10
        else rng.choice(["unpaid", "unpaid", "paid"])
    )
    if status == "unpaid" and anchor > due:
        status = "overdue"
    paid = total if status == "paid" else round(total / 2, 2) if status == "partial" else 0.0
    return {
        "id": oid(K_INVOICE, n),
        "invoiceNumber": f"INV-{10000 + n}",
        "clientId": oid("client", client),
        "jobId": visit["jobId"],
        "visitId": visit["id"],
        "status": status,
        "issueDate": issued.strftime("%Y-%m-%d"),
        "dueDate": due.strftime("%Y-%m-%d"),
        "lineItems": items,
        "discount": discount,
        "markup": 0.0,
        "subtotal": subtotal,
        "tax": tax,
        "total": total,
        "amountPaid": paid,
        "balance": round(total - paid, 2),
        "currency": "USD",
        "createdAt": iso_z(issued),
        "updatedAt": iso_z(
            min(issued + timedelta(days=rng.randint(0, 30)), anchor)
            if status != "unpaid"
            else issued
        ),
    }
