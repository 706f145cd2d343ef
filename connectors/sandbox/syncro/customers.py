"""Syncro customers and contacts: list with search, detail, create, update."""

from __future__ import annotations

import math
import re
from typing import Any

from connectors.sandbox.store import Where
from connectors.sandbox.vendor import Ctx, route
from connectors.sandbox.web import (
    Reply,
    Response,
    json_response,
)

from .params import SyncroParams, id_list_where
from .records import (
    K_CONTACT,
    K_CUSTOMER,
    contact_record,
    customer_record,
    not_found,
    to_bool,
    to_int,
    ts,
)


class CustomerRoutes(SyncroParams):
    """Mixin of :class:`~.emulator.SyncroSandbox`: customers and contacts."""

    @route("GET", "/customers")
    def customers(self, ctx: Ctx) -> Response:
        """GET /customers: ``query``, ``firstname``, ``lastname``, ``business_name``, ``email``,
        ``id[]``, ``not_id[]``, ``include_disabled``; no updated-since filter (spec); 100 per
        page with full meta (spec example)."""
        q = ctx.req
        where: list[Where] = []
        if q.args.get("query"):
            where.append(Where("search LIKE ?", (f"%{q.args.get('query', '').lower()}%",)))
        for param in ("firstname", "lastname", "business_name"):
            if q.args.get(param):
                where.append(
                    Where(
                        f"lower(json_extract(data, '$.{param}')) LIKE ?",
                        (f"%{q.args.get(param, '').lower()}%",),
                    )
                )
        if q.args.get("email"):
            where.append(Where("ext = ?", (q.args.get("email", "").lower(),)))
        for name, negate in (("id", False), ("not_id", True)):
            cond = id_list_where(q.args_list(name), negate=negate)
            if cond is not None:
                where.append(cond)
        if not to_bool(q.args.get("include_disabled"), False):
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
        """GET /customers/{id}: ``{"customer": {...}}`` with its contacts; 404 ``{"message": "Not found"}``."""
        customer = self._customer(ctx, ctx.req.view_args["id"])
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
        p = self.params(ctx, "customer")
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
        """PUT /customers/{id}: the given fields, validated as on create; answers
        ``{"customer": {...}}`` with its ``contacts`` like GET (the spec's PUT example carries
        ``"contacts": []``; issue 15 item 6)."""
        customer = self._customer(ctx, ctx.req.view_args["id"])
        self._customer_fields(ctx, customer, self.params(ctx, "customer"))
        ctx.store.put(K_CUSTOMER, customer)
        ctx.touch(K_CUSTOMER, customer["id"], "updated")
        contacts = ctx.store.select(K_CONTACT, [Where("parent_id = ?", (customer["id"],))])
        return json_response({"customer": {**customer, "contacts": contacts}})

    @route("GET", "/contacts")
    def contacts(self, ctx: Ctx) -> Response:
        """GET /contacts: ``customer_id``, ``page`` only (spec); 50 per page with full meta."""
        where: list[Where] = []
        if ctx.req.args.get("customer_id"):
            where.append(Where("customer_id = ?", (to_int(ctx.req.args.get("customer_id")),)))
        return self._paged(ctx, K_CONTACT, "contacts", where, full_meta=True)

    @route("GET", "/contacts/{id}")
    def contact_get(self, ctx: Ctx) -> Response:
        """GET /contacts/{id}: the contact, flat (spec schema)."""
        contact = ctx.store.get(K_CONTACT, to_int(ctx.req.view_args["id"]) or -1)
        if contact is None:
            raise not_found()
        return json_response(contact)

    @route("POST", "/contacts")
    def contact_create(self, ctx: Ctx) -> Response:
        """POST /contacts (``customer_id`` required): flat contact; 404 ``{"message": "Not
        found"}`` for an unknown customer; 422 ``{"record": {...}, "errors": "Name can't be
        blank"}`` (spec examples)."""
        p = self.params(ctx, "contact")
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
