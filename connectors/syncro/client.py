"""Syncro REST API v1 client (thin; no database).

Sources: specs/syncro-openapi.json (paths, parameters, envelopes), vendor-apis.md §1.2 (Bearer
header per the spec, ``api_key`` query as a fallback), §1.3 (180 requests/min per IP; a 429 may
carry no ``Retry-After``: we wait 60 s, seed ``/syncro`` "429: rate limited (wait 60s and
retry)"), §1.4 (``meta.total_pages``; page sizes differ per endpoint and contradict the docs, so
we never assume one), §1.7 (error shapes, normalised in connectors.errors), §1.8/§1.9 (wrappers:
``{"ticket": …}``, ``{"comment": …}``, flat ``add_line_item``).
"""

from __future__ import annotations

from typing import Any

import httpx

from connectors.http import Page, RequestGate, VendorClient, iter_numbered_pages, make_http_client
from connectors.models import SyncroAuthMode

#: list endpoints: resource -> (path, envelope key)
LIST_ENDPOINTS: dict[str, tuple[str, str]] = {
    "customers": ("customers", "customers"),
    "contacts": ("contacts", "contacts"),
    "products": ("products", "products"),
    "tickets": ("tickets", "tickets"),
    "invoices": ("invoices", "invoices"),
    "line_items": ("line_items", "line_items"),
    "ticket_timers": ("ticket_timers", "ticket_timers"),
}


class SyncroClient:
    """Syncro API for one subdomain and one user's token.

    Args:
        http: an httpx.Client whose base URL ends in ``/api/v1`` (see `SyncroClient.build`).
        token: the Syncro user's API token; sent as ``Authorization: Bearer`` unless
            `auth_mode` is "query" (then ``?api_key=``, vendor-apis.md §1.2).
        gate: the shared rate limiter (connectors.ratelimit.ConnectionGate) or None.
    """

    vendor = "syncro"

    def __init__(
        self,
        http: httpx.Client,
        *,
        token: str | None = None,
        auth_mode: str = SyncroAuthMode.BEARER,
        gate: RequestGate | None = None,
    ) -> None:
        self._api = _SyncroHTTP(http, gate=gate, token=token, auth_mode=auth_mode)

    @classmethod
    def build(
        cls,
        base_url: str,
        token: str,
        *,
        auth_mode: str = SyncroAuthMode.BEARER,
        gate: RequestGate | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> SyncroClient:
        """A client for `base_url` with `token` as a Bearer header, or as ``?api_key=`` when
        `auth_mode` is "query" (vendor-apis.md §1.2)."""
        headers = {"Authorization": f"Bearer {token}"} if auth_mode != SyncroAuthMode.QUERY else {}
        http = make_http_client(base_url, transport=transport, headers=headers)
        return cls(http, token=token, auth_mode=auth_mode, gate=gate)

    @property
    def gate(self) -> RequestGate:
        """The request gate (rate limiter) this client reports to."""
        return self._api.gate

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._api.http.close()

    # --- identity -----------------------------------------------------------------------
    def me(self) -> dict:
        """GET /me -> ``{"user_id": int, "user_name": str, "user_email": str, "admin": bool,
        "subdomain": str, "permissions": {...}}``. Raises AuthError on a bad token."""
        return self._api.get("me", kind="write")

    def verify(self) -> tuple[str, str]:
        """``("Winter Reyes (user_id=1737)", "1737")`` from GET /me (seed ``/syncro``)."""
        me = self.me()
        return f"{me.get('user_name')} (user_id={me.get('user_id')})", str(me.get("user_id", ""))

    def users(self) -> list[list]:
        """GET /users -> ``[[id, name], ...]`` (spec example: pairs, not objects; no paging)."""
        body = self._api.get("users")
        users = body.get("users") if isinstance(body, dict) else None
        return users if isinstance(users, list) else []

    def ticket_settings(self) -> dict:
        """GET /tickets/settings -> the account's ``ticket_status_list``, ``ticket_types``,
        ``priorities``, ``default_labor_product_id`` … (spec; statuses are per account)."""
        body = self._api.get("tickets/settings")
        return body if isinstance(body, dict) else {}

    # --- pagination ---------------------------------------------------------------------
    def list_page(self, resource: str, *, page: int = 1, params: dict | None = None) -> Page:
        """One page of a list endpoint in `LIST_ENDPOINTS`.

        The next page exists while ``page < meta.total_pages``; without ``meta`` (products and
        timelogs show none in the spec examples) while the page was not empty.
        """
        path, key = LIST_ENDPOINTS[resource]
        return self._page(path, key, page=page, params=params)

    def ticket_comments_page(
        self, ticket_id: int, *, page: int = 1, params: dict | None = None
    ) -> Page:
        """GET /tickets/{id}/comments (plural for GET; POST is singular ``/comment``)."""
        return self._page(f"tickets/{ticket_id}/comments", "comments", page=page, params=params)

    def _page(self, path: str, key: str, *, page: int, params: dict | None) -> Page:
        body = self._api.get(path, params={**(params or {}), "page": page}) or {}
        records = body.get(key) or []
        if not isinstance(records, list):
            records = []
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        total_pages = _int(meta.get("total_pages"))
        if total_pages is not None:
            next_page = page + 1 if page < total_pages and records else None
        else:
            next_page = page + 1 if records else None
        return Page(
            records=records,
            number=page,
            next_page=next_page,
            total_pages=total_pages,
            total_records=_int(meta.get("total_entries")),
            meta=meta,
        )

    def iter_pages(self, resource: str, *, params: dict | None = None, start: int = 1):
        """Yield `Page` objects from `start` to the last page (capped at 100 000 pages)."""
        return iter_numbered_pages(self.list_page, resource, params=params, start=start)

    # --- reads used by billing ------------------------------------------------------------
    def get_ticket(self, ticket_id: int) -> dict:
        """GET /tickets/{id}, unwrapped from ``{"ticket": {...}}``."""
        return _unwrap(self._api.get(f"tickets/{ticket_id}", kind="write"), "ticket")

    def get_invoice(self, invoice_id: int | str) -> dict:
        """GET /invoices/{id} (id or number), unwrapped from ``{"invoice": {...}}``."""
        return _unwrap(self._api.get(f"invoices/{invoice_id}", kind="write"), "invoice")

    def list_ticket_comments(self, ticket_id: int, **params: Any) -> list[dict]:
        """Every comment of a ticket (all pages), e.g. to find an outbox marker."""
        out: list[dict] = []
        page = 1
        while True:
            body = self._api.get(
                f"tickets/{ticket_id}/comments", params={**params, "page": page}, kind="write"
            )
            result = body.get("comments") or []
            out.extend(result)
            total = _int((body.get("meta") or {}).get("total_pages"))
            if not result or total is None or page >= total:
                return out
            page += 1

    # --- writes (sent once; never retried here) -------------------------------------------
    def create_comment(
        self,
        ticket_id: int,
        *,
        subject: str,
        body: str,
        hidden: bool = True,
        do_not_email: bool = True,
        tech: str | None = None,
    ) -> dict:
        """POST /tickets/{id}/comment -> the comment (unwrapped from ``{"comment": …}``).

        `subject` is required in practice (vendor-apis.md §1.9); ``hidden=False,
        do_not_email=False`` e-mails the customer, so both default to the safe side.
        """
        payload: dict[str, Any] = {
            "subject": subject,
            "body": body,
            "hidden": hidden,
            "do_not_email": do_not_email,
        }
        if tech:
            payload["tech"] = tech
        return _unwrap(
            self._api.write("POST", f"tickets/{ticket_id}/comment", json=payload), "comment"
        )

    def add_line_item(self, ticket_id: int, payload: dict) -> dict:
        """POST /tickets/{id}/add_line_item (needs ``name`` and ``description``); flat response."""
        return _unwrap(
            self._api.write("POST", f"tickets/{ticket_id}/add_line_item", json=payload),
            "ticket_line_item",
        )

    def charge_timer_entry(self, ticket_id: int, timer_entry_id: int) -> dict:
        """POST /tickets/{id}/charge_timer_entry: NOT idempotent (charging twice bills twice)."""
        return _unwrap(
            self._api.write(
                "POST",
                f"tickets/{ticket_id}/charge_timer_entry",
                json={"timer_entry_id": timer_entry_id},
            ),
            "timer_entry",
        )

    def update_ticket(self, ticket_id: int, payload: dict) -> dict:
        """PUT /tickets/{id} -> the ticket (unwrapped)."""
        return _unwrap(self._api.write("PUT", f"tickets/{ticket_id}", json=payload), "ticket")

    def create_ticket(self, payload: dict) -> dict:
        """POST /tickets -> the ticket (unwrapped from ``{"ticket": …}``). Not idempotent."""
        return _unwrap(self._api.write("POST", "tickets", json=payload), "ticket")

    def create_invoice(self, payload: dict) -> dict:
        """POST /invoices -> the invoice (unwrapped; no ``line_items`` in the response)."""
        return _unwrap(self._api.write("POST", "invoices", json=payload), "invoice")


class _SyncroHTTP(VendorClient):
    vendor = "syncro"
    retry_after_default = 60.0  # seed /syncro: "429: rate limited (wait 60s and retry)"

    def __init__(self, http: httpx.Client, *, gate, token: str | None, auth_mode: str) -> None:
        super().__init__(http, gate=gate)
        self._query_token = token if auth_mode == SyncroAuthMode.QUERY else None
        if self._query_token:
            from accounts.logging import register_secret

            register_secret(self._query_token)

    def _prepare(self, params: dict | None) -> dict | None:
        if self._query_token:
            return {**(params or {}), "api_key": self._query_token}
        return params


def _unwrap(body: Any, key: str) -> dict:
    """``{"ticket": {...}}`` -> ``{...}``; flat bodies are returned unchanged."""
    if isinstance(body, dict) and isinstance(body.get(key), dict):
        return body[key]
    return body if isinstance(body, dict) else {}


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
