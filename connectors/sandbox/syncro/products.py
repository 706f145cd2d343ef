"""Syncro products (labor products of the runbook and hardware)."""

from __future__ import annotations

from connectors.sandbox.store import Where
from connectors.sandbox.vendor import Ctx, route
from connectors.sandbox.web import (
    Response,
    json_response,
)

from .params import SyncroParams, id_list_where
from .records import (
    K_PRODUCT,
    not_found,
    to_int,
)


class ProductRoutes(SyncroParams):
    """Mixin of :class:`~.emulator.SyncroSandbox`: products."""

    @route("GET", "/products")
    def products(self, ctx: Ctx) -> Response:
        """GET /products: ``name``, ``sku``, ``upc_code``, ``query``, ``id[]``; 25 per page and
        **no meta** (spec example): page until an empty page."""
        q = ctx.req
        where: list[Where] = []
        if q.args.get("name"):
            where.append(Where("ref = ?", (q.args.get("name", "").lower(),)))
        if q.args.get("upc_code"):
            where.append(Where("ext = ?", (q.args.get("upc_code", "").lower(),)))
        if q.args.get("query"):
            where.append(Where("search LIKE ?", (f"%{q.args.get('query', '').lower()}%",)))
        cond = id_list_where(q.args_list("id"))
        if cond is not None:
            where.append(cond)
        return self._paged(ctx, K_PRODUCT, "products", where, full_meta=False, meta=False)

    @route("GET", "/products/barcode")
    def product_by_barcode(self, ctx: Ctx) -> Response:
        """GET /products/barcode?barcode=: ``{"product": {...}}`` for the product whose
        ``upc_code`` is the barcode (compared case-insensitively, as the ``upc_code`` filter);
        404 ``{"message": "Not found"}`` when none has it or no barcode is given (spec:
        "Returns a Product by Barcode", one ``barcode`` query parameter, the 200 example only)."""
        barcode = (ctx.req.args.get("barcode") or "").strip().lower()
        rows = (
            ctx.store.select(K_PRODUCT, [Where("ext = ?", (barcode,))], limit=1) if barcode else []
        )
        if not rows:
            raise not_found()
        return json_response({"product": rows[0]})

    @route("GET", "/products/{id}")
    def product_get(self, ctx: Ctx) -> Response:
        """GET /products/{id}: ``{"product": {...}}``; 404 ``{"message": "Not found"}``."""
        product = ctx.store.get(K_PRODUCT, to_int(ctx.req.view_args["id"]) or -1)
        if product is None:
            raise not_found()
        return json_response({"product": product})
