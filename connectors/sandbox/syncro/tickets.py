"""Syncro ticket routes: settings, list with its filters, detail, create, update, delete."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from connectors.sandbox import accounts
from connectors.sandbox.store import Where
from connectors.sandbox.vendor import Ctx, route
from connectors.sandbox.web import (
    Reply,
    Response,
    json_response,
    raw_json_response,
)

from .params import SyncroParams
from .records import (
    K_COMMENT,
    K_CONTACT,
    K_CUSTOMER,
    K_LINE,
    K_TICKET,
    K_TIMER,
    not_found,
    sortable_param,
    to_bool,
    to_int,
    ts,
    user_obj,
)
from .vocab import (
    CLOSED_STATUSES,
    DEFAULT_LABOR_PRODUCT_ID,
    PRIORITIES,
    STATUSES,
    TICKET_TYPES,
)


class TicketRoutes(SyncroParams):
    """Mixin of :class:`~.emulator.SyncroSandbox`: ``/tickets...`` (not their children)."""

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
        if (v := sortable_param(q.args.get("since_updated_at"))) is not None:
            where.append(Where("updated_at > ?", (v,)))
        if (v := sortable_param(q.args.get("created_after"))) is not None:
            where.append(Where("created_at > ?", (v,)))
        if (v := sortable_param(q.args.get("resolved_after"))) is not None:
            where.append(Where("substr(json_extract(data, '$.resolved_at'), 1, 23) > ?", (v[:23],)))
        status = q.args.get("status")
        if status:
            if status.lower() == "not closed":
                where.append(Where("status NOT IN (?, ?)", CLOSED_STATUSES))
            else:
                where.append(Where("status = ?", (status,)))
        for param, col in (("customer_id", "customer_id"), ("user_id", "user_id")):
            if q.args.get(param):
                where.append(Where(f"{col} = ?", (to_int(q.args.get(param)),)))
        if q.args.get("contact_id"):
            where.append(Where("ext = ?", (str(to_int(q.args.get("contact_id"))),)))
        if q.args.get("number"):
            where.append(Where("ref = ?", (q.args.get("number"),)))
        if to_bool(q.args.get("mine")):
            where.append(Where("user_id = ?", (ctx.principal.user_id,)))
        if q.args.get("query"):
            where.append(Where("search LIKE ?", (f"%{q.args.get('query', '').lower()}%",)))
        size = self.page_size("tickets")
        page = self.page_of(ctx)
        total = ctx.store.count(K_TICKET, where)
        rows = ctx.store.select_raw(
            K_TICKET, where, desc=True, limit=size, offset=(page - 1) * size
        )
        meta = f'{{"total_pages":{math.ceil(total / size)},"page":{page}}}'
        if to_bool(q.args.get("all_comments")):
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
            {"ticket": self.ticket_detail(ctx, self._ticket(ctx, ctx.req.view_args["id"]))}
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
        """A new ticket ``tid``/``number`` of ``customer`` in the spec's shape (no comments yet)."""
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
        ticket = self._ticket(ctx, ctx.req.view_args["id"])
        p = self.params(ctx)
        self._validate_ticket_fields(p, creating=False)
        self._apply_ticket_fields(ctx, ticket, p)
        ctx.store.put(K_TICKET, ticket)
        ctx.touch(K_TICKET, ticket["id"], "updated")
        return json_response({"ticket": self.ticket_detail(ctx, ticket)})

    @route("DELETE", "/tickets/{id}")
    def ticket_delete(self, ctx: Ctx) -> Response:
        """DELETE /tickets/{id}: the ticket and its comments, line items and timers."""
        ticket = self._ticket(ctx, ctx.req.view_args["id"])
        tid = ticket["id"]
        for kind in (K_COMMENT, K_LINE, K_TIMER):
            ctx.store.delete_where(kind, [Where("parent_id = ?", (tid,))])
        ctx.store.delete(K_TICKET, tid)
        ctx.touch(K_TICKET, tid, "deleted")
        return json_response({"message": "Ticket was successfully deleted. "})

    def _touch_ticket(self, ctx: Ctx, ticket: dict[str, Any]) -> None:
        ticket["updated_at"] = ts(ctx.now())
        ctx.store.put(K_TICKET, ticket)
