"""Syncro timer entries: per ticket (create, update, delete, charge) and ``/ticket_timers``."""

from __future__ import annotations

import math
from datetime import timedelta
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
    K_LINE,
    K_PRODUCT,
    K_TIMER,
    cents,
    line_item_record,
    not_found,
    sortable_param,
    timer_record,
    to_bool,
    to_int,
    ts,
)
from .vocab import (
    DEFAULT_LABOR_PRODUCT_ID,
    UNIT_TEXT,
)


class TimerRoutes(SyncroParams):
    """Mixin of :class:`~.emulator.SyncroSandbox`: timers."""

    # --- timers ------------------------------------------------------------------------------
    @route("POST", "/tickets/{id}/timer_entry")
    def timer_create(self, ctx: Ctx) -> Response:
        """POST /tickets/{id}/timer_entry. ``start_at`` required, else 422 ``{"error": "no
        implicit conversion of nil into String"}`` (spec example; vendor-apis.md §1.9);
        ``end_at`` or ``duration_minutes`` sets the end; ``product_id`` defaults to the
        account's default labor product; ``user_id`` to the token's user. Request fields
        ``start_at``/``end_at``, response ``start_time``/``end_time``. Flat response."""
        ticket = self._ticket(ctx, ctx.req.view_args["id"])
        p = self.params(ctx)
        try:
            start = parse_instant(str(p["start_at"])) if p.get("start_at") else None
            end = parse_instant(str(p["end_at"])) if p.get("end_at") else None
        except ValueError:
            start = end = None
        if start is None:
            raise Reply(json_response({"error": "no implicit conversion of nil into String"}, 422))
        if end is None and to_int(p.get("duration_minutes")):
            end = start + timedelta(minutes=to_int(p["duration_minutes"]) or 0)
        user_id = to_int(p.get("user_id")) or ctx.principal.user_id
        tid = ctx.store.next_id(K_TIMER)
        timer = timer_record(
            tid,
            ticket["id"],
            user_id=user_id,
            start=start,
            end=end,
            notes=p.get("notes"),
            product_id=to_int(p.get("product_id")) or DEFAULT_LABOR_PRODUCT_ID,
            billable=bool(to_bool(p.get("billable"), False)),
            at=ctx.now(),
        )
        ctx.store.put(K_TIMER, timer)
        ctx.touch(K_TIMER, tid, "created")
        self._touch_ticket(ctx, ticket)
        return json_response(timer)

    def _timer(self, ctx: Ctx, ticket: dict[str, Any], raw_id: Any) -> dict[str, Any]:
        timer = ctx.store.get(K_TIMER, to_int(raw_id) or -1)
        if timer is None or timer["ticket_id"] != ticket["id"]:
            raise not_found()
        return timer

    @route("PUT", "/tickets/{id}/update_timer_entry")
    def timer_update(self, ctx: Ctx) -> Response:
        """PUT /tickets/{id}/update_timer_entry ``{timer_entry_id, start_at, notes, product_id,
        user_id}``. ``duration_minutes`` is accepted but does not change ``end_time`` or
        ``active_duration`` (observed live, vendor-apis.md §1.9)."""
        ticket = self._ticket(ctx, ctx.req.view_args["id"])
        p = self.params(ctx)
        timer = self._timer(ctx, ticket, p.get("timer_entry_id"))
        if p.get("start_at"):
            try:
                start = parse_instant(str(p["start_at"]))
            except ValueError:
                raise Reply(json_response({"error": "invalid date"}, 422)) from None
            timer["start_time"] = ts(start)
            if timer.get("end_time"):
                timer["active_duration"] = int(
                    (parse_instant(timer["end_time"]) - start).total_seconds()
                )
                timer["billable_time"] = timer["active_duration"]
        for key in ("notes",):
            if key in p:
                timer[key] = p[key]
        for key in ("product_id", "user_id"):
            if key in p and to_int(p[key]):
                timer[key] = to_int(p[key])
        timer["updated_at"] = ts(ctx.now())
        ctx.store.put(K_TIMER, timer)
        ctx.touch(K_TIMER, timer["id"], "updated")
        return json_response(timer)

    @route("POST", "/tickets/{id}/delete_timer_entry")
    def timer_delete(self, ctx: Ctx) -> Response:
        """POST /tickets/{id}/delete_timer_entry ``{"timer_entry_id"}``."""
        ticket = self._ticket(ctx, ctx.req.view_args["id"])
        timer = self._timer(ctx, ticket, self.params(ctx).get("timer_entry_id"))
        ctx.store.delete(K_TIMER, timer["id"])
        ctx.touch(K_TIMER, timer["id"], "deleted")
        return json_response({"success": True})

    @route("POST", "/tickets/{id}/charge_timer_entry")
    def timer_charge(self, ctx: Ctx) -> Response:
        """POST /tickets/{id}/charge_timer_entry ``{timer_entry_id}``: creates a billable ticket
        line item from the timer (product price, hours as quantity) and sets ``recorded``.
        Charging twice creates two line items, as the real one does (vendor-apis.md §1.9).
        Answers the flat timer with ``recorded: true`` and ``ticket_line_item_id`` of the newest
        charge."""
        ticket = self._ticket(ctx, ctx.req.view_args["id"])
        timer = self._timer(ctx, ticket, self.params(ctx).get("timer_entry_id"))
        product = ctx.store.get(
            K_PRODUCT, timer.get("product_id") or DEFAULT_LABOR_PRODUCT_ID
        ) or ctx.store.get(K_PRODUCT, DEFAULT_LABOR_PRODUCT_ID)
        seconds = timer.get("active_duration") or 0
        hours = (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        lid = ctx.store.next_id(K_LINE)
        now = ctx.now()
        item = line_item_record(
            lid,
            ticket["id"],
            user_id=timer["user_id"],
            product_id=product["id"] if product else None,
            name=product["name"] if product else UNIT_TEXT,
            description=timer.get("notes") or (product["description"] if product else UNIT_TEXT),
            quantity=hours,
            taxable=bool(product["taxable"]) if product else False,
            cost_cents=cents(product["price_cost"]) if product else None,
            retail_cents=cents(product["price_retail"]) if product else 0,
            position=self._next_position(ctx, ticket["id"]),
            at=now,
            category=product["product_category"] if product else None,
        )
        ctx.store.put(K_LINE, item)
        ctx.touch(K_LINE, lid, "created")
        timer["recorded"] = True
        timer["ticket_line_item_id"] = lid
        timer["updated_at"] = ts(now)
        ctx.store.put(K_TIMER, timer)
        ctx.touch(K_TIMER, timer["id"], "updated")
        self._touch_ticket(ctx, ticket)
        return json_response(timer)

    @route("GET", "/ticket_timers")
    def ticket_timers(self, ctx: Ctx) -> Response:
        """GET /ticket_timers: ``created_at_gt``, ``created_at_lt``, ``page`` (100 per page as
        observed, vendor-apis.md §1.4), meta ``{total_pages, page}``; ``ticket_id`` is honoured
        too (the runbook uses it; not in the spec)."""
        q = ctx.req
        where: list[Where] = []
        if (v := sortable_param(q.args.get("created_at_gt"))) is not None:
            where.append(Where("created_at > ?", (v,)))
        if (v := sortable_param(q.args.get("created_at_lt"))) is not None:
            where.append(Where("created_at < ?", (v,)))
        if q.args.get("ticket_id"):
            where.append(Where("parent_id = ?", (to_int(q.args.get("ticket_id")),)))
        size = self.page_size("ticket_timers")
        page = self.page_of(ctx)
        total = ctx.store.count(K_TIMER, where)
        rows = ctx.store.select_raw(K_TIMER, where, limit=size, offset=(page - 1) * size)
        return raw_json_response(
            '{"ticket_timers":['
            + ",".join(rows)
            + f'],"meta":{{"total_pages":{math.ceil(total / size)},"page":{page}}}}}'
        )

    @route("PATCH", "/ticket_timers/{id}")
    def ticket_timer_billable(self, ctx: Ctx) -> Response:
        """PATCH ticket_timers/{id}?billable=true|false -> ``{"ticket_timer": {...}}``; anything
        else 422 ``{"errors": ["billable must be true or false"]}`` (spec)."""
        timer = ctx.store.get(K_TIMER, to_int(ctx.req.view_args["id"]) or -1)
        if timer is None:
            raise not_found()
        billable = to_bool(self.params(ctx).get("billable"))
        if billable is None:
            raise Reply(json_response({"errors": ["billable must be true or false"]}, 422))
        timer["billable"] = billable
        timer["updated_at"] = ts(ctx.now())
        ctx.store.put(K_TIMER, timer)
        ctx.touch(K_TIMER, timer["id"], "updated")
        # The spec's example answer carries this extra key (equal to updated_at).
        return json_response({"ticket_timer": {**timer, "since_updated_at": timer["updated_at"]}})
