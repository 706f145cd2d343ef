"""Rails-style parameters and page-number paging shared by the Syncro routes."""

from __future__ import annotations

import math
from typing import Any

from connectors.sandbox.store import Where, fits_int64
from connectors.sandbox.vendor import Ctx
from connectors.sandbox.web import (
    Response,
    raw_json_response,
)

from .records import (
    to_int,
)


def id_list_where(values: list[str], *, negate: bool = False) -> Where | None:
    """The ``id IN (...)`` (``negate``: ``NOT IN``) condition of Rails ``id[]`` params, None
    when no value is an integer. As ActiveRecord (>= 6.1) does with ``where(id: [...])``, an
    integer a bigint column cannot hold is dropped from the list, so ``id[]=2**64`` alone
    matches nothing and ``not_id[]=2**64`` excludes nothing (issue 15 item 2)."""
    given = [i for i in (to_int(v) for v in values) if i is not None]
    ids = [i for i in given if fits_int64(i)]
    if not given or (negate and not ids):
        return None
    if not ids:
        return Where("0")
    op = "NOT IN" if negate else "IN"
    return Where(f"id {op} ({','.join('?' * len(ids))})", tuple(ids))


class SyncroParams:
    """Mixin of :class:`~.emulator.SyncroSandbox`: merged query/body params, ``page``, per-endpoint
    page sizes (``SandboxConfig.syncro_page_sizes``) and the ``meta`` paging block."""

    sandbox: Any

    # --- parameters --------------------------------------------------------------------------
    @staticmethod
    def params(ctx: Ctx, wrapper: str | None = None) -> dict[str, Any]:
        """Rails-style params: query string merged under the body (the body wins; JSON, or a
        form/multipart body as Rails nested params, see ``bodies.py``). With ``wrapper``
        (``"contact"``), a ``{"contact": {...}}`` hash (JSON, or form ``contact[name]=``) is
        merged on top too, so both the flat and the bracketed forms public clients post work
        (Rails' ``params.require(:contact)`` plus ParamsWrapper for flat JSON)."""
        merged: dict[str, Any] = {k: v for k, v in ctx.req.args.items() if k != "api_key"}
        body = ctx.req.json_body()
        if isinstance(body, dict):
            merged.update(body)
            if wrapper and isinstance(body.get(wrapper), dict):
                merged.update(body[wrapper])
        return merged

    @staticmethod
    def page_of(ctx: Ctx) -> int:
        """The 1-based ``page`` query parameter (1 when absent or bad)."""
        return max(to_int(ctx.req.args.get("page")) or 1, 1)

    def page_size(self, name: str) -> int:
        """Page size of list ``name`` (``syncro_page_sizes``, default 25)."""
        return self.sandbox.config.syncro_page_sizes.get(name, 25)

    # --- customers, contacts, products -------------------------------------------------------
    def _paged(
        self,
        ctx: Ctx,
        kind: str,
        key: str,
        where: list[Where],
        *,
        full_meta: bool,
        meta: bool = True,
    ) -> Response:
        size = self.page_size(key)
        page = self.page_of(ctx)
        total = ctx.store.count(kind, where)
        rows = ctx.store.select_raw(kind, where, limit=size, offset=(page - 1) * size)
        body = f'{{"{key}":[' + ",".join(rows) + "]"
        if meta:
            if full_meta:
                body += f',"meta":{{"total_pages":{math.ceil(total / size)},"total_entries":{total},"per_page":{size},"page":{page}}}'
            else:
                body += f',"meta":{{"total_pages":{math.ceil(total / size)},"page":{page}}}'
        return raw_json_response(body + "}")
