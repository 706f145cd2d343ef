"""Syncro vocabulary, value formats, indexed columns and record builders (shared by the
routes, the generator and churn)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.sandbox import accounts
from connectors.sandbox.clock import iso_z, parse_instant, sortable, sortable_text
from connectors.sandbox.store import as_int, register_kind
from connectors.sandbox.web import (
    Reply,
    json_response,
)

K_CUSTOMER = "syncro.customer"


K_CONTACT = "syncro.contact"


K_PRODUCT = "syncro.product"


K_TICKET = "syncro.ticket"


K_COMMENT = "syncro.comment"


K_LINE = "syncro.ticket_line_item"


K_TIMER = "syncro.timer"


K_INVOICE = "syncro.invoice"


K_INVOICE_LINE = "syncro.invoice_line_item"


# --- small helpers ---------------------------------------------------------------------------
def ts(dt: datetime) -> str:
    """Syncro's timestamp format: ``2019-11-04T08:59:31.034Z``."""
    return iso_z(dt, millis=True)


def money(value: Decimal | float | str | None) -> str:
    """Rails BigDecimal#to_s style: ``"64.99"``, ``"10.0"``, ``"0.0"``."""
    d = Decimal(str(value or 0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = format(d.normalize(), "f")
    return text if "." in text else text + ".0"


def qty_str(value: Decimal | float | str) -> str:
    """A quantity as Syncro shows it (``"1.5"``, ``"0.0"``)."""
    return money(value) if Decimal(str(value)) != 0 else "0.0"


def cents(value: Any) -> int:
    """Dollars (any numeric) to integer cents, half up."""
    return int((Decimal(str(value)) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def dollars(c: int | None) -> float | int:
    """Cents to dollars: an int when whole (``125``), else a float (``64.99``); 0 for None."""
    if c is None:
        return 0
    return c // 100 if c % 100 == 0 else c / 100


def to_int(value: Any) -> int | None:
    """``int(value)``, or None when it is not one (`connectors.sandbox.store.as_int`)."""
    return as_int(value)


def to_bool(value: Any, default: bool | None = None) -> bool | None:
    """Rails-style boolean parameter (``"true"``, ``"1"``, ``"off"`` ...), ``default`` when absent or unrecognised."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    return default


def sortable_param(value: str | None) -> str | None:
    """Normalise a date/time filter parameter; None when absent or unparseable (ignored, as
    Rails would ignore a bad date)."""
    if not value:
        return None
    try:
        return sortable(parse_instant(value))
    except ValueError:
        return None


def not_found() -> Reply:
    """A ``Reply`` with Syncro's 404 ``{"message": "Not found"}``."""
    return Reply(json_response({"message": "Not found"}, 404))


# --- indexed columns per kind ----------------------------------------------------------------
def _s(value: str | None) -> str | None:
    return sortable_text(value) if value else None


register_kind(
    K_CUSTOMER,
    lambda d: {
        "id": d["id"],
        "created_at": _s(d["created_at"]),
        "updated_at": _s(d["updated_at"]),
        "ext": (d.get("email") or "").lower(),
        "status": "disabled" if d.get("disabled") else "active",
        "search": " ".join(
            str(d.get(k) or "") for k in ("business_name", "firstname", "lastname", "email")
        ).lower(),
    },
)


register_kind(
    K_CONTACT,
    lambda d: {
        "id": d["id"],
        "parent_id": d["customer_id"],
        "customer_id": d["customer_id"],
        "created_at": _s(d["created_at"]),
        "updated_at": _s(d["updated_at"]),
    },
)


register_kind(
    K_PRODUCT,
    lambda d: {
        "id": d["id"],
        "ref": (d.get("name") or "").lower(),
        "ext": (d.get("upc_code") or "").lower(),
        "status": d.get("product_category"),
        "search": f"{d.get('name', '')} {d.get('description', '')}".lower(),
    },
)


register_kind(
    K_TICKET,
    lambda d: {
        "id": d["id"],
        "customer_id": d["customer_id"],
        "user_id": d.get("user_id"),
        "status": d["status"],
        "ref": str(d["number"]),
        "ext": str(d["contact_id"]) if d.get("contact_id") else None,
        "created_at": _s(d["created_at"]),
        "updated_at": _s(d["updated_at"]),
        "search": f"{d['number']} {d['subject']} {d.get('customer_business_then_name', '')}".lower(),
    },
)


register_kind(
    K_COMMENT,
    lambda d: {
        "id": d["id"],
        "parent_id": d["ticket_id"],
        "user_id": d.get("user_id"),
        "created_at": _s(d["created_at"]),
        "updated_at": _s(d["updated_at"]),
    },
)


register_kind(
    K_LINE,
    lambda d: {
        "id": d["id"],
        "parent_id": d["ticket_id"],
        "user_id": d.get("user_id"),
        "status": "converted" if d.get("converted") else "open",
        "created_at": _s(d["created_at"]),
        "updated_at": _s(d["updated_at"]),
    },
)


register_kind(
    K_TIMER,
    lambda d: {
        "id": d["id"],
        "parent_id": d["ticket_id"],
        "user_id": d.get("user_id"),
        "status": "recorded" if d.get("recorded") else "open",
        "created_at": _s(d["created_at"]),
        "updated_at": _s(d["updated_at"]),
    },
)


register_kind(
    K_INVOICE,
    lambda d: {
        "id": d["id"],
        "parent_id": d.get("ticket_id"),
        "customer_id": d["customer_id"],
        "status": "paid" if d.get("is_paid") else "unpaid",
        "ref": str(d["number"]),
        "created_at": _s(d["created_at"]),
        "updated_at": _s(d["updated_at"]),
    },
)


register_kind(
    K_INVOICE_LINE,
    lambda d: {
        "id": d["id"],
        "parent_id": d["invoice_id"],
        "created_at": _s(d["created_at"]),
        "updated_at": _s(d["updated_at"]),
    },
)


def user_obj(user_id: int | None) -> dict[str, Any] | None:
    """The nested ``user`` object of demo user ``user_id`` (None for None or unknown)."""
    user = accounts.syncro_user_by_id(user_id) if user_id else None
    if user is None:
        return None
    return {
        "id": user.user_id,
        "email": user.email,
        "full_name": user.full_name,
        "created_at": "2021-03-01T15:00:00.000Z",
        "updated_at": "2025-01-10T15:00:00.000Z",
        "group": "Admins" if user.admin else "Technicians",
        "admin": user.admin,
        "color": f"{(user.user_id * 2654435761) % 0xFFFFFF:06x}",
    }


# --- record builders (shared by the generator, churn and the handlers) -----------------------
def customer_record(
    cid: int,
    *,
    first: str,
    last: str,
    business: str | None,
    email: str,
    phone: str,
    address: str,
    city: str,
    state: str,
    zip_code: str,
    at: datetime,
) -> dict[str, Any]:
    """A customer in the spec's shape (GET /customers example), created and updated at ``at``."""
    full = f"{first} {last}"
    then_name = business or full
    return {
        "id": cid,
        "firstname": first,
        "lastname": last,
        "fullname": full,
        "business_name": business,
        "email": email,
        "phone": phone,
        "mobile": None,
        "created_at": ts(at),
        "updated_at": ts(at),
        "pdf_url": None,
        "address": address,
        "address_2": None,
        "city": city,
        "state": state,
        "zip": zip_code,
        "latitude": None,
        "longitude": None,
        "notes": None,
        "get_sms": False,
        "opt_out": False,
        "disabled": False,
        "no_email": False,
        "location_name": None,
        "location_id": None,
        "properties": {},
        "online_profile_url": f"https://{accounts.SYNCRO_SUBDOMAIN}.syncromsp.com/my_profile/v2/index?portal_key=c{cid}",
        "tax_rate_id": None,
        "notification_email": None,
        "invoice_cc_emails": None,
        "invoice_term_id": None,
        "referred_by": None,
        "ref_customer_id": None,
        "business_and_full_name": f"{business} - {full}" if business else full,
        "business_then_name": then_name,
    }


def contact_record(
    cid: int, customer_id: int, *, name: str, email: str, phone: str, at: datetime
) -> dict[str, Any]:
    """A contact of ``customer_id`` in the spec's shape."""
    return {
        "id": cid,
        "name": name,
        "address1": None,
        "address2": None,
        "city": None,
        "state": None,
        "zip": None,
        "email": email,
        "phone": phone,
        "mobile": None,
        "latitude": None,
        "longitude": None,
        "customer_id": customer_id,
        "account_id": 1,
        "notes": None,
        "created_at": ts(at),
        "updated_at": ts(at),
        "vendor_id": None,
        "properties": {},
        "opt_out": False,
        "extension": None,
    }


def product_record(
    pid: int,
    *,
    name: str,
    description: str,
    category: str,
    retail: str,
    cost: str,
    taxable: bool,
    upc: str | None,
    maintain_stock: bool,
) -> dict[str, Any]:
    """A product in the spec's shape (prices as floats, stock only when maintained)."""
    return {
        "id": pid,
        "price_cost": float(cost),
        "price_retail": float(retail),
        "condition": None,
        "description": description,
        "maintain_stock": maintain_stock,
        "name": name,
        "quantity": 25 if maintain_stock else 0,
        "warranty": None,
        "sort_order": None,
        "reorder_at": None,
        "disabled": False,
        "taxable": taxable,
        "product_category": category,
        "category_path": category,
        "upc_code": upc,
        "discount_percent": None,
        "warranty_template_id": None,
        "qb_item_id": None,
        "desired_stock_level": None,
        "price_wholesale": 0,
        "notes": None,
        "tax_rate_id": None,
        "physical_location": None,
        "serialized": False,
        "vendor_ids": [],
        "product_skus": [],
        "long_description": None,
        "location_quantities": [],
        "photos": [],
    }


def comment_record(
    cid: int,
    ticket_id: int,
    *,
    subject: str,
    body: str,
    tech: str,
    hidden: bool,
    user_id: int | None,
    at: datetime,
) -> dict[str, Any]:
    """A ticket comment in the spec's shape."""
    return {
        "id": cid,
        "created_at": ts(at),
        "updated_at": ts(at),
        "ticket_id": ticket_id,
        "subject": subject,
        "body": body,
        "tech": tech,
        "hidden": hidden,
        "user_id": user_id,
    }


def line_item_record(
    lid: int,
    ticket_id: int,
    *,
    user_id: int | None,
    product_id: int | None,
    name: str,
    description: str,
    quantity: Any,
    taxable: bool,
    cost_cents: int | None,
    retail_cents: int,
    position: int,
    at: datetime,
    category: str | None = None,
) -> dict[str, Any]:
    """A ticket line item in the spec's shape (``quantity`` a string, prices from cents)."""
    return {
        "id": lid,
        "ticket_id": ticket_id,
        "user_id": user_id,
        "product_id": product_id,
        "name": name,
        "description": description,
        "quantity": qty_str(quantity),
        "product_category": category,
        "upc_code": None,
        "taxable": taxable,
        "cost_cents": cost_cents,
        "retail_cents": retail_cents,
        "created_at": ts(at),
        "updated_at": ts(at),
        "converted": False,
        "item_id": None,
        "position": position,
        "estimate_line_item_id": None,
        "old_price": None,
        "line_discount_percent": None,
        "discount_dollars": None,
        "original_ticket_line_item_id": None,
        "price_cost": dollars(cost_cents),
        "price_retail": dollars(retail_cents),
    }


def timer_record(
    tid: int,
    ticket_id: int,
    *,
    user_id: int,
    start: datetime,
    end: datetime | None,
    notes: str | None,
    product_id: int | None,
    billable: bool,
    at: datetime,
) -> dict[str, Any]:
    """A timer entry in the spec's shape; ``active_duration`` and ``billable_time`` in seconds (None while running)."""
    active = int((end - start).total_seconds()) if end else None
    return {
        "id": tid,
        "ticket_id": ticket_id,
        "user_id": user_id,
        "start_time": ts(start),
        "end_time": ts(end) if end else None,
        "recorded": False,
        "created_at": ts(at),
        "updated_at": ts(at),
        "billable": billable,
        "notes": notes,
        "toggl_id": None,
        "product_id": product_id,
        "comment_id": None,
        "ticket_line_item_id": None,
        "active_duration": active,
        "billable_time": active,
        "billable_override": None,
    }
