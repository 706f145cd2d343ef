"""Limit, ``since`` and keyset-cursor paging shared by FieldCamp's list routes
(``meta.next_cursor`` is null on the last page)."""

from __future__ import annotations

from typing import Any

from connectors.sandbox.clock import parse_instant, sortable
from connectors.sandbox.store import Where
from connectors.sandbox.vendor import Ctx
from connectors.sandbox.web import Response, json_response

from .records import (
    K_INVOICE,
    K_JOB,
    K_VISIT,
    _s,
    decode_cursor,
    encode_cursor,
    fc_error,
    from_oid,
)


class CursorPaging:
    """Mixin of :class:`~.emulator.FieldCampSandbox`: ``limit``/``since``/``cursor`` parsing and
    the ``{"success", "data", "meta"}`` list envelope."""

    sandbox: Any

    # --- lists -------------------------------------------------------------------------------
    def _limit(self, ctx: Ctx) -> int:
        cfg = self.sandbox.config
        raw = ctx.req.args.get("limit")
        try:
            limit = int(raw) if raw else cfg.fieldcamp_default_page_size
        except ValueError:
            raise fc_error("limit must be an integer", 400) from None
        return min(max(limit, 1), cfg.fieldcamp_max_page_size)

    def _since(self, ctx: Ctx, name: str = "since") -> str | None:
        raw = ctx.req.args.get(name)
        if not raw:
            return None
        try:
            return sortable(parse_instant(raw))
        except ValueError:
            raise fc_error(f"{name} must be an ISO-8601 timestamp", 400) from None

    def _cursor_page(
        self, ctx: Ctx, kind: str, where: list[Where], order: str
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Keyset page on (``order`` column, id) ascending; cursor = last row's key."""
        limit = self._limit(ctx)
        cursor = ctx.req.args.get("cursor")
        if cursor:
            try:
                key, seq = decode_cursor(cursor)
            except (ValueError, UnicodeDecodeError):
                raise fc_error("cursor is invalid", 400) from None
            where = [*where, Where(f"({order} > ? OR ({order} = ? AND id > ?))", (key, key, seq))]
        rows = ctx.store.select(kind, where, order=order, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = None
        if more and rows:
            last = rows[-1]
            stamp = last.get("updatedAt") or last.get("changed_at")
            next_cursor = encode_cursor(_s(stamp) or "", self._int_id(kind, last))
        return rows, next_cursor

    @staticmethod
    def _int_id(kind: str, row: dict[str, Any]) -> int:
        if kind in (K_VISIT, K_INVOICE):
            return from_oid(kind, row["id"]) or 0
        if kind == K_JOB:
            return from_oid("job", row["id"]) or 0
        return row["_seq"]

    def _list(self, ctx: Ctx, kind: str, where: list[Where]) -> Response:
        rows, next_cursor = self._cursor_page(ctx, kind, where, "updated_at")
        return json_response(
            {
                "success": True,
                "data": rows,
                "meta": {
                    "count": len(rows),
                    "limit": self._limit(ctx),
                    "next_cursor": next_cursor,
                    "has_more": next_cursor is not None,
                },
            }
        )
