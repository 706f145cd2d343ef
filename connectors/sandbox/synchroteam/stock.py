"""Synchroteam inventory emulation: stock depots, stock parts (the level of one part in one
depot), part movements and part requests.

Sources: the v3 documentation's table of contents lists *Inventory Management, Part Movements,
Part Requests, Stock Depots, Stock Parts* (vendor-apis.md §2.1); their bodies were not
retrievable. Two unofficial MCP servers read from the same documentation give the rest:
``GET depot/list`` ("warehouses and technician vans", filters ``name``, ``isDefault``,
``isProvider``), ``GET depot/details`` ("with the quantity of each part it holds"),
``GET partrequest/list`` (flags urgent, sent, completed, deleted; ``changedSince`` /
``createdSince`` as ``yyyy-mm-dd hh:mm:ss``). Everything else here is the sandbox's decision,
listed in README "Synchroteam inventory" (open questions):

* ``stockpart/list`` lists one record per (depot, part) with ``quantity``; filters
  ``depotId``, ``partId``.
* ``partmovement/list`` and ``partrequest/list`` accept ``changedSince`` (on ``dateModified``).
* A depot with a ``user`` is that technician's vehicle; one without is a warehouse.
* ``POST partrequest/send`` creates one request for one part (``part``, ``quantity``, ``depot``
  = the depot to fill, optional ``fromDepot``, ``isUrgent``, ``comment``, ``myId``). A request
  naming a ``fromDepot`` that holds enough is fulfilled at once: one movement ``fromDepot`` ->
  ``depot``, both levels updated, the request ``isComplete``. A second send with a ``myId`` the
  account knows changes nothing and answers the existing request (the ``/send`` upsert rule,
  §2.3, without a second movement).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.sandbox.clock import sortable_text
from connectors.sandbox.store import Store, Where, as_int, register_kind
from connectors.sandbox.vendor import Ctx, route
from connectors.sandbox.web import Reply, Response, json_response

from .records import FIRST_IDS, K, st_date, st_error
from .resources import RESOURCES, ResourceRoutes


def _ref(obj: Any) -> Any:
    return obj.get("id") if isinstance(obj, dict) else None


def _cols(d: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": d["id"],
        "ext": d.get("myId"),
        "created_at": sortable_text(d["dateCreated"]) if d.get("dateCreated") else None,
        "updated_at": sortable_text(d["dateModified"]) if d.get("dateModified") else None,
        **extra,
    }


register_kind(
    K["depot"],
    lambda d: _cols(d, user_id=_ref(d.get("user")), search=(d.get("name") or "").lower()),
)
register_kind(
    K["stockpart"],
    lambda d: _cols(d, parent_id=_ref(d.get("depot")), customer_id=_ref(d.get("part"))),
)
register_kind(
    K["partmovement"],
    lambda d: _cols(
        d,
        parent_id=_ref(d.get("toDepot")),
        customer_id=_ref(d.get("part")),
        user_id=_ref(d.get("user")),
        ref=str(_ref(d.get("job"))) if d.get("job") else None,
    ),
)
register_kind(
    K["partrequest"],
    lambda d: _cols(
        d,
        parent_id=_ref(d.get("depot")),
        customer_id=_ref(d.get("part")),
        user_id=_ref(d.get("user")),
        status=request_status(d),
    ),
)


def request_status(d: dict[str, Any]) -> str:
    """One word for a part request's flags: deleted, completed, sent or open."""
    if d.get("isDeleted"):
        return "deleted"
    if d.get("isComplete"):
        return "completed"
    return "sent" if d.get("isSent") else "open"


def depot_ref(depot: dict[str, Any]) -> dict[str, Any]:
    """How other records name a depot."""
    return {"id": depot["id"], "name": depot["name"]}


def part_ref(part: dict[str, Any]) -> dict[str, Any]:
    """How other records name a part."""
    return {"id": part["id"], "reference": part["reference"], "name": part["name"]}


def stock_level(store: Store, depot_id: int, part_id: int) -> dict[str, Any] | None:
    """The ``stockpart`` record of one part in one depot, or None."""
    rows = store.select(
        K["stockpart"], [Where("parent_id = ?", (depot_id,)), Where("customer_id = ?", (part_id,))]
    )
    return rows[0] if rows else None


def movement_record(
    mid: int,
    *,
    part: dict[str, Any],
    from_depot: dict[str, Any] | None,
    to_depot: dict[str, Any] | None,
    quantity: float,
    at: datetime,
    user: dict[str, Any] | None = None,
    job: dict[str, Any] | None = None,
    request_id: int | None = None,
    comment: str = "",
) -> dict[str, Any]:
    """A ``partmovement`` record: ``fromDepot`` None = received from a supplier, ``toDepot``
    None = used on ``job`` (or written off)."""
    return {
        "id": mid,
        "part": part_ref(part),
        "fromDepot": depot_ref(from_depot) if from_depot else None,
        "toDepot": depot_ref(to_depot) if to_depot else None,
        "quantity": quantity,
        "job": {"id": job["id"], "num": job["num"], "myId": job.get("myId")} if job else None,
        "user": {"id": user["id"], "login": user["login"], "name": user["name"]} if user else None,
        "partRequest": {"id": request_id} if request_id else None,
        "comment": comment,
        "date": st_date(at),
        "dateCreated": st_date(at),
        "dateModified": st_date(at),
    }


def move_stock(
    store: Store,
    *,
    part: dict[str, Any],
    from_depot: dict[str, Any] | None,
    to_depot: dict[str, Any] | None,
    quantity: float,
    at: datetime,
    **extra: Any,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Make a movement (`movement_record`, keyword `extra`) and apply it to the stored levels
    (a depot that never held the part gets a new level). Returns ``(movement, changed
    levels)``; the caller puts them."""
    changed = []
    for depot, sign in ((from_depot, -1), (to_depot, 1)):
        if depot is None:
            continue
        level = stock_level(store, depot["id"], part["id"])
        if level is None:
            lid = store.next_id(K["stockpart"], start=FIRST_IDS["stockpart"])
            level = {
                "id": lid,
                "depot": depot_ref(depot),
                "part": part_ref(part),
                "quantity": 0,
                "serialNumbers": [],
                "dateCreated": st_date(at),
            }
        level["quantity"] = round(level["quantity"] + sign * quantity, 3)
        level["dateModified"] = st_date(at)
        changed.append(level)
    mid = store.next_id(K["partmovement"], start=FIRST_IDS["partmovement"])
    movement = movement_record(
        mid, part=part, from_depot=from_depot, to_depot=to_depot, quantity=quantity, at=at, **extra
    )
    return movement, changed


def _quantity(value: Any) -> float:
    if isinstance(value, bool):
        raise st_error("Quantity must be a positive number.", 400)
    try:
        qty = float(value)
    except (TypeError, ValueError):
        raise st_error("Quantity must be a positive number.", 400) from None
    if not 0 < qty <= 1_000_000:
        raise st_error("Quantity must be a positive number.", 400)
    return int(qty) if qty == int(qty) else qty


class StockRoutes(ResourceRoutes):
    """Mixin of :class:`~.emulator.SynchroteamSandbox`: ``depot/details`` with its parts and
    ``partrequest/send`` with its movement. Lists and other details are the generic routes
    (``RESOURCES``)."""

    @route("GET", "/depot/details")
    def depot_details(self, ctx: Ctx) -> Response:
        """``GET depot/details?id=`` (or ``myId``): the depot with ``parts`` ``[{part,
        quantity, serialNumbers}]`` (MCP reading: "the quantity of each part it holds")."""
        depot = self._lookup(ctx, RESOURCES["depot"], dict(ctx.req.args.items()))
        levels = ctx.store.select(K["stockpart"], [Where("parent_id = ?", (depot["id"],))])
        parts = [
            {"part": lv["part"], "quantity": lv["quantity"], "serialNumbers": lv["serialNumbers"]}
            for lv in levels
        ]
        return json_response({**depot, "parts": parts})

    @route("POST", "/partrequest/send")
    def partrequest_send(self, ctx: Ctx) -> Response:
        """``POST partrequest/send {"myId", "part": {"id"|"reference"}, "quantity", "depot":
        {"id"}, "fromDepot": {"id"}?, "user": {"id"}?, "isUrgent"?, "comment"?}``. A known
        ``myId`` (or an ``id``) answers that request unchanged; otherwise a new request,
        fulfilled at once from ``fromDepot`` when it holds enough (see the module docstring).
        400 ``{"message"}`` for a missing part, depot or quantity, or an unknown one."""
        body = ctx.req.json_body()
        if not isinstance(body, dict):
            raise st_error("The request is invalid.", 400)
        store = ctx.store
        if body.get("id") not in (None, ""):
            return json_response(self._lookup(ctx, RESOURCES["partrequest"], {"id": body["id"]}))
        if body.get("myId"):
            found = store.select(
                K["partrequest"], [Where("ext = ?", (str(body["myId"]),))], limit=1
            )
            if found:
                return json_response(found[0])
        part = self._pick(ctx, "part", body.get("part"), ("id", "reference"))
        depot = self._pick(ctx, "depot", body.get("depot"), ("id", "myId"))
        source = (
            self._pick(ctx, "depot", body.get("fromDepot"), ("id", "myId"))
            if body.get("fromDepot")
            else None
        )
        if source is not None and source["id"] == depot["id"]:
            raise st_error("fromDepot and depot must differ.", 400)
        user = (
            self._pick(ctx, "user", body.get("user"), ("id", "login")) if body.get("user") else None
        )
        qty = _quantity(body.get("quantity"))
        now = ctx.now()
        rid = store.next_id(K["partrequest"], start=FIRST_IDS["partrequest"])
        request = {
            "id": rid,
            "myId": str(body["myId"])[:120] if body.get("myId") else None,
            "part": part_ref(part),
            "quantity": qty,
            "depot": depot_ref(depot),
            "fromDepot": depot_ref(source) if source else None,
            "user": {"id": user["id"], "login": user["login"], "name": user["name"]}
            if user
            else depot.get("user"),
            "isUrgent": bool(body.get("isUrgent")),
            "isSent": True,
            "isComplete": False,
            "isDeleted": False,
            "comment": str(body.get("comment") or "")[:1000],
            "partMovement": None,
            "dateCreated": st_date(now),
            "dateModified": st_date(now),
        }
        held = stock_level(store, source["id"], part["id"]) if source else None
        if source is not None and held is not None and held["quantity"] >= qty:
            movement, levels = move_stock(
                store,
                part=part,
                from_depot=source,
                to_depot=depot,
                quantity=qty,
                at=now,
                user=request["user"] if isinstance(request["user"], dict) else None,
                request_id=rid,
                comment=request["comment"] or "Part request",
            )
            mid = movement["id"]
            store.put(K["partmovement"], movement)
            ctx.touch(K["partmovement"], mid, "created")
            for level in levels:
                store.put(K["stockpart"], level)
                ctx.touch(K["stockpart"], level["id"], "updated")
            request.update(isComplete=True, partMovement={"id": mid})
        store.put(K["partrequest"], request)
        ctx.touch(K["partrequest"], rid, "created")
        return json_response(request)

    def _pick(self, ctx: Ctx, name: str, ref: Any, keys: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(ref, dict) or not any(ref.get(k) not in (None, "") for k in keys):
            raise st_error(f"{name.capitalize()} is required.", 400)
        source = {k: ref[k] for k in keys if ref.get(k) not in (None, "")}
        if name == "part":
            record = None
            if "id" in source:
                number = as_int(source["id"])
                record = ctx.store.get(K["part"], number) if number is not None else None
            elif "reference" in source:
                rows = ctx.store.select(
                    K["part"], [Where("ref = ?", (str(source["reference"]),))], limit=1
                )
                record = rows[0] if rows else None
            if record is None or not record.get("isTracked"):
                raise st_error("Part not found or not tracked in stock.", 400)
            return record
        try:
            return self._lookup(ctx, RESOURCES[name], source)
        except Reply:  # an unknown depot or user is a 400 of this request, not a 404
            raise st_error(f"{name.capitalize()} not found.", 400) from None
