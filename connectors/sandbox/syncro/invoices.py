"""Syncro invoices: list, detail, the invoice's ticket, create from a ticket, invoice line items."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.sandbox.clock import parse_instant
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
    K_CUSTOMER,
    K_INVOICE,
    K_INVOICE_LINE,
    K_LINE,
    K_TICKET,
    money,
    not_found,
    sortable_param,
    to_bool,
    to_int,
    ts,
)


class InvoiceRoutes(SyncroParams):
    """Mixin of :class:`~.emulator.SyncroSandbox`: invoices."""

    # --- invoices ----------------------------------------------------------------------------
    @route("GET", "/invoices")
    def invoices(self, ctx: Ctx) -> Response:
        """GET /invoices: ``since_updated_at``, ``paid``, ``unpaid``, ``ticket_id``, ``page``
        (25 per page, observed live); meta ``{total_pages, page}``."""
        q = ctx.req
        where: list[Where] = []
        if (v := sortable_param(q.args.get("since_updated_at"))) is not None:
            where.append(Where("updated_at > ?", (v,)))
        if to_bool(q.args.get("paid")):
            where.append(Where("status = 'paid'"))
        if to_bool(q.args.get("unpaid")):
            where.append(Where("status = 'unpaid'"))
        if q.args.get("ticket_id"):
            where.append(Where("parent_id = ?", (to_int(q.args.get("ticket_id")),)))
        if q.args.get("customer_id"):
            where.append(Where("customer_id = ?", (to_int(q.args.get("customer_id")),)))
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
        inv = self._invoice(ctx, ctx.req.view_args["id"])
        inv["customer"] = ctx.store.get(K_CUSTOMER, inv["customer_id"])
        inv["line_items"] = ctx.store.select(K_INVOICE_LINE, [Where("parent_id = ?", (inv["id"],))])
        inv["payments"] = []
        return json_response({"invoice": inv})

    @route("GET", "/invoices/{id}/ticket")
    def invoice_ticket(self, ctx: Ctx) -> Response:
        """GET /invoices/{id}/ticket: the invoice's ticket; 404 when it has none."""
        inv = self._invoice(ctx, ctx.req.view_args["id"])
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
        """A new, unpaid invoice of ``customer`` (totals zero until :meth:`total_invoice`)."""
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
        """The invoice line copied from a ticket line item (seed 001: invoices take line items, not timers)."""
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
        """Set ``subtotal``, ``tax`` (``syncro_tax_rate`` on taxable lines) and ``total`` from ``lines``."""
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
        if ctx.req.args.get("invoice_id"):
            where.append(Where("parent_id = ?", (to_int(ctx.req.args.get("invoice_id")),)))
        return self._paged(ctx, K_INVOICE_LINE, "line_items", where, full_meta=True)
