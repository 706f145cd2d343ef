"""Syncro contact writes beyond create: ``PUT /contacts/{id}`` and ``DELETE /contacts/{id}``."""

from __future__ import annotations

from typing import Any

from connectors.sandbox.vendor import Ctx, route
from connectors.sandbox.web import Reply, Response, json_response

from .params import SyncroParams
from .records import K_CONTACT, K_CUSTOMER, not_found, to_int, ts

#: The fields PUT /contacts/{id} stores (the spec's request schema, minus ``customer_id`` and
#: ``title``: ``title`` is in the request schema but in no response example or schema, so it is
#: accepted and, as it can never be read back, not kept).
CONTACT_FIELDS = (
    "name",
    "address1",
    "address2",
    "city",
    "state",
    "zip",
    "email",
    "phone",
    "mobile",
    "notes",
)


class ContactRoutes(SyncroParams):
    """Mixin of :class:`~.emulator.SyncroSandbox`: contact update and delete."""

    def _contact(self, ctx: Ctx) -> dict[str, Any]:
        contact = ctx.store.get(K_CONTACT, to_int(ctx.req.view_args["id"]) or -1)
        if contact is None:
            raise not_found()
        return contact

    @route("PUT", "/contacts/{id}")
    def contact_update(self, ctx: Ctx) -> Response:
        """PUT /contacts/{id}: the given fields of the spec's request schema (``customer_id``,
        ``name``, ``address1``, ``address2``, ``city``, ``state``, ``zip``, ``email``,
        ``phone``, ``title``, ``mobile``, ``notes``); answers the contact flat, with exactly the
        keys of the spec's 200 example (``title`` is accepted but never rendered: the example
        and the GET schema have no such key). 404 ``{"message": "Not found"}`` for an unknown contact (spec example).

        Validation (422 ``{"record": {...}, "errors": "..."}``, the spec's 422 example): an
        unknown ``customer_id`` -> ``"Customer can't be blank"`` (the example's message: Rails'
        ``belongs_to`` presence check); a blank ``name`` -> ``"Name can't be blank"`` (as on
        create). The record in a 422 carries the rejected values, as Rails' ``record`` does,
        and nothing is stored. The spec marks ``name`` required in the request schema, but a
        Rails ``update`` applies only the given keys, so a PUT without ``name`` keeps the old
        one (spec silent on partial bodies; Rails-typical behaviour)."""
        contact = self._contact(ctx)
        p = self.params(ctx)
        candidate = dict(contact)
        for key in CONTACT_FIELDS:
            if key in p:
                candidate[key] = p[key]
        errors = []
        if "customer_id" in p:
            customer = ctx.store.get(K_CUSTOMER, to_int(p["customer_id"]) or -1)
            candidate["customer_id"] = customer["id"] if customer else p["customer_id"]
            if customer is None:
                errors.append("Customer can't be blank")
        if not str(candidate.get("name") or "").strip():
            errors.append("Name can't be blank")
        if errors:
            raise Reply(json_response({"record": candidate, "errors": ", ".join(errors)}, 422))
        candidate["updated_at"] = ts(ctx.now())
        ctx.store.put(K_CONTACT, candidate)
        ctx.touch(K_CONTACT, candidate["id"], "updated")
        return json_response(candidate)

    @route("DELETE", "/contacts/{id}")
    def contact_delete(self, ctx: Ctx) -> Response:
        """DELETE /contacts/{id}: 200, 404 ``{"message": "Not found"}`` when absent (spec). The
        spec gives the 200 no body; the sandbox answers ``{"message": "Contact was successfully
        deleted."}``, the wording of Syncro's other destroy actions (``DELETE /tickets/{id}``).
        The customer's tickets keep their ``contact_id`` (spec silent; Rails ``nullify`` is not
        observable through the API without a live tenant)."""
        contact = self._contact(ctx)
        ctx.store.delete(K_CONTACT, contact["id"])
        ctx.touch(K_CONTACT, contact["id"], "deleted")
        return json_response({"message": "Contact was successfully deleted."})
