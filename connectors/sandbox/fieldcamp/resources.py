"""FieldCamp routes for visits and invoices (vendor-apis.md §3.6)."""

from __future__ import annotations

from connectors.sandbox.store import Where
from connectors.sandbox.vendor import Ctx, route
from connectors.sandbox.web import Response, json_response

from .paging import CursorPaging
from .records import (
    INVOICE_STATUSES,
    K_INVOICE,
    K_VISIT,
    VISIT_STATUSES,
    fc_error,
    from_oid,
)


class ResourceRoutes(CursorPaging):
    """Mixin of :class:`~.emulator.FieldCampSandbox`: ``/visits`` and ``/invoices``."""

    @route("GET", "/visits")
    def visits(self, ctx: Ctx) -> Response:
        """GET /visits?since=&visitStatus=&jobId=&limit=&cursor= (``visitStatus`` may repeat,
        vendor-apis.md §3.6). Ordered by ``updatedAt`` so ``since`` + cursor is an incremental
        feed."""
        where: list[Where] = []
        if (since := self._since(ctx)) is not None:
            where.append(Where("updated_at > ?", (since,)))
        statuses = [s for v in ctx.req.args_list("visitStatus") for s in v.split(",") if s]
        if statuses:
            unknown = set(statuses) - set(VISIT_STATUSES)
            if unknown:
                raise fc_error(f"visitStatus must be one of {', '.join(VISIT_STATUSES)}", 400)
            where.append(Where(f"status IN ({','.join('?' * len(statuses))})", tuple(statuses)))
        if ctx.req.args.get("jobId"):
            where.append(Where("json_extract(data, '$.jobId') = ?", (ctx.req.args.get("jobId"),)))
        return self._list(ctx, K_VISIT, where)

    @route("GET", "/visits/{id}")
    def visit_get(self, ctx: Ctx) -> Response:
        """GET /visits/{id}; 404 "Visit not found" (string error)."""
        visit = ctx.store.get(K_VISIT, from_oid(K_VISIT, ctx.req.view_args["id"]) or -1)
        if visit is None:
            raise fc_error("Visit not found", 404)
        return json_response({"success": True, "data": visit})

    @route("GET", "/invoices")
    def invoices(self, ctx: Ctx) -> Response:
        """GET /invoices?since=&status=&clientId= (vendor-apis.md §3.6: filters clientId,
        status, since; statuses unpaid, paid, partial, overdue)."""
        where: list[Where] = []
        if (since := self._since(ctx)) is not None:
            where.append(Where("updated_at > ?", (since,)))
        if ctx.req.args.get("status"):
            if ctx.req.args.get("status") not in INVOICE_STATUSES:
                raise fc_error(f"status must be one of {', '.join(INVOICE_STATUSES)}", 400)
            where.append(Where("status = ?", (ctx.req.args.get("status"),)))
        if ctx.req.args.get("clientId"):
            where.append(Where("ref = ?", (ctx.req.args.get("clientId"),)))
        return self._list(ctx, K_INVOICE, where)

    @route("GET", "/invoices/{id}")
    def invoice_get(self, ctx: Ctx) -> Response:
        """GET /invoices/{id}; 404 "Invoice not found" (string error)."""
        invoice = ctx.store.get(K_INVOICE, from_oid(K_INVOICE, ctx.req.view_args["id"]) or -1)
        if invoice is None:
            raise fc_error("Invoice not found", 404)
        return json_response({"success": True, "data": invoice})
