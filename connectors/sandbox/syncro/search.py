"""Syncro lookups: ``GET /customers/autocomplete``, ``GET /customers/latest``, ``GET /search``."""

from __future__ import annotations

from typing import Any

from connectors.sandbox.store import Where
from connectors.sandbox.vendor import Ctx, route
from connectors.sandbox.web import Response, json_response

from .params import SyncroParams
from .records import K_CONTACT, K_CUSTOMER, K_TICKET, not_found

#: Highest page served; beyond it every page is empty anyway (keeps offsets within 64 bits).
MAX_PAGE = 2**31

#: Hits per result type in ``GET /search`` (spec silent; a typical Elasticsearch page of 10).
SEARCH_HITS_PER_TYPE = 10


def like(value: str) -> str:
    """``%value%`` for ``LIKE ... ESCAPE '\\'``, lowercased, with ``%``/``_``/``\\`` escaped."""
    escaped = value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _hit(rid: int, kind: str, index: str, source: dict[str, Any]) -> dict[str, Any]:
    """One ``results`` entry in the spec example's double ``table`` wrapping (an OpenStruct
    serialised by Rails: ``{"table": {"_id", "_type", "_index", "_source": {"table": {...}}}}``)."""
    return {"table": {"_id": rid, "_type": kind, "_index": index, "_source": {"table": source}}}


class SearchRoutes(SyncroParams):
    """Mixin of :class:`~.emulator.SyncroSandbox`: customer autocomplete, latest customer and
    the global search."""

    def _with_contacts(self, ctx: Ctx, customers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ids = [c["id"] for c in customers]
        by_customer: dict[int, list[dict[str, Any]]] = {}
        if ids:
            in_ids = Where(f"parent_id IN ({','.join('?' * len(ids))})", tuple(ids))
            for contact in ctx.store.select(K_CONTACT, [in_ids]):
                by_customer.setdefault(contact["customer_id"], []).append(contact)
        for customer in customers:
            customer["contacts"] = by_customer.get(customer["id"], [])
        return customers

    @route("GET", "/customers/autocomplete")
    def customers_autocomplete(self, ctx: Ctx) -> Response:
        """GET /customers/autocomplete?query=: ``{"customers": [...]}`` with each customer's
        ``contacts`` and **no** ``meta`` (spec example). Matches ``query`` anywhere in business
        name, first/last name or email (case-insensitive), active customers only, ordered by
        id. The spec calls it "a paginated list" without a page size or meta: the sandbox takes
        ``page`` and answers ``syncro_page_sizes["customers_autocomplete"]`` (default 25) per
        page. A blank ``query`` lists every active customer (spec silent)."""
        where = [Where("status = 'active'")]
        query = (ctx.req.args.get("query") or "").strip()
        if query:
            where.append(Where("search LIKE ? ESCAPE '\\'", (like(query),)))
        size = self.page_size("customers_autocomplete")
        # A page past SQLite's 64-bit offsets is simply empty (no OverflowError).
        page = min(self.page_of(ctx), MAX_PAGE)
        rows = ctx.store.select(K_CUSTOMER, where, limit=size, offset=(page - 1) * size)
        return json_response({"customers": self._with_contacts(ctx, rows)})

    @route("GET", "/customers/latest")
    def customers_latest(self, ctx: Ctx) -> Response:
        """GET /customers/latest: ``{"customer": {...}}`` with ``contacts`` (spec example), the
        most recently created customer (highest id; disabled ones included, spec silent).
        404 ``{"message": "Not found"}`` when the account has none (Rails ``find`` style)."""
        rows = ctx.store.select(K_CUSTOMER, [], desc=True, limit=1)
        if not rows:
            raise not_found()
        return json_response({"customer": self._with_contacts(ctx, rows)[0]})

    @route("GET", "/search")
    def search(self, ctx: Ctx) -> Response:
        """GET /search?query=: ``{"quick_result": null, "results": [...], "error": null}`` (spec
        example). Results are customers (``_index`` ``customers``; source ``firstname``,
        ``lastname``, ``email``, ``business_name``, ``phones`` as in the example), then
        contacts (``contacts``: ``name``, ``email``, ``phone``, ``customer_id``), then tickets
        (``tickets``: ``number``, ``subject``, ``status``, ``customer_id``), up to
        :data:`SEARCH_HITS_PER_TYPE` of each. The spec types ``query`` as an integer; the
        sandbox accepts any string (a ticket number matches its ticket). ``quick_result`` is
        always null: the spec's only example shows null and documents no other value. A blank
        query answers no results (spec silent)."""
        query = (ctx.req.args.get("query") or "").strip()
        results: list[dict[str, Any]] = []
        if query:
            pattern = (like(query),)
            for c in ctx.store.select(
                K_CUSTOMER,
                [Where("search LIKE ? ESCAPE '\\'", pattern)],
                limit=SEARCH_HITS_PER_TYPE,
            ):
                phones = [
                    {
                        "id": c["id"],
                        "label": "Phone",
                        "number": c["phone"],
                        "customer_id": c["id"],
                        "created_at": c["created_at"],
                        "updated_at": c["updated_at"],
                        "extension": None,
                    }
                ]
                source = {k: c[k] for k in ("firstname", "lastname", "email", "business_name")}
                results.append(_hit(c["id"], "customer", "customers", {**source, "phones": phones}))
            for p in ctx.store.select(
                K_CONTACT,
                [Where("lower(json_extract(data, '$.name')) LIKE ? ESCAPE '\\'", pattern)],
                limit=SEARCH_HITS_PER_TYPE,
            ):
                source = {k: p[k] for k in ("name", "email", "phone", "customer_id")}
                results.append(_hit(p["id"], "contact", "contacts", source))
            for t in ctx.store.select(
                K_TICKET,
                [Where("search LIKE ? ESCAPE '\\'", pattern)],
                desc=True,
                limit=SEARCH_HITS_PER_TYPE,
            ):
                source = {k: t[k] for k in ("number", "subject", "status", "customer_id")}
                results.append(_hit(t["id"], "ticket", "tickets", source))
        return json_response({"quick_result": None, "results": results, "error": None})
