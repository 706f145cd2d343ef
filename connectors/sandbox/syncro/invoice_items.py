"""Syncro invoice line items: ``POST /invoices/{id}/line_items``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.sandbox.store import Where
from connectors.sandbox.vendor import Ctx, route
from connectors.sandbox.web import Reply, Response, json_response

from .params import SyncroParams
from .records import K_INVOICE, K_INVOICE_LINE, K_PRODUCT, money, qty_str, to_bool, to_int, ts

#: Largest accepted price, cost or quantity (a Postgres ``decimal(15,2)``-style bound; spec silent).
MAX_AMOUNT = Decimal(10) ** 12


def _decimal(value: Any, field: str) -> Decimal:
    """``value`` as a finite Decimal below :data:`MAX_AMOUNT`; else 422 ``{"errors", "params"}``."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Reply(
            json_response({"errors": f"{field} is not a number", "params": {}}, 422)
        ) from None
    if not number.is_finite():
        raise Reply(json_response({"errors": f"{field} is not a number", "params": {}}, 422))
    if abs(number) >= MAX_AMOUNT:
        raise Reply(json_response({"errors": f"{field} is too large", "params": {}}, 422))
    return number


class InvoiceItemRoutes(SyncroParams):
    """Mixin of :class:`~.emulator.SyncroSandbox`: adding a line item to an invoice. Uses
    :meth:`~.invoices.InvoiceRoutes._invoice` and ``total_invoice`` of the invoice mixin."""

    @staticmethod
    def _item_and_name(p: dict[str, Any], product: dict[str, Any] | None) -> tuple[str, str | None]:
        """``item`` (else the product's name; 422 when neither) and ``name`` (else the
        product's description)."""
        item = p.get("item") if p.get("item") not in (None, "") else None
        if item is None and product is not None:
            item = product["name"]
        if not str(item or "").strip():
            raise Reply(json_response({"errors": "Item can't be blank", "params": {}}, 422))
        name = p.get("name") if p.get("name") is not None else (product or {}).get("description")
        return str(item), None if name is None else str(name)

    @route("POST", "/invoices/{id}/line_items")
    def invoice_line_item_add(self, ctx: Ctx) -> Response:
        """POST /invoices/{id}/line_items (spec request body ``LineItem2``: ``item``, ``name``,
        ``price``, ``cost``, ``taxable``, ``line_discount_percent``, ``discount_dollars``; plus
        ``quantity`` and ``product_id``). Answers the new line item flat, in the shape of the
        spec's ``GET /line_items`` example (the spec's 200 has no example; Rails-typical
        ``render json: line_item``), and re-totals the invoice.

        Quirk (vendor-apis.md §1.9): unlike ticket line items, invoice line items auto-fill
        from the product: with ``product_id`` the missing ``item`` (product name), ``name``
        (description), ``price`` (retail), ``cost`` and ``taxable`` come from the product.
        422 ``{"errors": "...", "params": {}}`` (the ticket line-item shape; the spec's 422
        has no body): ``Item can't be blank`` without ``item`` and product, an unknown
        ``product_id`` -> ``Product must exist``, a non-numeric ``price``/``cost``/
        ``quantity`` -> ``... is not a number``, and a paid invoice -> ``Invoice is already
        paid`` (the spec's PUT on an invoice line item documents "Invoice is already paid").
        404 ``{"message": "Not found"}`` for an unknown invoice (by id or number)."""
        invoice = self._invoice(ctx, ctx.req.view_args["id"])
        p = self.params(ctx)
        product = None
        if p.get("product_id") not in (None, ""):
            product = ctx.store.get(K_PRODUCT, to_int(p["product_id"]) or -1)
            if product is None:
                raise Reply(json_response({"errors": "Product must exist", "params": {}}, 422))
        if invoice.get("is_paid"):
            raise Reply(json_response({"errors": "Invoice is already paid", "params": {}}, 422))
        item, name = self._item_and_name(p, product)
        price = _decimal(
            p["price"] if "price" in p else (product or {}).get("price_retail", 0), "Price"
        )
        cost = _decimal(p["cost"] if "cost" in p else (product or {}).get("price_cost", 0), "Cost")
        quantity = _decimal(p.get("quantity", 1), "Quantity")
        taxable = to_bool(p.get("taxable"), (product or {}).get("taxable", True))
        position = ctx.store.count(K_INVOICE_LINE, [Where("parent_id = ?", (invoice["id"],))]) + 1
        now = ts(ctx.now())
        line = {
            "id": ctx.store.next_id(K_INVOICE_LINE),
            "created_at": now,
            "updated_at": now,
            "invoice_id": invoice["id"],
            "item": item,
            "name": name,
            "cost": money(cost),
            "price": money(price),
            "quantity": qty_str(quantity),
            "product_id": product["id"] if product else None,
            "taxable": bool(taxable),
            "discount_percent": to_int(p.get("line_discount_percent")),
            "position": position,
            "invoice_bundle_id": None,
            "discount_dollars": None
            if p.get("discount_dollars") is None
            else money(_decimal(p["discount_dollars"], "Discount dollars")),
        }
        ctx.store.put(K_INVOICE_LINE, line)
        ctx.touch(K_INVOICE_LINE, line["id"], "created")
        lines = ctx.store.select(K_INVOICE_LINE, [Where("parent_id = ?", (invoice["id"],))])
        self.total_invoice(invoice, lines)
        invoice["updated_at"] = now
        ctx.store.put(K_INVOICE, invoice)
        ctx.touch(K_INVOICE, invoice["id"], "updated")
        return json_response(line)
