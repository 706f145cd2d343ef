"""Syncro ticket line items: add, update, remove (pricing per the runbook)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.sandbox.store import Where
from connectors.sandbox.vendor import Ctx, route
from connectors.sandbox.web import (
    Reply,
    Response,
    json_response,
)

from .params import SyncroParams
from .records import (
    K_LINE,
    K_PRODUCT,
    cents,
    dollars,
    line_item_record,
    not_found,
    qty_str,
    to_bool,
    to_int,
    ts,
)


class LineItemRoutes(SyncroParams):
    """Mixin of :class:`~.emulator.SyncroSandbox`: ticket line items."""

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
        ticket = self._ticket(ctx, ctx.req.view_args["id"])
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

    def _line_item(self, ctx: Ctx, ticket: dict[str, Any], raw_id: Any) -> dict[str, Any]:
        item = ctx.store.get(K_LINE, to_int(raw_id) or -1)
        if item is None or item["ticket_id"] != ticket["id"]:
            raise not_found()
        return item

    @route("PUT", "/tickets/{id}/update_line_item")
    def line_item_update(self, ctx: Ctx) -> Response:
        """PUT /tickets/{id}/update_line_item ``{ticket_line_item_id, ...}``: answers
        ``{"ticket_line_item": {...}}`` (wrapped, unlike add; spec example)."""
        ticket = self._ticket(ctx, ctx.req.view_args["id"])
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
        ticket = self._ticket(ctx, ctx.req.view_args["id"])
        item = self._line_item(ctx, ticket, self.params(ctx).get("ticket_line_item_id"))
        ctx.store.delete(K_LINE, item["id"])
        ctx.touch(K_LINE, item["id"], "deleted")
        self._touch_ticket(ctx, ticket)
        return json_response({"success": True, "message": ""})
