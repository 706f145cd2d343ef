"""FieldCamp API v1 client (thin; no database).

Sources: vendor-apis.md §3.1 (base ``https://api.fieldcamp.ai/api/v1``; ``Authorization: Bearer
fc_live_…``), §3.3 (envelope ``{"success", "data", "meta"}``; ``error`` string or object,
normalised in connectors.errors; 409 = conflict), §3.4 (per-key limits with ``X-RateLimit-*``),
§3.5 and seed 002 (integration sync triggers, ``status`` route, change records paginated with
``next_cursor``), §3.8 (cursor pagination: the cursor is read from ``meta.next_cursor`` or a
top-level ``next_cursor``; pages end when it is absent).
"""

from __future__ import annotations

from typing import Any

import httpx
from django.views.decorators.debug import sensitive_variables

from connectors.http import Page, RequestGate, VendorClient, make_http_client

PAGE_SIZE = 100

LIST_PATHS = {
    "visits": ("visits", "visits"),
    "invoices": ("invoices", "invoices"),
    "calendar_changes": ("integrations/google-calendar/sync", "changes"),
}

INTEGRATIONS = ("google-calendar", "outlook-calendar", "quickbooks")


class FieldCampClient(VendorClient):
    """FieldCamp API for one workspace key."""

    vendor = "fieldcamp"
    retry_after_default = 2.0  # errors page: retry 5xx/429 at 1 s, 2 s, 4 s

    @classmethod
    @sensitive_variables("api_key")
    def build(
        cls,
        base_url: str,
        api_key: str,
        *,
        gate: RequestGate | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> FieldCampClient:
        """A client for `base_url` with ``Authorization: Bearer <api_key>`` (§3.1)."""
        http = make_http_client(
            base_url, transport=transport, headers={"Authorization": f"Bearer {api_key}"}
        )
        return cls(http, gate=gate)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self.http.close()

    @staticmethod
    def data(body: Any) -> Any:
        """Unwrap ``{"success": true, "data": …}``; other bodies are returned as they are."""
        if isinstance(body, dict) and "data" in body and ("success" in body or "meta" in body):
            return body["data"]
        return body

    def integration_status(self, integration: str = "google-calendar") -> dict:
        """GET /integrations/{integration}/status -> ``{"connected", "last_synced_at",
        "next_scheduled_sync_at", "active_job_id", "errors"}`` (seed 002)."""
        result = self.data(self.get(f"integrations/{integration}/status", kind="write"))
        return result if isinstance(result, dict) else {}

    def verify(self) -> tuple[str, str]:
        """The Google Calendar status route as a cheap authenticated call -> ``(identity, "")``."""
        status = self.integration_status()
        connected = "connected" if status.get("connected") else "not connected"
        return f"API key accepted (Google Calendar {connected})", ""

    def trigger_sync(self, integration: str, *, body: dict, key: str) -> Any:
        """POST /integrations/{integration}/sync with exactly `body` and an ``Idempotency-Key``;
        sent once, never retried (seed 002).

        Returns the unwrapped answer: the sync job ``{"id"|"job_id", "status", ...}`` (any
        other JSON value as it came).
        Raises ConflictError (409) when a sync is already in flight (seed 002).
        """
        return self.data(
            self.write(
                "POST",
                f"integrations/{integration}/sync",
                json=body,
                headers={"Idempotency-Key": key},
            )
        )

    def list_page(
        self, resource: str, *, cursor: str | None = None, params: dict | None = None
    ) -> Page:
        """One page of `resource` (``visits``, ``invoices``, ``calendar_changes``) after
        `cursor`; ``next_cursor`` from ``meta``, the body or ``data`` (§3.8)."""
        path, key = LIST_PATHS[resource]
        query = {**(params or {}), "limit": PAGE_SIZE}
        if cursor:
            query["cursor"] = cursor
        body = self.get(path, params=query) or {}
        data = self.data(body)
        if isinstance(data, dict):
            records = data.get(key) or data.get("items") or data.get("data") or []
        else:
            records = data or []
        meta = (
            body.get("meta")
            if isinstance(body, dict) and isinstance(body.get("meta"), dict)
            else {}
        )
        next_cursor = meta.get("next_cursor")
        if next_cursor is None and isinstance(body, dict):
            next_cursor = body.get("next_cursor")
        if next_cursor is None and isinstance(data, dict):
            next_cursor = data.get("next_cursor")
        total = meta.get("total") if isinstance(meta.get("total"), int) else None
        return Page(
            records=records if isinstance(records, list) else [],
            next_cursor=next_cursor or None,
            total_records=total,
            meta=meta,
        )

    def iter_pages(self, resource: str, *, params: dict | None = None):
        """Every page of `resource`, following ``next_cursor`` until it is absent."""
        cursor = None
        for _ in range(100_000):
            result = self.list_page(resource, cursor=cursor, params=params)
            yield result
            if not result.next_cursor:
                return
            cursor = result.next_cursor
