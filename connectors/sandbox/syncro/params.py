"""Rails-style parameters and page-number paging shared by the Syncro routes."""

from __future__ import annotations

import math
from typing import Any

from connectors.sandbox.store import Where
from connectors.sandbox.vendor import Ctx
from connectors.sandbox.web import (
    Response,
    raw_json_response,
)

from .records import (
    to_int,
)


class SyncroParams:
    """Mixin of :class:`~.emulator.SyncroSandbox`: merged query/body params, ``page``, per-endpoint
    page sizes (``SandboxConfig.syncro_page_sizes``) and the ``meta`` paging block."""

    sandbox: Any

    # --- parameters --------------------------------------------------------------------------
    @staticmethod
    def params(ctx: Ctx) -> dict[str, Any]:
        """Rails-style params: query string merged under the JSON body (the body wins)."""
        merged: dict[str, Any] = {k: v for k, v in ctx.req.args.items() if k != "api_key"}
        body = ctx.req.json_body()
        if isinstance(body, dict):
            merged.update(body)
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
