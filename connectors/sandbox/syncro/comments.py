"""Syncro ticket comments: the paged list and ``POST /tickets/{id}/comment`` (the runbook's
wrapper 422 and ignored fields)."""

from __future__ import annotations

import math
from typing import Any

from connectors.sandbox import accounts
from connectors.sandbox.store import Where
from connectors.sandbox.vendor import Ctx, route
from connectors.sandbox.web import (
    Reply,
    Response,
    json_response,
)

from .params import SyncroParams
from .records import (
    K_COMMENT,
    K_TICKET,
    comment_record,
    sortable_param,
    to_bool,
    to_int,
    ts,
    user_obj,
)


class CommentRoutes(SyncroParams):
    """Mixin of :class:`~.emulator.SyncroSandbox`: ticket comments."""

    # --- comments ----------------------------------------------------------------------------
    @route("GET", "/tickets/{id}/comments")
    def comments(self, ctx: Ctx) -> Response:
        """GET /tickets/{id}/comments: filters ``created_after/before``,
        ``updated_after/before``, ``sort_by`` (created_at|updated_at), ``sort_direction``
        (ASC|DESC; default and anything but ASC: DESC, newest first, as a live observation
        recorded by a public client's test log shows, issue 15 item 4; the spec states no
        default); ``per_page`` (default 10); meta ``{total_pages, page, per_page}``."""
        ticket = self._ticket(ctx, ctx.req.view_args["id"])
        q = ctx.req
        where = [Where("parent_id = ?", (ticket["id"],))]
        for param, sql in (
            ("created_after", "created_at > ?"),
            ("created_before", "created_at < ?"),
            ("updated_after", "updated_at > ?"),
            ("updated_before", "updated_at < ?"),
        ):
            if (v := sortable_param(q.args.get(param))) is not None:
                where.append(Where(sql, (v,)))
        order = (
            q.args.get("sort_by") if q.args.get("sort_by") in ("created_at", "updated_at") else "id"
        )
        # newest first unless ASC is asked for (issue 15 item 4: live observation)
        desc = (q.args.get("sort_direction") or "DESC").upper() != "ASC"
        per_page = min(
            max(to_int(q.args.get("per_page")) or self.page_size("comments"), 1),
            self.sandbox.config.syncro_comments_max_per_page,
        )
        page = self.page_of(ctx)
        total = ctx.store.count(K_COMMENT, where)
        rows = ctx.store.select(
            K_COMMENT, where, order=order, desc=desc, limit=per_page, offset=(page - 1) * per_page
        )
        for row in rows:
            row["is_rich_text"] = False
            user = user_obj(row.get("user_id"))
            row["user"] = (
                {"id": user["id"], "email": user["email"], "full_name": user["full_name"]}
                if user
                else {}
            )
        return json_response(
            {
                "comments": rows,
                "meta": {
                    "total_pages": math.ceil(total / per_page),
                    "page": page,
                    "per_page": per_page,
                },
            }
        )

    def add_comment(self, ctx: Ctx, ticket: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
        """Store a comment on ``ticket`` from params ``p`` (``subject``, ``body``, ``hidden``, ...) by the principal, move the ticket's ``updated_at``; returns the comment."""
        now = ctx.now()
        cid = ctx.store.next_id(K_COMMENT)
        user: accounts.SyncroUser = ctx.principal
        comment = comment_record(
            cid,
            ticket["id"],
            subject=str(p.get("subject") or ""),
            body=str(p.get("body") or ""),
            tech=str(p.get("tech") or user.full_name),
            hidden=bool(to_bool(p.get("hidden"), False)),
            user_id=user.user_id,
            at=now,
        )
        ctx.store.put(K_COMMENT, comment)
        ctx.touch(K_COMMENT, cid, "created")
        if not ticket.get("comments"):
            ticket["comments"] = [comment]
        ticket["updated_at"] = ts(now)
        ctx.store.put(K_TICKET, ticket)
        return comment

    @route("POST", "/tickets/{id}/comment")
    def comment_create(self, ctx: Ctx) -> Response:
        """POST /tickets/{id}/comment (singular). Needs top-level ``subject`` and ``body``: a body
        wrapped in ``{"comment": {...}}`` has neither -> 422 ``{"success": false, "message":
        ["Body can't be blank", "Subject can't be blank"]}`` (spec example; seed 001).
        ``product_id``, ``minutes_spent``, ``bill_time_now`` are accepted and ignored, and so is
        any ``Idempotency-Key`` header (seed 001). ``do_not_email`` is write-only. Answers
        ``{"comment": {...}}`` (seed 001: "NOT a flat object"). The ticket's ``updated_at`` moves."""
        ticket = self._ticket(ctx, ctx.req.view_args["id"])
        p = self.params(ctx)
        messages = []
        if not str(p.get("body") or "").strip():
            messages.append("Body can't be blank")
        if not str(p.get("subject") or "").strip():
            messages.append("Subject can't be blank")
        if messages:
            raise Reply(json_response({"success": False, "message": messages}, 422))
        comment = self.add_comment(ctx, ticket, p)
        return json_response({"comment": comment})
