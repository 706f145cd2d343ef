"""Synchroteam web services v3 client (thin; no database).

Sources: vendor-apis.md §2.2 (HTTP Basic ``domain:api_key``; base ``https://ws.synchroteam.com/
api/v3``), §2.3 (``<resource>/list|details|send`` convention), §2.4 (``page`` 1-based,
``pageSize`` at most 100, responses ``{"data": [...], "recordsTotal": N}``; stop when
``len(data) < pageSize`` or the count reaches ``recordsTotal``), §2.6 (``X-Quota-Remaining``
daily quota header; limits ~1000/min and ~15 000/day per token, seed 000).
"""

from __future__ import annotations

import httpx
from django.views.decorators.debug import sensitive_variables

from connectors.http import Page, RequestGate, VendorClient, iter_numbered_pages, make_http_client

PAGE_SIZE = 100

#: stream resource -> list path
LIST_PATHS = {
    "customers": "customer/list",
    "sites": "site/list",
    "users": "user/list",
    "jobs": "job/list",
    "activities": "activity/list",
    "equipment": "equipment/list",
    "parts": "part/list",
    "invoices": "invoice/list",
    "quotations": "quotation/list",
    # inventory (connectors/synchroteam/stock.py)
    "depots": "depot/list",
    "stock_levels": "stockpart/list",
    "part_movements": "partmovement/list",
    "part_requests": "partrequest/list",
}


class SynchroteamClient(VendorClient):
    """Synchroteam API for one company domain and API key."""

    vendor = "synchroteam"
    retry_after_default = 5.0

    @classmethod
    @sensitive_variables("api_key")
    def build(
        cls,
        base_url: str,
        domain: str,
        api_key: str,
        *,
        gate: RequestGate | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> SynchroteamClient:
        http = make_http_client(base_url, transport=transport, auth=(domain, api_key))
        return cls(http, domain=domain, gate=gate)

    def __init__(self, http: httpx.Client, *, domain: str = "", gate: RequestGate | None = None):
        super().__init__(http, gate=gate)
        self.domain = domain

    def close(self) -> None:
        self.http.close()

    def verify(self) -> tuple[str, str]:
        """A cheap authenticated call (one user of ``user/list``) -> ``(identity, "")``."""
        body = self.get("user/list", params={"page": 1, "pageSize": 1}, kind="write") or {}
        total = body.get("recordsTotal") if isinstance(body, dict) else None
        users = f"{total} users" if total is not None else "users readable"
        return f"Domain {self.domain} ({users})", self.domain

    def list_page(
        self,
        resource: str,
        *,
        page: int = 1,
        params: dict | None = None,
        page_size: int = PAGE_SIZE,
    ) -> Page:
        """One page of ``<resource>/list``; `Page.total_records` = ``recordsTotal``."""
        body = self.get(
            LIST_PATHS[resource], params={**(params or {}), "page": page, "pageSize": page_size}
        )
        body = body if isinstance(body, dict) else {"data": body or []}
        records = body.get("data") or []
        if not isinstance(records, list):
            records = []
        total = body.get("recordsTotal")
        total = int(total) if isinstance(total, int | str) and str(total).isdigit() else None
        seen = (page - 1) * page_size + len(records)
        more = len(records) >= page_size and (total is None or seen < total)
        return Page(
            records=records,
            number=page,
            next_page=page + 1 if more else None,
            total_records=total,
            total_pages=-(-total // page_size) if total is not None else None,
        )

    def iter_pages(self, resource: str, *, params: dict | None = None, start: int = 1):
        """Yield `Page` objects from `start` to the last page (capped at 100 000 pages)."""
        return iter_numbered_pages(self.list_page, resource, params=params, start=start)

    def send(self, resource: str, payload: dict) -> dict:
        """POST ``<resource>/send`` (upsert on ``id``/``myId``); never retried here."""
        body = self.write("POST", f"{resource}/send", json=payload)
        if isinstance(body, dict) and isinstance(body.get("data"), dict):
            return body["data"]
        return body if isinstance(body, dict) else {}
