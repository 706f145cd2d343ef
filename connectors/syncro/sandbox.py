"""Syncro PSA REST API v1 emulator (mounted at ``/syncro/{subdomain}/api/v1``).

Sources: the official spec ``reference/specs/syncro-openapi.json`` (shapes, parameters, error
examples), ``reference/vendor-apis.md`` §1 (page sizes, quirks observed on live tenants) and the
operator runbook ``seeds/001_*.txt`` (comment wrapper 422, ignored fields, pricing, invoice
flow, attribution). Quirks are emulated on purpose; each handler's docstring names its source.

Decisions where the sources are silent are listed in ``docs/sandbox.md``; the main ones:

* Auth: ``Authorization: Bearer <token>`` (or the bare token), or ``?api_key=<token>``; bad or
  missing token -> 401 ``{"error": "Not authorized"}``.
* 180 requests per rolling minute per client address -> 429 ``text/plain`` "Retry later\\n"
  (Rack::Attack's default body), with ``Retry-After`` only if ``syncro_retry_after``.
* Rails merges query and JSON body parameters; so does the sandbox (the body wins).
* Tickets and invoices list newest first (id DESC); everything else id ASC.
* ``since_updated_at`` is strict (``updated_at > value``).
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.sandbox import accounts
from connectors.sandbox.app import (
    Ctx,
    Reply,
    Request,
    Response,
    Vendor,
    json_response,
    raw_json_response,
    route,
    text_response,
)
from connectors.sandbox.clock import iso_z, parse_instant, sortable, sortable_text
from connectors.sandbox.datagen import Gen
from connectors.sandbox.ratelimit import SlidingWindow
from connectors.sandbox.store import Where, register_kind

K_CUSTOMER = "syncro.customer"
K_CONTACT = "syncro.contact"
K_PRODUCT = "syncro.product"
K_TICKET = "syncro.ticket"
K_COMMENT = "syncro.comment"
K_LINE = "syncro.ticket_line_item"
K_TIMER = "syncro.timer"
K_INVOICE = "syncro.invoice"
K_INVOICE_LINE = "syncro.invoice_line_item"

STATUSES = [
    "New",
    "In Progress",
    "Waiting on Customer",
    "Waiting on Vendor",
    "Waiting for Parts",
    "Scheduled",
    "Customer Reply",
    "Resolved",
    "Invoiced",
    "Closed",
]
CLOSED_STATUSES = ("Resolved", "Closed")  # what the "Not Closed" filter value excludes
PRIORITIES = ["Urgent", "High", "Normal", "Low"]
TICKET_TYPES = [
    (41001, "Remote Support"),
    (41002, "Onsite Service"),
    (41003, "Network"),
    (41004, "Email / Microsoft 365"),
    (41005, "Hardware"),
    (41006, "Security"),
    (41007, "Project"),
]

# Labor products of the seed runbook (seeds/001 "Labor product IDs"), with the labor-type keys
# its `--labor` flag uses. Rates are the sandbox's (the runbook says do not hard-code them).
LABOR_PRODUCTS = [
    (1190473, "remote", "Labor - Remote Business", "125.0"),
    (26118, "onsite", "Labor - Onsite Business", "150.0"),
    (26184, "emergency", "Labor - Emergency or After Hours Business", "225.0"),
    (9269129, "project", "Labor - Prepaid Project Labor", "0.0"),
    (9269124, "internal", "Labor - Internal Labor", "0.0"),
    (26117, "travel", "Fee - Travel Time", "75.0"),
    (68055, "website", "Labor - Website Labor", "110.0"),
]
LABOR_PRODUCT_IDS = {key: pid for pid, key, _name, _rate in LABOR_PRODUCTS}
DEFAULT_LABOR_PRODUCT_ID = 1190473

HARDWARE = [
    ("Dell Latitude 5450 Laptop", "Hardware", "1249.0", "1049.0"),
    ("Samsung 990 PRO 1TB SSD", "Hardware", "149.0", "99.0"),
    ("Ubiquiti UniFi U6 Pro Access Point", "Network", "189.0", "149.0"),
    ("Cisco Meraki MX68 Firewall", "Network", "895.0", "705.0"),
    ("APC Back-UPS Pro 1500VA", "Hardware", "279.0", "215.0"),
    ("Microsoft 365 Business Premium (monthly)", "Software", "22.0", "22.0"),
    ("Veeam Backup License (annual)", "Software", "340.0", "280.0"),
    ("HP LaserJet Toner 58A", "Supplies", "129.0", "89.0"),
    ("Logitech MK540 Keyboard/Mouse", "Hardware", "49.0", "32.0"),
    ("CAT6 Patch Cable 7ft", "Supplies", "6.0", "2.5"),
    ("SentinelOne Endpoint (monthly)", "Software", "9.0", "6.0"),
    ("Dell 27in Monitor P2725H", "Hardware", "299.0", "239.0"),
]

SUBJECTS = [
    "Outlook keeps asking for password",
    "Printer offline on 2nd floor",
    "New laptop setup for {name}",
    "Server backup failed overnight",
    "VPN not connecting from home",
    "Replace failing SSD in front desk PC",
    "Phishing email reported by {name}",
    "Add Microsoft 365 license for new hire",
    "Firewall firmware update",
    "Wi-Fi dead zone in warehouse",
    "QuickBooks won't open after update",
    "Shared drive mapping missing",
    "Onboard new employee {name}",
    "Offboard {name} - disable accounts",
    "Slow computer in conference room",
    "Website SSL certificate expiring",
    "Scanner to email stopped working",
    "MFA reset for {name}",
    "Replace UPS battery in server closet",
    "Ransomware alert from endpoint protection",
    "Teams calls dropping",
    "Set up new network switch",
    "Domain renewal for {company}",
    "Migrate mailbox to Exchange Online",
]
PROBLEM_TYPES = [
    "Remote Support",
    "Onsite",
    "Network",
    "Email",
    "Hardware",
    "Software",
    "Security",
    "Backup",
    "Printer",
    "Project",
]
COMMENT_SUBJECTS = [
    "Initial Issue",
    "Update",
    "Resolution",
    "Internal Note",
    "Customer Reply",
    "Scheduled",
]
COMMENT_BODIES = [
    "Remoted in and cleared cached credentials; user confirmed Outlook is working.",
    "Called {name}, left voicemail. Will try again this afternoon.",
    "Replaced the toner and ran a test page. Printer back online.",
    "Backup job failed with VSS error 0x800423F4; restarted the writer and re-ran successfully.",
    "Ordered replacement part, waiting for delivery.",
    "Updated firmware to latest stable release, rebooted after hours.",
    "Reset MFA and walked the user through re-enrolling the authenticator app.",
    "Issue resolved, closing ticket. Please reply if it comes back.",
    "Customer reports the problem happens every morning around 9am.",
    "Escalated to vendor support, case number {num}.",
    "Onsite visit scheduled for {day}.",
    "Mapped the shared drive via GPO and verified on two workstations.",
]
UNIT_TEXT = "Labor"


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
    return money(value) if Decimal(str(value)) != 0 else "0.0"


def cents(value: Any) -> int:
    return int((Decimal(str(value)) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def dollars(c: int | None) -> float | int:
    if c is None:
        return 0
    return c // 100 if c % 100 == 0 else c / 100


def to_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def to_bool(value: Any, default: bool | None = None) -> bool | None:
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


class SyncroSandbox(Vendor):
    """The Syncro emulator. Python inspection helpers: :meth:`ticket_records`,
    :meth:`ticket_ids`, :meth:`labor_product_id`."""

    name = "syncro"

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._window: SlidingWindow | None = None

    # --- auth and limits ---------------------------------------------------------------------
    def authenticate(self, req: Request) -> tuple[Any, str] | Response:
        if req.params.get("sub") != accounts.SYNCRO_SUBDOMAIN:
            return text_response("Account not found", 404, "text/html")
        token = req.arg("api_key")
        header = req.headers.get("authorization", "")
        if header:
            token = header[7:].strip() if header.lower().startswith("bearer ") else header.strip()
        user = accounts.syncro_user_by_token(token or "")
        if user is None:
            return json_response({"error": "Not authorized"}, 401)
        return user, f"user:{user.user_id}"

    def check_limits(
        self, req: Request, principal: Any
    ) -> tuple[Response | None, list[tuple[str, str]]]:
        limit = self.sandbox.config.syncro_rate_limit_per_minute
        if not limit:
            return None, []
        if self._window is None or self._window.limit != limit:
            self._window = SlidingWindow(limit, 60.0)
        verdict = self._window.hit(req.client, self.sandbox.clock.now())
        if verdict.allowed:
            return None, []
        return self._too_many(verdict.reset_seconds), []

    def _too_many(self, retry_after: int = 60) -> Response:
        resp = text_response("Retry later\n", 429)
        if self.sandbox.config.syncro_retry_after:
            resp.headers.append(("Retry-After", str(retry_after)))
        return resp

    def too_many_requests(self, req: Request) -> Response:
        return self._too_many()

    def reset_limits(self) -> None:
        if self._window is not None:
            self._window.clear()

    def not_found(self, req: Request) -> Response:
        return json_response({"message": "Not found"}, 404)

    def method_not_allowed(self, req: Request) -> Response:
        return json_response({"message": "Not found"}, 404)

    def bad_json(self, req: Request) -> Response:
        return json_response({"status": 400, "error": "Bad Request"}, 400)

    # --- parameters --------------------------------------------------------------------------
    @staticmethod
    def params(ctx: Ctx) -> dict[str, Any]:
        """Rails-style params: query string merged under the JSON body (the body wins)."""
        merged: dict[str, Any] = {k: v[0] for k, v in ctx.req.query.items() if k != "api_key"}
        body = ctx.req.json()
        if isinstance(body, dict):
            merged.update(body)
        return merged

    @staticmethod
    def page_of(ctx: Ctx) -> int:
        return max(to_int(ctx.req.arg("page")) or 1, 1)

    def page_size(self, name: str) -> int:
        return self.sandbox.config.syncro_page_sizes.get(name, 25)

    # --- /me, /users ------------------------------------------------------------------------
    @route("GET", "/me")
    def me(self, ctx: Ctx) -> Response:
        """GET /me (spec example): who the token belongs to (seed 001 "Attribution rule")."""
        u: accounts.SyncroUser = ctx.principal
        perms = {"read": True, "write": True, "delete": True}
        return json_response(
            {
                "user_token": u.token,
                "user_email": u.email,
                "user_name": u.full_name,
                "user_id": u.user_id,
                "admin": u.admin,
                "can_use_app": True,
                "two_factor_required": False,
                "subdomain": accounts.SYNCRO_SUBDOMAIN,
                "default_location": None,
                "enable_multi_locations": False,
                "locations_allowed": [],
                "permissions": {
                    "asset": perms,
                    "customer": perms,
                    "ticket": perms,
                    "invoice": perms,
                    "payment": perms,
                    "worksheet": {"add": True, "manage": True, "delete": True},
                    "script": {"execute": True},
                },
            }
        )

    @route("GET", "/users")
    def users(self, ctx: Ctx) -> Response:
        """GET /users: ``{"users": [[id, name], ...]}`` (spec example; no meta)."""
        return json_response({"users": [[u.user_id, u.full_name] for u in accounts.SYNCRO_USERS]})

    @route("GET", "/users/{id}")
    def user_detail(self, ctx: Ctx) -> Response:
        user = user_obj(to_int(ctx.req.params["id"]))
        if user is None:
            raise not_found()
        return json_response({"user": user})

    # --- tickets -----------------------------------------------------------------------------
    @route("GET", "/tickets/settings")
    def ticket_settings(self, ctx: Ctx) -> Response:
        """GET /tickets/settings (spec example shape)."""
        return json_response(
            {
                "ticket_status_list": STATUSES,
                "default_labor_product_id": DEFAULT_LABOR_PRODUCT_ID,
                "ticket_timer_charge_by_default": False,
                "saved_searches": [],
                "ticket_types": [
                    {"id": tid, "name": name, "disabled": False, "ticket_fields": []}
                    for tid, name in TICKET_TYPES
                ],
                "ticket_type_fields": [],
                "ticket_type_field_answers": [],
                "appointment_types": [],
                "users": [{"id": u.user_id, "name": u.full_name} for u in accounts.SYNCRO_USERS],
                "dashboard_settings": None,
                "worksheet_templates": [],
                "require_ticket_type": False,
                "require_intake_form_with_ticket": False,
                "require_outtake_form_with_ticket": False,
                "ticket_workflow_default_id": None,
                "priorities": PRIORITIES,
            }
        )

    @route("GET", "/tickets")
    def tickets(self, ctx: Ctx) -> Response:
        """GET /tickets: filters ``since_updated_at``, ``created_after``, ``resolved_after``,
        ``status`` (incl. "Not Closed"), ``customer_id``, ``contact_id``, ``number``,
        ``user_id``, ``mine``, ``query``; ``page`` of ``syncro_page_sizes["tickets"]`` (50, as
        observed live, vendor-apis.md §1.4); meta ``{total_pages, page}`` only. List items carry
        only the initial comment unless ``all_comments=true`` (deprecated param, default false
        since 2026-03-11, spec)."""
        q = ctx.req
        where: list[Where] = []
        if (v := sortable_param(q.arg("since_updated_at"))) is not None:
            where.append(Where("updated_at > ?", (v,)))
        if (v := sortable_param(q.arg("created_after"))) is not None:
            where.append(Where("created_at > ?", (v,)))
        if (v := sortable_param(q.arg("resolved_after"))) is not None:
            where.append(Where("substr(json_extract(data, '$.resolved_at'), 1, 23) > ?", (v[:23],)))
        status = q.arg("status")
        if status:
            if status.lower() == "not closed":
                where.append(Where("status NOT IN (?, ?)", CLOSED_STATUSES))
            else:
                where.append(Where("status = ?", (status,)))
        for param, col in (("customer_id", "customer_id"), ("user_id", "user_id")):
            if q.arg(param):
                where.append(Where(f"{col} = ?", (to_int(q.arg(param)),)))
        if q.arg("contact_id"):
            where.append(Where("ext = ?", (str(to_int(q.arg("contact_id"))),)))
        if q.arg("number"):
            where.append(Where("ref = ?", (q.arg("number"),)))
        if to_bool(q.arg("mine")):
            where.append(Where("user_id = ?", (ctx.principal.user_id,)))
        if q.arg("query"):
            where.append(Where("search LIKE ?", (f"%{q.arg('query', '').lower()}%",)))
        size = self.page_size("tickets")
        page = self.page_of(ctx)
        total = ctx.store.count(K_TICKET, where)
        rows = ctx.store.select_raw(
            K_TICKET, where, desc=True, limit=size, offset=(page - 1) * size
        )
        meta = f'{{"total_pages":{math.ceil(total / size)},"page":{page}}}'
        if to_bool(q.arg("all_comments")):
            tickets = [
                self._with_all_comments(ctx, t)
                for t in ctx.store.select(
                    K_TICKET, where, desc=True, limit=size, offset=(page - 1) * size
                )
            ]
            return json_response(
                {"tickets": tickets, "meta": {"total_pages": math.ceil(total / size), "page": page}}
            )
        return raw_json_response('{"tickets":[' + ",".join(rows) + '],"meta":' + meta + "}")

    def _with_all_comments(self, ctx: Ctx, ticket: dict[str, Any]) -> dict[str, Any]:
        ticket["comments"] = ctx.store.select(K_COMMENT, [Where("parent_id = ?", (ticket["id"],))])
        return ticket

    def _ticket(self, ctx: Ctx, raw_id: str) -> dict[str, Any]:
        ticket = ctx.store.get(K_TICKET, to_int(raw_id) or -1)
        if ticket is None:
            raise not_found()
        return ticket

    def ticket_detail(self, ctx: Ctx, ticket: dict[str, Any]) -> dict[str, Any]:
        """The GET /tickets/{id} body's ``ticket`` (spec example keys)."""
        tid = ticket["id"]
        store = ctx.store
        customer = store.get(K_CUSTOMER, ticket["customer_id"]) or {}
        if customer:
            customer["contacts"] = store.select(
                K_CONTACT, [Where("parent_id = ?", (customer["id"],))]
            )
        contact = store.get(K_CONTACT, ticket["contact_id"]) if ticket.get("contact_id") else None
        type_name = ticket.get("ticket_type_name")
        detail = dict(ticket)
        detail.update(
            {
                "intake_form_html": None,
                "signature_name": None,
                "signature_date": None,
                "asset_ids": [],
                "outtake_form_name": None,
                "outtake_form_date": None,
                "outtake_form_html": None,
                "comments": store.select(K_COMMENT, [Where("parent_id = ?", (tid,))]),
                "attachments": [],
                "ticket_timers": store.select(K_TIMER, [Where("parent_id = ?", (tid,))]),
                "line_items": store.select(K_LINE, [Where("parent_id = ?", (tid,))]),
                "worksheet_results": [],
                "assets": [],
                "appointments": [],
                "ticket_fields": [],
                "ticket_answers": [],
                "customer": customer or None,
                "contact": contact,
                "user": user_obj(ticket.get("user_id")),
                "ticket_type": {
                    "id": ticket.get("ticket_type_id"),
                    "name": type_name,
                    "account_id": 1,
                    "created_at": "2021-03-01T15:00:00.000Z",
                    "updated_at": "2021-03-01T15:00:00.000Z",
                    "disabled": False,
                    "intake_terms": None,
                    "skip_intake": False,
                    "outtake_terms": None,
                    "skip_outtake": False,
                    "ticket_fields": [],
                }
                if ticket.get("ticket_type_id")
                else None,
                "address": None,
            }
        )
        return detail

    @route("GET", "/tickets/{id}")
    def ticket_get(self, ctx: Ctx) -> Response:
        """GET /tickets/{id}: ``{"ticket": {...}}`` with comments, line items, timers,
        customer (seed 001: "always use .ticket.id")."""
        return json_response(
            {"ticket": self.ticket_detail(ctx, self._ticket(ctx, ctx.req.params["id"]))}
        )

    def _validate_ticket_fields(self, p: dict[str, Any], *, creating: bool) -> None:
        if "status" in p and p["status"] not in STATUSES:
            raise Reply(
                json_response(
                    {"success": False, "message": ["Status is not included in the list"]}, 422
                )
            )
        if (
            "user_id" in p
            and p["user_id"] not in (None, "")
            and accounts.syncro_user_by_id(to_int(p["user_id"]) or -1) is None
        ):
            raise Reply(json_response({"success": False, "message": ["User must exist"]}, 422))
        if (creating or "subject" in p) and not str(p.get("subject") or "").strip():
            raise Reply(
                json_response({"success": False, "message": ["Subject can't be blank"]}, 422)
            )

    def _apply_ticket_fields(self, ctx: Ctx, ticket: dict[str, Any], p: dict[str, Any]) -> None:
        now = ctx.now()
        for key in (
            "subject",
            "problem_type",
            "priority",
            "properties",
            "tag_list",
            "due_date",
            "start_at",
            "end_at",
            "location_id",
            "sla_id",
        ):
            if key in p:
                ticket[key] = p[key]
        if "user_id" in p:
            ticket["user_id"] = to_int(p["user_id"])
            ticket["user"] = user_obj(ticket["user_id"])
        if "contact_id" in p:
            contact = ctx.store.get(K_CONTACT, to_int(p["contact_id"]) or -1)
            ticket["contact_id"] = contact["id"] if contact else None
            ticket["contact_fullname"] = contact["name"] if contact else None
        if "ticket_type_id" in p:
            tt = dict(TICKET_TYPES).get(to_int(p["ticket_type_id"]) or -1)
            ticket["ticket_type_id"] = to_int(p["ticket_type_id"]) if tt else None
            ticket["ticket_type_name"] = tt
        if "status" in p and p["status"] != ticket.get("status"):
            ticket["status"] = p["status"]
            if p["status"] in ("Resolved", "Closed") and not ticket.get("resolved_at"):
                ticket["resolved_at"] = ts(now)
        ticket["updated_at"] = ts(now)

    @route("POST", "/tickets")
    def ticket_create(self, ctx: Ctx) -> Response:
        """POST /tickets. 422 ``{"error": "Customer required field"}`` without a valid customer
        (spec example); ``comments_attributes`` become comments; ``line_items`` in the body are
        silently ignored (vendor-apis.md §1.9). Answers ``{"ticket": {...}}``."""
        p = self.params(ctx)
        customer = ctx.store.get(K_CUSTOMER, to_int(p.get("customer_id")) or -1)
        if customer is None:
            raise Reply(json_response({"error": "Customer required field"}, 422))
        self._validate_ticket_fields(p, creating=True)
        now = ctx.now()
        tid = ctx.store.next_id(K_TICKET)
        number = ctx.store.next_id("syncro.ticket_number")
        ticket = self.new_ticket(
            tid,
            number,
            customer,
            subject=str(p["subject"]),
            at=now,
            status=p.get("status") or "New",
        )
        self._apply_ticket_fields(ctx, ticket, {k: v for k, v in p.items() if k != "status"})
        ticket["updated_at"] = ticket["created_at"]
        ctx.store.put(K_TICKET, ticket)
        ctx.touch(K_TICKET, tid, "created")
        for attrs in p.get("comments_attributes") or []:
            if isinstance(attrs, dict) and attrs.get("body"):
                self.add_comment(ctx, ticket, attrs)
        ticket = ctx.store.get(K_TICKET, tid)
        return json_response({"ticket": self.ticket_detail(ctx, ticket)})

    @staticmethod
    def new_ticket(
        tid: int,
        number: int,
        customer: dict[str, Any],
        *,
        subject: str,
        at: datetime,
        status: str = "New",
    ) -> dict[str, Any]:
        return {
            "id": tid,
            "number": number,
            "subject": subject,
            "created_at": ts(at),
            "customer_id": customer["id"],
            "customer_business_then_name": customer["business_then_name"],
            "due_date": ts(at + timedelta(days=2)),
            "resolved_at": None,
            "start_at": None,
            "end_at": None,
            "location_id": None,
            "location_name": None,
            "problem_type": None,
            "status": status,
            "ticket_type_id": None,
            "ticket_type_name": None,
            "properties": {},
            "user_id": None,
            "updated_at": ts(at),
            "pdf_url": None,
            "priority": None,
            "billing_status": None,
            "tag_list": [],
            "sla_name": None,
            "creator_name_or_email": None,
            "contact_fullname": None,
            "contract_name": None,
            "address_id": None,
            "parent": False,
            "parent_id": None,
            "child": False,
            "recurring": False,
            "customer_reply": False,
            "total_formatted_billable_time": None,
            "contact_id": None,
            "sla_breached": False,
            "sla_breaching_soon": False,
            "contract_id": None,
            "sla_id": None,
            "customer_tag_list": [],
            "resolution_time": None,
            "response_time": None,
            "customer_icons": [],
            "comments": [],
            "user": None,
        }

    @route("PUT", "/tickets/{id}")
    def ticket_update(self, ctx: Ctx) -> Response:
        """PUT /tickets/{id}: partial update; blank subject -> 422
        ``{"success": false, "message": ["Subject can't be blank"]}`` (spec example)."""
        ticket = self._ticket(ctx, ctx.req.params["id"])
        p = self.params(ctx)
        self._validate_ticket_fields(p, creating=False)
        self._apply_ticket_fields(ctx, ticket, p)
        ctx.store.put(K_TICKET, ticket)
        ctx.touch(K_TICKET, ticket["id"], "updated")
        return json_response({"ticket": self.ticket_detail(ctx, ticket)})

    @route("DELETE", "/tickets/{id}")
    def ticket_delete(self, ctx: Ctx) -> Response:
        ticket = self._ticket(ctx, ctx.req.params["id"])
        tid = ticket["id"]
        for kind in (K_COMMENT, K_LINE, K_TIMER):
            ctx.store.delete_where(kind, [Where("parent_id = ?", (tid,))])
        ctx.store.delete(K_TICKET, tid)
        ctx.touch(K_TICKET, tid, "deleted")
        return json_response({"message": "Ticket was successfully deleted. "})

    # --- comments ----------------------------------------------------------------------------
    @route("GET", "/tickets/{id}/comments")
    def comments(self, ctx: Ctx) -> Response:
        """GET /tickets/{id}/comments: filters ``created_after/before``,
        ``updated_after/before``, ``sort_by`` (created_at|updated_at), ``sort_direction``
        (ASC|DESC, default ASC); ``per_page`` (default 10); meta ``{total_pages, page, per_page}``."""
        ticket = self._ticket(ctx, ctx.req.params["id"])
        q = ctx.req
        where = [Where("parent_id = ?", (ticket["id"],))]
        for param, sql in (
            ("created_after", "created_at > ?"),
            ("created_before", "created_at < ?"),
            ("updated_after", "updated_at > ?"),
            ("updated_before", "updated_at < ?"),
        ):
            if (v := sortable_param(q.arg(param))) is not None:
                where.append(Where(sql, (v,)))
        order = q.arg("sort_by") if q.arg("sort_by") in ("created_at", "updated_at") else "id"
        desc = (q.arg("sort_direction") or "ASC").upper() == "DESC"
        per_page = min(
            max(to_int(q.arg("per_page")) or self.page_size("comments"), 1),
            self.sandbox.config.syncro_comments_max_per_page,
        )
        page = self.page_of(ctx)
        total = ctx.store.count(K_COMMENT, where)
        rows = ctx.store.select(
            K_COMMENT, where, order=order, desc=desc, limit=per_page, offset=(page - 1) * per_page
        )
        for row in rows:
            row["is_rich_text"] = False
            user = user_obj(row.get("user_id"))
            row["user"] = (
                {"id": user["id"], "email": user["email"], "full_name": user["full_name"]}
                if user
                else {}
            )
        return json_response(
            {
                "comments": rows,
                "meta": {
                    "total_pages": math.ceil(total / per_page),
                    "page": page,
                    "per_page": per_page,
                },
            }
        )

    def add_comment(self, ctx: Ctx, ticket: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
        now = ctx.now()
        cid = ctx.store.next_id(K_COMMENT)
        user: accounts.SyncroUser = ctx.principal
        comment = comment_record(
            cid,
            ticket["id"],
            subject=str(p.get("subject") or ""),
            body=str(p.get("body") or ""),
            tech=str(p.get("tech") or user.full_name),
            hidden=bool(to_bool(p.get("hidden"), False)),
            user_id=user.user_id,
            at=now,
        )
        ctx.store.put(K_COMMENT, comment)
        ctx.touch(K_COMMENT, cid, "created")
        if not ticket.get("comments"):
            ticket["comments"] = [comment]
        ticket["updated_at"] = ts(now)
        ctx.store.put(K_TICKET, ticket)
        return comment

    @route("POST", "/tickets/{id}/comment")
    def comment_create(self, ctx: Ctx) -> Response:
        """POST /tickets/{id}/comment (singular). Needs top-level ``subject`` and ``body``: a body
        wrapped in ``{"comment": {...}}`` has neither -> 422 ``{"success": false, "message":
        ["Body can't be blank", "Subject can't be blank"]}`` (spec example; seed 001).
        ``product_id``, ``minutes_spent``, ``bill_time_now`` are accepted and ignored, and so is
        any ``Idempotency-Key`` header (seed 001). ``do_not_email`` is write-only. Answers
        ``{"comment": {...}}`` (seed 001: "NOT a flat object"). The ticket's ``updated_at`` moves."""
        ticket = self._ticket(ctx, ctx.req.params["id"])
        p = self.params(ctx)
        messages = []
        if not str(p.get("body") or "").strip():
            messages.append("Body can't be blank")
        if not str(p.get("subject") or "").strip():
            messages.append("Subject can't be blank")
        if messages:
            raise Reply(json_response({"success": False, "message": messages}, 422))
        comment = self.add_comment(ctx, ticket, p)
        return json_response({"comment": comment})

    # --- ticket line items -------------------------------------------------------------------
    def _next_position(self, ctx: Ctx, ticket_id: int) -> int:
        return ctx.store.count(K_LINE, [Where("parent_id = ?", (ticket_id,))]) + 1

    @route("POST", "/tickets/{id}/add_line_item")
    def line_item_add(self, ctx: Ctx) -> Response:
        """POST /tickets/{id}/add_line_item. Both ``name`` and ``description`` required, even with
        ``product_id`` -> 422 ``{"errors": "Name can't be blank, Description can't be blank",
        "params": {}}`` (spec example; vendor-apis.md §1.9). Only ``price_retail`` sets the price;
        ``price``/``retail_price``/``rate``/``price_cents`` are ignored; with no
        ``price_retail`` the product's price is used, else 0. ``taxable`` defaults to true when
        omitted, whatever the product says (seed 001). Answers the flat line item (spec)."""
        ticket = self._ticket(ctx, ctx.req.params["id"])
        p = self.params(ctx)
        errors = []
        if not str(p.get("name") or "").strip():
            errors.append("Name can't be blank")
        if not str(p.get("description") or "").strip():
            errors.append("Description can't be blank")
        if errors:
            raise Reply(json_response({"errors": ", ".join(errors), "params": {}}, 422))
        product = (
            ctx.store.get(K_PRODUCT, to_int(p.get("product_id")) or -1)
            if p.get("product_id") is not None
            else None
        )
        retail = p.get("price_retail")
        cost = p.get("price_cost")
        try:
            retail_cents = (
                cents(retail)
                if retail is not None
                else cents(product["price_retail"])
                if product
                else 0
            )
            cost_cents = (
                cents(cost)
                if cost is not None
                else cents(product["price_cost"])
                if product
                else None
            )
            quantity = Decimal(str(p.get("quantity", 1)))
        except (ArithmeticError, ValueError, TypeError):
            raise Reply(
                json_response({"errors": "Quantity is not a number", "params": {}}, 422)
            ) from None
        lid = ctx.store.next_id(K_LINE)
        now = ctx.now()
        item = line_item_record(
            lid,
            ticket["id"],
            user_id=ctx.principal.user_id,
            product_id=product["id"] if product else None,
            name=str(p["name"]),
            description=str(p["description"]),
            quantity=quantity,
            taxable=bool(to_bool(p.get("taxable"), True)),
            cost_cents=cost_cents,
            retail_cents=retail_cents,
            position=self._next_position(ctx, ticket["id"]),
            at=now,
            category=product["product_category"] if product else None,
        )
        ctx.store.put(K_LINE, item)
        ctx.touch(K_LINE, lid, "created")
        self._touch_ticket(ctx, ticket)
        return json_response(item)

    def _touch_ticket(self, ctx: Ctx, ticket: dict[str, Any]) -> None:
        ticket["updated_at"] = ts(ctx.now())
        ctx.store.put(K_TICKET, ticket)

    def _line_item(self, ctx: Ctx, ticket: dict[str, Any], raw_id: Any) -> dict[str, Any]:
        item = ctx.store.get(K_LINE, to_int(raw_id) or -1)
        if item is None or item["ticket_id"] != ticket["id"]:
            raise not_found()
        return item

    @route("PUT", "/tickets/{id}/update_line_item")
    def line_item_update(self, ctx: Ctx) -> Response:
        """PUT /tickets/{id}/update_line_item ``{ticket_line_item_id, ...}``: answers
        ``{"ticket_line_item": {...}}`` (wrapped, unlike add; spec example)."""
        ticket = self._ticket(ctx, ctx.req.params["id"])
        p = self.params(ctx)
        item = self._line_item(ctx, ticket, p.get("ticket_line_item_id"))
        for key in ("name", "description", "upc_code"):
            if key in p:
                item[key] = p[key]
        if "quantity" in p:
            item["quantity"] = qty_str(p["quantity"])
        if "taxable" in p:
            item["taxable"] = bool(to_bool(p["taxable"], item["taxable"]))
        if "price_retail" in p:
            item["retail_cents"] = cents(p["price_retail"])
            item["price_retail"] = dollars(item["retail_cents"])
        if "price_cost" in p:
            item["cost_cents"] = cents(p["price_cost"])
            item["price_cost"] = dollars(item["cost_cents"])
        if "product_id" in p:
            item["product_id"] = to_int(p["product_id"])
        item["updated_at"] = ts(ctx.now())
        ctx.store.put(K_LINE, item)
        ctx.touch(K_LINE, item["id"], "updated")
        self._touch_ticket(ctx, ticket)
        return json_response({"ticket_line_item": item})

    @route("POST", "/tickets/{id}/remove_line_item")
    def line_item_remove(self, ctx: Ctx) -> Response:
        """POST /tickets/{id}/remove_line_item ``{ticket_line_item_id}`` -> ``{"success": true,
        "message": ""}`` (seed 001)."""
        ticket = self._ticket(ctx, ctx.req.params["id"])
        item = self._line_item(ctx, ticket, self.params(ctx).get("ticket_line_item_id"))
        ctx.store.delete(K_LINE, item["id"])
        ctx.touch(K_LINE, item["id"], "deleted")
        self._touch_ticket(ctx, ticket)
        return json_response({"success": True, "message": ""})

    # --- timers ------------------------------------------------------------------------------
    @route("POST", "/tickets/{id}/timer_entry")
    def timer_create(self, ctx: Ctx) -> Response:
        """POST /tickets/{id}/timer_entry. ``start_at`` required, else 422 ``{"error": "no
        implicit conversion of nil into String"}`` (spec example; vendor-apis.md §1.9);
        ``end_at`` or ``duration_minutes`` sets the end; ``product_id`` defaults to the
        account's default labor product; ``user_id`` to the token's user. Request fields
        ``start_at``/``end_at``, response ``start_time``/``end_time``. Flat response."""
        ticket = self._ticket(ctx, ctx.req.params["id"])
        p = self.params(ctx)
        try:
            start = parse_instant(str(p["start_at"])) if p.get("start_at") else None
            end = parse_instant(str(p["end_at"])) if p.get("end_at") else None
        except ValueError:
            start = end = None
        if start is None:
            raise Reply(json_response({"error": "no implicit conversion of nil into String"}, 422))
        if end is None and to_int(p.get("duration_minutes")):
            end = start + timedelta(minutes=to_int(p["duration_minutes"]) or 0)
        user_id = to_int(p.get("user_id")) or ctx.principal.user_id
        tid = ctx.store.next_id(K_TIMER)
        timer = timer_record(
            tid,
            ticket["id"],
            user_id=user_id,
            start=start,
            end=end,
            notes=p.get("notes"),
            product_id=to_int(p.get("product_id")) or DEFAULT_LABOR_PRODUCT_ID,
            billable=bool(to_bool(p.get("billable"), False)),
            at=ctx.now(),
        )
        ctx.store.put(K_TIMER, timer)
        ctx.touch(K_TIMER, tid, "created")
        self._touch_ticket(ctx, ticket)
        return json_response(timer)

    def _timer(self, ctx: Ctx, ticket: dict[str, Any], raw_id: Any) -> dict[str, Any]:
        timer = ctx.store.get(K_TIMER, to_int(raw_id) or -1)
        if timer is None or timer["ticket_id"] != ticket["id"]:
            raise not_found()
        return timer

    @route("PUT", "/tickets/{id}/update_timer_entry")
    def timer_update(self, ctx: Ctx) -> Response:
        """PUT /tickets/{id}/update_timer_entry ``{timer_entry_id, start_at, notes, product_id,
        user_id}``. ``duration_minutes`` is accepted but does not change ``end_time`` or
        ``active_duration`` (observed live, vendor-apis.md §1.9)."""
        ticket = self._ticket(ctx, ctx.req.params["id"])
        p = self.params(ctx)
        timer = self._timer(ctx, ticket, p.get("timer_entry_id"))
        if p.get("start_at"):
            try:
                start = parse_instant(str(p["start_at"]))
            except ValueError:
                raise Reply(json_response({"error": "invalid date"}, 422)) from None
            timer["start_time"] = ts(start)
            if timer.get("end_time"):
                timer["active_duration"] = int(
                    (parse_instant(timer["end_time"]) - start).total_seconds()
                )
                timer["billable_time"] = timer["active_duration"]
        for key in ("notes",):
            if key in p:
                timer[key] = p[key]
        for key in ("product_id", "user_id"):
            if key in p and to_int(p[key]):
                timer[key] = to_int(p[key])
        timer["updated_at"] = ts(ctx.now())
        ctx.store.put(K_TIMER, timer)
        ctx.touch(K_TIMER, timer["id"], "updated")
        return json_response(timer)

    @route("POST", "/tickets/{id}/delete_timer_entry")
    def timer_delete(self, ctx: Ctx) -> Response:
        ticket = self._ticket(ctx, ctx.req.params["id"])
        timer = self._timer(ctx, ticket, self.params(ctx).get("timer_entry_id"))
        ctx.store.delete(K_TIMER, timer["id"])
        ctx.touch(K_TIMER, timer["id"], "deleted")
        return json_response({"success": True})

    @route("POST", "/tickets/{id}/charge_timer_entry")
    def timer_charge(self, ctx: Ctx) -> Response:
        """POST /tickets/{id}/charge_timer_entry ``{timer_entry_id}``: creates a billable ticket
        line item from the timer (product price, hours as quantity) and sets ``recorded``.
        Charging twice creates two line items, as the real one does (vendor-apis.md §1.9).
        Answers the flat timer with ``recorded: true`` and ``ticket_line_item_id`` of the newest
        charge."""
        ticket = self._ticket(ctx, ctx.req.params["id"])
        timer = self._timer(ctx, ticket, self.params(ctx).get("timer_entry_id"))
        product = ctx.store.get(
            K_PRODUCT, timer.get("product_id") or DEFAULT_LABOR_PRODUCT_ID
        ) or ctx.store.get(K_PRODUCT, DEFAULT_LABOR_PRODUCT_ID)
        seconds = timer.get("active_duration") or 0
        hours = (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        lid = ctx.store.next_id(K_LINE)
        now = ctx.now()
        item = line_item_record(
            lid,
            ticket["id"],
            user_id=timer["user_id"],
            product_id=product["id"] if product else None,
            name=product["name"] if product else UNIT_TEXT,
            description=timer.get("notes") or (product["description"] if product else UNIT_TEXT),
            quantity=hours,
            taxable=bool(product["taxable"]) if product else False,
            cost_cents=cents(product["price_cost"]) if product else None,
            retail_cents=cents(product["price_retail"]) if product else 0,
            position=self._next_position(ctx, ticket["id"]),
            at=now,
            category=product["product_category"] if product else None,
        )
        ctx.store.put(K_LINE, item)
        ctx.touch(K_LINE, lid, "created")
        timer["recorded"] = True
        timer["ticket_line_item_id"] = lid
        timer["updated_at"] = ts(now)
        ctx.store.put(K_TIMER, timer)
        ctx.touch(K_TIMER, timer["id"], "updated")
        self._touch_ticket(ctx, ticket)
        return json_response(timer)

    @route("GET", "/ticket_timers")
    def ticket_timers(self, ctx: Ctx) -> Response:
        """GET /ticket_timers: ``created_at_gt``, ``created_at_lt``, ``page`` (100 per page as
        observed, vendor-apis.md §1.4), meta ``{total_pages, page}``; ``ticket_id`` is honoured
        too (the runbook uses it; not in the spec)."""
        q = ctx.req
        where: list[Where] = []
        if (v := sortable_param(q.arg("created_at_gt"))) is not None:
            where.append(Where("created_at > ?", (v,)))
        if (v := sortable_param(q.arg("created_at_lt"))) is not None:
            where.append(Where("created_at < ?", (v,)))
        if q.arg("ticket_id"):
            where.append(Where("parent_id = ?", (to_int(q.arg("ticket_id")),)))
        size = self.page_size("ticket_timers")
        page = self.page_of(ctx)
        total = ctx.store.count(K_TIMER, where)
        rows = ctx.store.select_raw(K_TIMER, where, limit=size, offset=(page - 1) * size)
        return raw_json_response(
            '{"ticket_timers":['
            + ",".join(rows)
            + f'],"meta":{{"total_pages":{math.ceil(total / size)},"page":{page}}}}}'
        )

    @route("PATCH", "/ticket_timers/{id}")
    def ticket_timer_billable(self, ctx: Ctx) -> Response:
        """PATCH ticket_timers/{id}?billable=true|false -> ``{"ticket_timer": {...}}``; anything
        else 422 ``{"errors": ["billable must be true or false"]}`` (spec)."""
        timer = ctx.store.get(K_TIMER, to_int(ctx.req.params["id"]) or -1)
        if timer is None:
            raise not_found()
        billable = to_bool(self.params(ctx).get("billable"))
        if billable is None:
            raise Reply(json_response({"errors": ["billable must be true or false"]}, 422))
        timer["billable"] = billable
        timer["updated_at"] = ts(ctx.now())
        ctx.store.put(K_TIMER, timer)
        ctx.touch(K_TIMER, timer["id"], "updated")
        # The spec's example answer carries this extra key (equal to updated_at).
        return json_response({"ticket_timer": {**timer, "since_updated_at": timer["updated_at"]}})

    # --- invoices ----------------------------------------------------------------------------
    @route("GET", "/invoices")
    def invoices(self, ctx: Ctx) -> Response:
        """GET /invoices: ``since_updated_at``, ``paid``, ``unpaid``, ``ticket_id``, ``page``
        (25 per page, observed live); meta ``{total_pages, page}``."""
        q = ctx.req
        where: list[Where] = []
        if (v := sortable_param(q.arg("since_updated_at"))) is not None:
            where.append(Where("updated_at > ?", (v,)))
        if to_bool(q.arg("paid")):
            where.append(Where("status = 'paid'"))
        if to_bool(q.arg("unpaid")):
            where.append(Where("status = 'unpaid'"))
        if q.arg("ticket_id"):
            where.append(Where("parent_id = ?", (to_int(q.arg("ticket_id")),)))
        if q.arg("customer_id"):
            where.append(Where("customer_id = ?", (to_int(q.arg("customer_id")),)))
        size = self.page_size("invoices")
        page = self.page_of(ctx)
        total = ctx.store.count(K_INVOICE, where)
        rows = ctx.store.select_raw(
            K_INVOICE, where, desc=True, limit=size, offset=(page - 1) * size
        )
        return raw_json_response(
            '{"invoices":['
            + ",".join(rows)
            + f'],"meta":{{"total_pages":{math.ceil(total / size)},"page":{page}}}}}'
        )

    def _invoice(self, ctx: Ctx, raw: str) -> dict[str, Any]:
        """By id, or by number ("Retrieves an Invoice by ID or Number", spec)."""
        inv = ctx.store.get(K_INVOICE, to_int(raw) or -1)
        if inv is None:
            found = ctx.store.select(K_INVOICE, [Where("ref = ?", (raw,))], limit=1)
            inv = found[0] if found else None
        if inv is None:
            raise not_found()
        return inv

    @route("GET", "/invoices/{id}")
    def invoice_get(self, ctx: Ctx) -> Response:
        """GET /invoices/{id}: ``{"invoice": {... "customer", "line_items", "payments"}}``
        (wrapped, as the runbook's ``.invoice.line_items``; the spec's schema is flat but has no
        required keys)."""
        inv = self._invoice(ctx, ctx.req.params["id"])
        inv["customer"] = ctx.store.get(K_CUSTOMER, inv["customer_id"])
        inv["line_items"] = ctx.store.select(K_INVOICE_LINE, [Where("parent_id = ?", (inv["id"],))])
        inv["payments"] = []
        return json_response({"invoice": inv})

    @route("GET", "/invoices/{id}/ticket")
    def invoice_ticket(self, ctx: Ctx) -> Response:
        inv = self._invoice(ctx, ctx.req.params["id"])
        if not inv.get("ticket_id"):
            raise not_found()
        return json_response(
            {"ticket": self.ticket_detail(ctx, self._ticket(ctx, str(inv["ticket_id"])))}
        )

    @route("POST", "/invoices")
    def invoice_create(self, ctx: Ctx) -> Response:
        """POST /invoices. With ``ticket_id`` the ticket's not-yet-invoiced *line items* are
        copied in (timers are not: seed 001 "Make Invoice flow"); ``line_items`` in the body
        are ignored (vendor-apis.md §1.9). ``number`` and ``date`` are optional in practice
        (the runbook omits them) and default to the next number and today. Answers
        ``{"invoice": {...}}`` without ``line_items`` (seed 001). No idempotency: every POST
        is a new invoice."""
        p = self.params(ctx)
        ticket = None
        if p.get("ticket_id") is not None:
            ticket = ctx.store.get(K_TICKET, to_int(p["ticket_id"]) or -1)
            if ticket is None:
                raise not_found()
        customer_id = to_int(p.get("customer_id")) or (ticket["customer_id"] if ticket else None)
        customer = ctx.store.get(K_CUSTOMER, customer_id or -1)
        if customer is None:
            raise Reply(json_response({"customer_id": ["can't be blank"]}, 422))
        number = str(p.get("number") or "")
        if number and ctx.store.count(K_INVOICE, [Where("ref = ?", (number,))]):
            raise Reply(
                json_response({"success": False, "message": ["Number has already been taken"]}, 422)
            )
        now = ctx.now()
        iid = ctx.store.next_id(K_INVOICE)
        if not number:
            number = str(ctx.store.next_id("syncro.invoice_number"))
        try:
            date = parse_instant(str(p["date"])) if p.get("date") else now
        except ValueError:
            date = now
        invoice = self.new_invoice(
            iid,
            number,
            customer,
            ticket_id=ticket["id"] if ticket else None,
            date=date,
            at=now,
            user_id=ctx.principal.user_id,
        )
        for key in ("po_number", "note", "contact_id"):
            if key in p:
                invoice[key] = p[key]
        lines = []
        if ticket is not None:
            for item in ctx.store.select(
                K_LINE, [Where("parent_id = ? AND status = 'open'", (ticket["id"],))]
            ):
                line_id = ctx.store.next_id(K_INVOICE_LINE)
                lines.append(
                    self.invoice_line_from_ticket_item(line_id, iid, item, len(lines) + 1, now)
                )
                item["converted"] = True
                item["updated_at"] = ts(now)
                ctx.store.put(K_LINE, item)
                ctx.touch(K_LINE, item["id"], "updated")
        self.total_invoice(invoice, lines)
        ctx.store.put(K_INVOICE, invoice)
        ctx.touch(K_INVOICE, iid, "created")
        for line in lines:
            ctx.store.put(K_INVOICE_LINE, line)
            ctx.touch(K_INVOICE_LINE, line["id"], "created")
        return json_response({"invoice": invoice})

    @staticmethod
    def new_invoice(
        iid: int,
        number: str,
        customer: dict[str, Any],
        *,
        ticket_id: int | None,
        date: datetime,
        at: datetime,
        user_id: int | None,
    ) -> dict[str, Any]:
        day = date.strftime("%Y-%m-%dT00:00:00.000Z")
        return {
            "id": iid,
            "customer_id": customer["id"],
            "customer_business_then_name": customer["business_then_name"],
            "number": number,
            "created_at": ts(at),
            "updated_at": ts(at),
            "date": day,
            "due_date": (date + timedelta(days=30)).strftime("%Y-%m-%dT00:00:00.000Z"),
            "subtotal": "0.0",
            "total": "0.0",
            "tax": "0.0",
            "verified_paid": False,
            "tech_marked_paid": False,
            "ticket_id": ticket_id,
            "pdf_url": None,
            "is_paid": False,
            "location_id": None,
            "po_number": None,
            "contact_id": None,
            "note": None,
            "hardwarecost": None,
            "user_id": user_id,
        }

    @staticmethod
    def invoice_line_from_ticket_item(
        line_id: int, invoice_id: int, item: dict[str, Any], position: int, at: datetime
    ) -> dict[str, Any]:
        return {
            "id": line_id,
            "created_at": ts(at),
            "updated_at": ts(at),
            "invoice_id": invoice_id,
            "item": item["name"],
            "name": item["description"],
            "cost": money(Decimal(item["cost_cents"] or 0) / 100),
            "price": money(Decimal(item["retail_cents"] or 0) / 100),
            "quantity": item["quantity"],
            "product_id": item["product_id"],
            "taxable": item["taxable"],
            "discount_percent": None,
            "position": position,
            "invoice_bundle_id": None,
            "discount_dollars": None,
        }

    def total_invoice(self, invoice: dict[str, Any], lines: list[dict[str, Any]]) -> None:
        rate = Decimal(str(self.sandbox.config.syncro_tax_rate))
        subtotal = Decimal(0)
        taxable = Decimal(0)
        for line in lines:
            amount = Decimal(line["price"]) * Decimal(line["quantity"])
            subtotal += amount
            if line["taxable"]:
                taxable += amount
        tax = (taxable * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        invoice["subtotal"] = money(subtotal)
        invoice["tax"] = money(tax)
        invoice["total"] = money(subtotal + tax)

    @route("GET", "/line_items")
    def invoice_line_items(self, ctx: Ctx) -> Response:
        """GET /line_items?invoice_id= (invoice line items; meta with per_page 100, spec)."""
        where: list[Where] = []
        if ctx.req.arg("invoice_id"):
            where.append(Where("parent_id = ?", (to_int(ctx.req.arg("invoice_id")),)))
        return self._paged(ctx, K_INVOICE_LINE, "line_items", where, full_meta=True)

    # --- customers, contacts, products -------------------------------------------------------
    def _paged(
        self,
        ctx: Ctx,
        kind: str,
        key: str,
        where: list[Where],
        *,
        full_meta: bool,
        meta: bool = True,
    ) -> Response:
        size = self.page_size(key)
        page = self.page_of(ctx)
        total = ctx.store.count(kind, where)
        rows = ctx.store.select_raw(kind, where, limit=size, offset=(page - 1) * size)
        body = f'{{"{key}":[' + ",".join(rows) + "]"
        if meta:
            if full_meta:
                body += f',"meta":{{"total_pages":{math.ceil(total / size)},"total_entries":{total},"per_page":{size},"page":{page}}}'
            else:
                body += f',"meta":{{"total_pages":{math.ceil(total / size)},"page":{page}}}'
        return raw_json_response(body + "}")

    @route("GET", "/customers")
    def customers(self, ctx: Ctx) -> Response:
        """GET /customers: ``query``, ``firstname``, ``lastname``, ``business_name``, ``email``,
        ``id[]``, ``not_id[]``, ``include_disabled``; no updated-since filter (spec); 100 per
        page with full meta (spec example)."""
        q = ctx.req
        where: list[Where] = []
        if q.arg("query"):
            where.append(Where("search LIKE ?", (f"%{q.arg('query', '').lower()}%",)))
        for param in ("firstname", "lastname", "business_name"):
            if q.arg(param):
                where.append(
                    Where(
                        f"lower(json_extract(data, '$.{param}')) LIKE ?",
                        (f"%{q.arg(param, '').lower()}%",),
                    )
                )
        if q.arg("email"):
            where.append(Where("ext = ?", (q.arg("email", "").lower(),)))
        ids = [i for i in (to_int(v) for v in q.args("id")) if i is not None]
        if ids:
            where.append(Where(f"id IN ({','.join('?' * len(ids))})", tuple(ids)))
        not_ids = [i for i in (to_int(v) for v in q.args("not_id")) if i is not None]
        if not_ids:
            where.append(Where(f"id NOT IN ({','.join('?' * len(not_ids))})", tuple(not_ids)))
        if not to_bool(q.arg("include_disabled"), False):
            where.append(Where("status = 'active'"))
        size = self.page_size("customers")
        page = self.page_of(ctx)
        total = ctx.store.count(K_CUSTOMER, where)
        customers = ctx.store.select(K_CUSTOMER, where, limit=size, offset=(page - 1) * size)
        ids = [c["id"] for c in customers]
        contacts: dict[int, list[dict[str, Any]]] = {}
        if ids:
            in_ids = Where(f"parent_id IN ({','.join('?' * len(ids))})", tuple(ids))
            for contact in ctx.store.select(K_CONTACT, [in_ids]):
                contacts.setdefault(contact["customer_id"], []).append(contact)
        for customer in customers:
            customer["contacts"] = contacts.get(customer["id"], [])
        meta = {
            "total_pages": math.ceil(total / size),
            "total_entries": total,
            "per_page": size,
            "page": page,
        }
        return json_response({"customers": customers, "meta": meta})

    def _customer(self, ctx: Ctx, raw: Any) -> dict[str, Any]:
        customer = ctx.store.get(K_CUSTOMER, to_int(raw) or -1)
        if customer is None:
            raise not_found()
        return customer

    @route("GET", "/customers/{id}")
    def customer_get(self, ctx: Ctx) -> Response:
        customer = self._customer(ctx, ctx.req.params["id"])
        customer["contacts"] = ctx.store.select(
            K_CONTACT, [Where("parent_id = ?", (customer["id"],))]
        )
        return json_response({"customer": customer})

    _EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

    def _customer_fields(self, ctx: Ctx, customer: dict[str, Any], p: dict[str, Any]) -> None:
        if "email" in p and p["email"] and not self._EMAIL.match(str(p["email"])):
            raise Reply(
                json_response(
                    {"success": False, "message": ["Email is not an email"], "params": p}, 422
                )
            )
        for key in (
            "business_name",
            "firstname",
            "lastname",
            "email",
            "phone",
            "mobile",
            "address",
            "address_2",
            "city",
            "state",
            "zip",
            "notes",
            "properties",
        ):
            if key in p:
                customer[key] = p[key]
        full = f"{customer.get('firstname') or ''} {customer.get('lastname') or ''}".strip()
        customer["fullname"] = full
        customer["business_then_name"] = customer.get("business_name") or full
        customer["business_and_full_name"] = (
            f"{customer['business_name']} - {full}" if customer.get("business_name") else full
        )
        customer["updated_at"] = ts(ctx.now())

    @route("POST", "/customers")
    def customer_create(self, ctx: Ctx) -> Response:
        """POST /customers; 422 ``{"success": false, "message": [...], "params": {...}}`` (spec)."""
        p = self.params(ctx)
        if not (p.get("business_name") or p.get("firstname") or p.get("lastname")):
            raise Reply(
                json_response(
                    {
                        "success": False,
                        "message": ["Business name or last name can't be blank"],
                        "params": p,
                    },
                    422,
                )
            )
        cid = ctx.store.next_id(K_CUSTOMER)
        customer = customer_record(
            cid,
            first="",
            last="",
            business=None,
            email="",
            phone="",
            address="",
            city="",
            state="",
            zip_code="",
            at=ctx.now(),
        )
        self._customer_fields(ctx, customer, p)
        ctx.store.put(K_CUSTOMER, customer)
        ctx.touch(K_CUSTOMER, cid, "created")
        return json_response({"customer": {**customer, "contacts": []}})

    @route("PUT", "/customers/{id}")
    def customer_update(self, ctx: Ctx) -> Response:
        customer = self._customer(ctx, ctx.req.params["id"])
        self._customer_fields(ctx, customer, self.params(ctx))
        ctx.store.put(K_CUSTOMER, customer)
        ctx.touch(K_CUSTOMER, customer["id"], "updated")
        return json_response({"customer": customer})

    @route("GET", "/contacts")
    def contacts(self, ctx: Ctx) -> Response:
        """GET /contacts: ``customer_id``, ``page`` only (spec); 50 per page with full meta."""
        where: list[Where] = []
        if ctx.req.arg("customer_id"):
            where.append(Where("customer_id = ?", (to_int(ctx.req.arg("customer_id")),)))
        return self._paged(ctx, K_CONTACT, "contacts", where, full_meta=True)

    @route("GET", "/contacts/{id}")
    def contact_get(self, ctx: Ctx) -> Response:
        """GET /contacts/{id}: the contact, flat (spec schema)."""
        contact = ctx.store.get(K_CONTACT, to_int(ctx.req.params["id"]) or -1)
        if contact is None:
            raise not_found()
        return json_response(contact)

    @route("POST", "/contacts")
    def contact_create(self, ctx: Ctx) -> Response:
        """POST /contacts (``customer_id`` required): flat contact; 404 ``{"message": "Not
        found"}`` for an unknown customer; 422 ``{"record": {...}, "errors": "Name can't be
        blank"}`` (spec examples)."""
        p = self.params(ctx)
        customer = self._customer(ctx, p.get("customer_id"))
        cid = ctx.store.next_id(K_CONTACT)
        contact = contact_record(
            cid,
            customer["id"],
            name=str(p.get("name") or ""),
            email=p.get("email"),
            phone=p.get("phone"),
            at=ctx.now(),
        )
        for key in ("address1", "address2", "city", "state", "zip", "mobile", "notes"):
            if key in p:
                contact[key] = p[key]
        if not contact["name"].strip():
            contact.update(
                id=None,
                created_at=None,
                updated_at=None,
                processed_phone=None,
                processed_mobile=None,
            )
            raise Reply(json_response({"record": contact, "errors": "Name can't be blank"}, 422))
        ctx.store.put(K_CONTACT, contact)
        ctx.touch(K_CONTACT, cid, "created")
        return json_response(contact)

    @route("GET", "/products")
    def products(self, ctx: Ctx) -> Response:
        """GET /products: ``name``, ``sku``, ``upc_code``, ``query``, ``id[]``; 25 per page and
        **no meta** (spec example): page until an empty page."""
        q = ctx.req
        where: list[Where] = []
        if q.arg("name"):
            where.append(Where("ref = ?", (q.arg("name", "").lower(),)))
        if q.arg("upc_code"):
            where.append(Where("ext = ?", (q.arg("upc_code", "").lower(),)))
        if q.arg("query"):
            where.append(Where("search LIKE ?", (f"%{q.arg('query', '').lower()}%",)))
        ids = [i for i in (to_int(v) for v in q.args("id")) if i is not None]
        if ids:
            where.append(Where(f"id IN ({','.join('?' * len(ids))})", tuple(ids)))
        return self._paged(ctx, K_PRODUCT, "products", where, full_meta=False, meta=False)

    @route("GET", "/products/{id}")
    def product_get(self, ctx: Ctx) -> Response:
        product = ctx.store.get(K_PRODUCT, to_int(ctx.req.params["id"]) or -1)
        if product is None:
            raise not_found()
        return json_response({"product": product})

    # --- Python inspection API ---------------------------------------------------------------
    def ticket_records(self, ticket_id: int) -> dict[str, Any]:
        """Everything hanging off a ticket, for duplicate checks:
        ``{"ticket", "comments", "line_items", "timers", "invoices", "invoice_line_items"}``
        (lists of vendor-shaped dicts, oldest first)."""
        store = self.sandbox.store
        invoices = store.select(K_INVOICE, [Where("parent_id = ?", (ticket_id,))])
        inv_ids = [i["id"] for i in invoices]
        inv_lines = []
        for iid in inv_ids:
            inv_lines.extend(store.select(K_INVOICE_LINE, [Where("parent_id = ?", (iid,))]))
        return {
            "ticket": store.get(K_TICKET, ticket_id),
            "comments": store.select(K_COMMENT, [Where("parent_id = ?", (ticket_id,))]),
            "line_items": store.select(K_LINE, [Where("parent_id = ?", (ticket_id,))]),
            "timers": store.select(K_TIMER, [Where("parent_id = ?", (ticket_id,))]),
            "invoices": invoices,
            "invoice_line_items": inv_lines,
        }

    def ticket_ids(self, *, status: str | None = None, limit: int | None = None) -> list[int]:
        """Ticket ids (newest first), optionally by status."""
        where = [Where("status = ?", (status,))] if status else []
        return [t["id"] for t in self.sandbox.store.select(K_TICKET, where, desc=True, limit=limit)]

    @staticmethod
    def labor_product_id(labor_type: str) -> int:
        """The runbook's ``--labor`` mapping: remote, onsite, emergency, project, internal,
        travel, website -> product id. Raises KeyError."""
        return LABOR_PRODUCT_IDS[labor_type]

    # --- data generation and churn -----------------------------------------------------------
    def generate(self, gen: Gen) -> None:
        """Customers (~n/25) with contacts, products (labor + hardware), n tickets with 1-4
        comments, line items on worked tickets, timers, invoices for Invoiced tickets."""
        generate_syncro(self, gen)

    def churn(self, count: int, rng: Any) -> dict[str, Any]:
        return churn_syncro(self, count, rng)


# --- generation ------------------------------------------------------------------------------
FIRST_IDS = {
    K_CUSTOMER: 21_000_001,
    K_CONTACT: 31_000_001,
    K_PRODUCT: 4_000_001,
    K_TICKET: 1_000_001,
    K_COMMENT: 50_000_001,
    K_LINE: 7_000_001,
    K_TIMER: 8_000_001,
    K_INVOICE: 1_500_001,
    K_INVOICE_LINE: 9_000_001,
    "syncro.ticket_number": 30_001,
    "syncro.invoice_number": 60_001,
}
LABOR_WEIGHTS = [
    (1190473, 50),
    (26118, 20),
    (26184, 6),
    (9269129, 8),
    (9269124, 4),
    (26117, 8),
    (68055, 4),
]
OPEN_STATUSES = [
    "New",
    "In Progress",
    "Waiting on Customer",
    "Waiting on Vendor",
    "Waiting for Parts",
    "Scheduled",
    "Customer Reply",
]


def _fill(text: str, gen: Gen) -> str:
    if "{" not in text:
        return text
    return text.format(
        name=gen.pick("first", lambda f: f.first_name(), 400),
        company=gen.pick("company", lambda f: f.company(), 400),
        num=gen.rng.randrange(100000, 999999),
        day=gen.pick("weekday", lambda f: f.day_of_week(), 7),
    )


def _pick_labor(rng: Any) -> int:
    ids, weights = zip(*LABOR_WEIGHTS, strict=True)
    return rng.choices(ids, weights)[0]


def generate_syncro(v: SyncroSandbox, gen: Gen) -> None:
    store = v.sandbox.store
    rng, fake = gen.rng, gen.fake
    products = {}
    for pid, _key, name, rate in LABOR_PRODUCTS:
        products[pid] = product_record(
            pid,
            name=name,
            description=name,
            category="Labor",
            retail=rate,
            cost="0.0",
            taxable=False,
            upc=None,
            maintain_stock=False,
        )
    for i, (name, category, retail, cost) in enumerate(HARDWARE):
        pid = FIRST_IDS[K_PRODUCT] + i
        products[pid] = product_record(
            pid,
            name=name,
            description=name,
            category=category,
            retail=retail,
            cost=cost,
            taxable=category != "Software",
            upc=fake.ean13(),
            maintain_stock=category in ("Hardware", "Supplies"),
        )
    store.put_many(K_PRODUCT, products.values())

    customers = []
    contacts = []
    contact_ids: dict[int, list[tuple[int, str]]] = {}
    n_customers = max(20, gen.n // 25)
    for i in range(n_customers):
        cid = FIRST_IDS[K_CUSTOMER] + i
        first, last = fake.first_name(), fake.last_name()
        business = fake.company() if rng.random() < 0.75 else None
        domain = (business or f"{last}family").lower().replace(" ", "").replace(",", "").replace(
            "-", ""
        )[:20] + ".example"
        at = gen.past(900, 280)
        c = customer_record(
            cid,
            first=first,
            last=last,
            business=business,
            email=f"{first.lower()}@{domain}",
            phone=fake.numerify("###-###-####"),
            address=fake.street_address(),
            city=fake.city(),
            state=fake.state_abbr(),
            zip_code=fake.zipcode(),
            at=at,
        )
        if rng.random() < 0.3:
            c["updated_at"] = ts(gen.past(270))
        customers.append(c)
        if business:
            for _ in range(rng.randint(1, 3)):
                kid = FIRST_IDS[K_CONTACT] + len(contacts)
                cf, cl = fake.first_name(), fake.last_name()
                contacts.append(
                    contact_record(
                        kid,
                        cid,
                        name=f"{cf} {cl}",
                        email=f"{cf.lower()}.{cl.lower()}@{domain}",
                        phone=fake.numerify("###-###-####"),
                        at=at,
                    )
                )
                contact_ids.setdefault(cid, []).append((kid, f"{cf} {cl}"))
    store.put_many(K_CUSTOMER, customers)
    store.put_many(K_CONTACT, contacts)

    users = [u.user_id for u in accounts.SYNCRO_USERS]
    techs = {u.user_id: u.full_name for u in accounts.SYNCRO_USERS}
    sentence = lambda f: f.sentence(nb_words=12)  # noqa: E731
    created_times = sorted(gen.past() for _ in range(gen.n))
    ids = dict(FIRST_IDS)
    batch: dict[str, list[dict[str, Any]]] = {
        k: [] for k in (K_TICKET, K_COMMENT, K_LINE, K_TIMER, K_INVOICE, K_INVOICE_LINE)
    }

    def flush() -> None:
        for kind, rows in batch.items():
            if rows:
                store.put_many(kind, rows)
                rows.clear()

    tax_rate = Decimal(str(v.sandbox.config.syncro_tax_rate))
    for created in created_times:
        tid, number = ids[K_TICKET], ids["syncro.ticket_number"]
        ids[K_TICKET] += 1
        ids["syncro.ticket_number"] += 1
        customer = rng.choice(customers)
        age_days = (gen.anchor - created).total_seconds() / 86400
        if age_days > 21:
            status = rng.choices(
                ["Invoiced", "Resolved", "Closed", *OPEN_STATUSES],
                [45, 30, 10, 3, 3, 3, 2, 2, 1, 1],
            )[0]
        else:
            status = rng.choices(
                [
                    "New",
                    "In Progress",
                    "Waiting on Customer",
                    "Scheduled",
                    "Customer Reply",
                    "Waiting for Parts",
                    "Resolved",
                    "Invoiced",
                ],
                [25, 25, 12, 8, 5, 5, 15, 5],
            )[0]
        ticket = SyncroSandbox.new_ticket(
            tid,
            number,
            customer,
            subject=_fill(rng.choice(SUBJECTS), gen),
            at=created,
            status=status,
        )
        tt_id, tt_name = rng.choice(TICKET_TYPES)
        user_id = rng.choice(users) if rng.random() < 0.95 else None
        ticket.update(
            problem_type=rng.choice(PROBLEM_TYPES),
            priority=rng.choices(PRIORITIES, [5, 20, 65, 10])[0],
            ticket_type_id=tt_id,
            ticket_type_name=tt_name,
            user_id=user_id,
            user=user_obj(user_id),
        )
        if customer["id"] in contact_ids and rng.random() < 0.7:
            kid, kname = rng.choice(contact_ids[customer["id"]])
            ticket["contact_id"], ticket["contact_fullname"] = kid, kname
        last = created
        for c in range(rng.randint(1, 4)):
            at = created if c == 0 else gen.after(last, 72)
            last = max(last, at)
            tech_id = user_id or rng.choice(users)
            comment = comment_record(
                ids[K_COMMENT],
                tid,
                subject="Initial Issue" if c == 0 else rng.choice(COMMENT_SUBJECTS[1:]),
                body=_fill(rng.choice(COMMENT_BODIES), gen)
                if c
                else gen.pick("sentence", sentence),
                tech=techs[tech_id]
                if c
                else (ticket.get("contact_fullname") or customer["fullname"]),
                hidden=c > 0 and rng.random() < 0.3,
                user_id=tech_id if c else None,
                at=at,
            )
            ids[K_COMMENT] += 1
            batch[K_COMMENT].append(comment)
            if c == 0:
                ticket["comments"] = [comment]
        worked = status in ("Invoiced", "Resolved", "Closed") or (
            status == "In Progress" and rng.random() < 0.5
        )
        items = []
        if worked:
            for pos in range(rng.choices([1, 2, 3], [70, 25, 5])[0]):
                product = products[_pick_labor(rng)]
                quantity = Decimal(rng.choice([25, 50, 50, 75, 100, 100, 150, 200, 300])) / 100
                at = gen.after(created, 96)
                last = max(last, at)
                item = line_item_record(
                    ids[K_LINE],
                    tid,
                    user_id=user_id or rng.choice(users),
                    product_id=product["id"],
                    name=product["name"],
                    description=_fill(rng.choice(COMMENT_BODIES), gen),
                    quantity=quantity,
                    taxable=rng.random() < 0.15,
                    cost_cents=0,
                    retail_cents=cents(product["price_retail"]),
                    position=pos + 1,
                    at=at,
                    category="Labor",
                )
                ids[K_LINE] += 1
                items.append(item)
            if rng.random() < 0.6:
                start = gen.after(created, 48)
                minutes = rng.choice([15, 30, 45, 60, 90, 120])
                timer = timer_record(
                    ids[K_TIMER],
                    tid,
                    user_id=user_id or rng.choice(users),
                    start=start,
                    end=start + timedelta(minutes=minutes),
                    notes=gen.pick("sentence", sentence),
                    product_id=items[0]["product_id"],
                    billable=True,
                    at=start + timedelta(minutes=minutes),
                )
                ids[K_TIMER] += 1
                if rng.random() < 0.7:
                    timer["recorded"] = True
                    timer["ticket_line_item_id"] = items[0]["id"]
                batch[K_TIMER].append(timer)
        elif rng.random() < 0.2:
            start = gen.after(created, 24)
            timer = timer_record(
                ids[K_TIMER],
                tid,
                user_id=user_id or rng.choice(users),
                start=start,
                end=start + timedelta(minutes=rng.choice([10, 20, 30])),
                notes="Troubleshooting",
                product_id=DEFAULT_LABOR_PRODUCT_ID,
                billable=True,
                at=start,
            )
            ids[K_TIMER] += 1
            batch[K_TIMER].append(timer)
        if status in ("Resolved", "Invoiced", "Closed"):
            ticket["resolved_at"] = ts(last)
        if status == "Invoiced" and items:
            iid = ids[K_INVOICE]
            ids[K_INVOICE] += 1
            inv_at = gen.after(last, 48)
            invoice = SyncroSandbox.new_invoice(
                iid,
                str(ids["syncro.invoice_number"]),
                customer,
                ticket_id=tid,
                date=inv_at,
                at=inv_at,
                user_id=user_id,
            )
            ids["syncro.invoice_number"] += 1
            lines = []
            for pos, item in enumerate(items, 1):
                item["converted"] = True
                lines.append(
                    SyncroSandbox.invoice_line_from_ticket_item(
                        ids[K_INVOICE_LINE], iid, item, pos, inv_at
                    )
                )
                ids[K_INVOICE_LINE] += 1
            subtotal = sum(
                (Decimal(x["price"]) * Decimal(x["quantity"]) for x in lines), Decimal(0)
            )
            taxable = sum(
                (Decimal(x["price"]) * Decimal(x["quantity"]) for x in lines if x["taxable"]),
                Decimal(0),
            )
            tax = (taxable * tax_rate).quantize(Decimal("0.01"))
            invoice.update(subtotal=money(subtotal), tax=money(tax), total=money(subtotal + tax))
            if (gen.anchor - inv_at).days > 30 or rng.random() < 0.3:
                invoice.update(
                    is_paid=True, verified_paid=True, updated_at=ts(gen.after(inv_at, 24 * 30))
                )
            last = max(last, inv_at)
            batch[K_INVOICE].append(invoice)
            batch[K_INVOICE_LINE].extend(lines)
        batch[K_LINE].extend(items)
        ticket["updated_at"] = ts(last)
        batch[K_TICKET].append(ticket)
        if len(batch[K_TICKET]) >= 5000:
            flush()
    flush()
    for kind, next_id in ids.items():
        store.set_sequence(kind, next_id)
    store.set_sequence(K_CUSTOMER, FIRST_IDS[K_CUSTOMER] + len(customers))
    store.set_sequence(K_CONTACT, FIRST_IDS[K_CONTACT] + len(contacts))
    store.set_sequence(K_PRODUCT, FIRST_IDS[K_PRODUCT] + len(HARDWARE))


def churn_syncro(v: SyncroSandbox, count: int, rng: Any) -> dict[str, Any]:
    """Move open tickets along (status + comment), create new tickets, add a line item here and
    there, mark an invoice paid, delete the odd ticket. All stamped with the sandbox's now."""
    from connectors.sandbox.app import Ctx

    sb = v.sandbox
    store = sb.store
    out: dict[str, list[int]] = {"updated": [], "created": [], "deleted": []}
    if count <= 0:
        return out
    open_ids = store.ids(K_TICKET, [Where("status NOT IN ('Invoiced', 'Closed')")])
    all_customers = store.ids(K_CUSTOMER)
    user = rng.choice(accounts.SYNCRO_USERS)
    ctx = Ctx(sb, None, user)  # type: ignore[arg-type]
    for tid in rng.sample(open_ids, min(len(open_ids), max(count // 2, 1))):
        ticket = store.get(K_TICKET, tid)
        if ticket is None:
            continue
        idx = OPEN_STATUSES.index(ticket["status"]) if ticket["status"] in OPEN_STATUSES else 0
        new_status = (
            "Resolved"
            if rng.random() < 0.3
            else OPEN_STATUSES[min(idx + 1, len(OPEN_STATUSES) - 1)]
        )
        v._apply_ticket_fields(ctx, ticket, {"status": new_status})
        v.add_comment(
            ctx,
            ticket,
            {
                "subject": "Update",
                "body": rng.choice(COMMENT_BODIES).format(
                    name="the user",
                    company="the vendor",
                    num=rng.randrange(100000, 999999),
                    day="Monday",
                ),
                "hidden": rng.random() < 0.5,
            },
        )
        store.put(K_TICKET, ticket)
        out["updated"].append(tid)
    for _ in range(max(count // 4, 1)):
        customer = store.get(K_CUSTOMER, rng.choice(all_customers))
        tid = store.next_id(K_TICKET)
        number = store.next_id("syncro.ticket_number")
        ticket = SyncroSandbox.new_ticket(
            tid,
            number,
            customer,
            subject=rng.choice(SUBJECTS).format(
                name="a user", company=customer["business_then_name"]
            ),
            at=sb.clock.now(),
        )
        ticket.update(
            priority=rng.choice(PRIORITIES),
            problem_type=rng.choice(PROBLEM_TYPES),
            user_id=user.user_id,
            user=user_obj(user.user_id),
        )
        store.put(K_TICKET, ticket)
        v.add_comment(
            ctx,
            ticket,
            {
                "subject": "Initial Issue",
                "body": "Customer called in: "
                + rng.choice(SUBJECTS).format(name="a user", company="their vendor"),
            },
        )
        out["created"].append(tid)
    unpaid = store.ids(K_INVOICE, [Where("status = 'unpaid'")])
    for iid in rng.sample(unpaid, min(len(unpaid), max(count // 10, 1))):
        inv = store.get(K_INVOICE, iid)
        inv.update(is_paid=True, verified_paid=True, updated_at=ts(sb.clock.now()))
        store.put(K_INVOICE, inv)
    candidates = sorted(set(open_ids) - set(out["updated"]))
    if count >= 10 and candidates:
        tid = rng.choice(candidates)
        if store.get(K_TICKET, tid) and not store.count(
            K_INVOICE, [Where("parent_id = ?", (tid,))]
        ):
            for kind in (K_COMMENT, K_LINE, K_TIMER):
                store.delete_where(kind, [Where("parent_id = ?", (tid,))])
            store.delete(K_TICKET, tid)
            out["deleted"].append(tid)
    return out
