"""HTTP plumbing shared by the three vendor clients.

* `make_http_client(base_url, ...)`: an `httpx.Client` with explicit timeouts (settings
  ``CONNECTORS_HTTP_*_TIMEOUT``), our User-Agent, and the transport from
  ``settings.CONNECTORS_TRANSPORT`` when set (the in-process sandbox, a test's MockTransport).
* `RequestGate`: what a client calls before and after every request (the shared rate limiter in
  production, `NullGate` in unit tests). Clients never touch the database; gates may.
* `VendorClient`: the base of every client: send, normalise errors (connectors.errors), unwrap
  JSON, retry safe GETs with exponential backoff and jitter through stamina honouring
  ``Retry-After``. Writes (POST/PUT/PATCH/DELETE) are sent exactly once: re-sending is the
  outbox's decision (reliability.md §1.2).
* `Page`: one page of a list endpoint, whatever the vendor's pagination scheme.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import stamina
from django.conf import settings
from django.utils.module_loading import import_string
from django.views.decorators.debug import sensitive_variables

from accounts.logging import register_secret
from connectors.errors import (
    AmbiguousError,
    QuotaExhausted,
    RateLimited,
    TransientError,
    error_from_exception,
    error_from_response,
)

USER_AGENT = "Fieldline/0.1 (+sync)"
SAFE_METHODS = frozenset({"GET", "HEAD"})


def http_timeout() -> httpx.Timeout:
    """Explicit connect/read/write/pool timeouts in seconds (settings, never httpx's 5 s default)."""
    return httpx.Timeout(
        connect=settings.CONNECTORS_HTTP_CONNECT_TIMEOUT,
        read=settings.CONNECTORS_HTTP_READ_TIMEOUT,
        write=settings.CONNECTORS_HTTP_WRITE_TIMEOUT,
        pool=settings.CONNECTORS_HTTP_POOL_TIMEOUT,
    )


def configured_transport() -> httpx.BaseTransport | None:
    """The transport named by ``settings.CONNECTORS_TRANSPORT`` (dotted path of a zero-argument
    factory or class, or the callable itself); None = httpx's real network transport."""
    spec = getattr(settings, "CONNECTORS_TRANSPORT", None)
    if not spec:
        return None
    factory = import_string(spec) if isinstance(spec, str) else spec
    return factory() if callable(factory) else factory


@sensitive_variables("headers", "auth", "params", "value")
def make_http_client(
    base_url: str,
    *,
    transport: httpx.BaseTransport | None = None,
    headers: dict[str, str] | None = None,
    auth: httpx.Auth | tuple[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Client:
    """An httpx.Client for one vendor account. Secrets in `headers`, `auth` and `params` are
    registered for log redaction (accounts.logging) before any request can be logged."""
    for value in (headers or {}).values():
        register_secret(value.split(" ", 1)[-1])
    for value in (params or {}).values():
        register_secret(value)
    if isinstance(auth, tuple):
        register_secret(auth[1])
    return httpx.Client(
        base_url=base_url.rstrip("/") + "/",
        timeout=http_timeout(),
        transport=transport if transport is not None else configured_transport(),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
        auth=auth,
        params=params,
        follow_redirects=False,
    )


#: How JSON writes U+0000 (a bare NUL byte is not valid JSON: `VendorClient._json` refuses it).
NUL_ESCAPE = b"\\u0000"


def without_nul(value: Any) -> Any:
    """`value` (decoded JSON: dicts, lists, strings, numbers) with every U+0000 removed from its
    strings and keys. PostgreSQL refuses the character in ``text`` ("invalid byte sequence")
    and in ``jsonb`` ("unsupported Unicode escape sequence"); no vendor field means anything
    by it. Returns a new structure; other values are returned as they are."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


class RequestGate(Protocol):
    """Called around every vendor request.

    ``before`` blocks until the request may be sent, or raises `RateLimited` / `QuotaExhausted`.
    ``after`` sees every response (or None when none came back) to record usage, quota headers
    and 429 pauses. ``kind`` is "read" (background sync) or "write" (writes and interactive
    reads, served first).
    """

    def before(self, *, method: str, path: str, kind: str) -> None: ...

    def after(self, response: httpx.Response | None, *, method: str, kind: str) -> None: ...


class NullGate:
    """No limiting, only counting (unit tests, one-off scripts)."""

    def __init__(self) -> None:
        self.requests = 0
        self.throttled = 0

    def before(self, *, method: str, path: str, kind: str) -> None:
        return None

    def after(self, response: httpx.Response | None, *, method: str, kind: str) -> None:
        self.requests += 1
        if response is not None and response.status_code == 429:
            self.throttled += 1


@dataclass
class Page:
    """One page of a list endpoint.

    Attributes:
        records: the items, as the vendor sent them.
        number: the page number fetched (page-number schemes), else None.
        next_page: the page to fetch next, None when this was the last.
        next_cursor: the opaque cursor of the next page (cursor schemes), None when last.
        total_pages: Syncro ``meta.total_pages`` when sent.
        total_records: Synchroteam ``recordsTotal`` / Syncro ``total_entries`` when sent.
    """

    records: list[dict]
    number: int | None = None
    next_page: int | None = None
    next_cursor: str | None = None
    total_pages: int | None = None
    total_records: int | None = None
    meta: dict = field(default_factory=dict)

    @property
    def is_last(self) -> bool:
        return self.next_page is None and self.next_cursor is None


def iter_numbered_pages(list_page, resource: str, *, params: dict | None = None, start: int = 1):
    """Yield `Page`s of a page-number list from `start` until a page says it is the last.

    Args:
        list_page: ``list_page(resource, page=n, params=...) -> Page`` of the vendor client.
    Capped at 100 000 pages so a vendor that never stops cannot loop forever.
    """
    page = start
    for _ in range(100_000):
        result = list_page(resource, page=page, params=params)
        yield result
        if result.next_page is None:
            return
        page = result.next_page


class VendorClient:
    """Base class: one instance per (connection, credential), over an injected httpx.Client.

    Subclasses set `vendor`, `retry_after_default` and implement pagination and envelopes.
    """

    vendor = ""
    retry_after_default = 5.0  # seconds to wait on a 429 that has no Retry-After

    def __init__(self, http: httpx.Client, *, gate: RequestGate | None = None) -> None:
        self.http = http
        self.gate: RequestGate = gate or NullGate()

    # --- sending -------------------------------------------------------------------------
    def _prepare(self, params: dict | None) -> dict | None:
        """Hook for auth that travels in the query string (Syncro ``api_key`` fallback)."""
        return params

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json: Any = None,
        kind: str,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        safe = method in SAFE_METHODS
        self.gate.before(method=method, path=path, kind=kind)
        try:
            response = self.http.request(
                method, path.lstrip("/"), params=self._prepare(params), json=json, headers=headers
            )
        except httpx.HTTPError as exc:
            self.gate.after(None, method=method, kind=kind)
            raise error_from_exception(self.vendor, exc, safe=safe) from exc
        self.gate.after(response, method=method, kind=kind)
        if response.status_code >= 400:
            raise error_from_response(
                self.vendor, response, safe=safe, retry_after_default=self.retry_after_default
            )
        return response

    def _json(self, response: httpx.Response, *, safe: bool) -> Any:
        """The answer's JSON (None for an empty one), U+0000 removed (`without_nul`: PostgreSQL's
        text and jsonb cannot hold it, so this one door every vendor answer comes through keeps
        a mirror page from being refused for one character). Raises `TransientError` (a safe
        request) or `AmbiguousError` when the body is not JSON or nests too deep to read."""
        if response.status_code == 204 or not response.content:
            return None
        try:
            data = response.json()
            return without_nul(data) if NUL_ESCAPE in response.content else data
        except (ValueError, RecursionError) as exc:
            cls = TransientError if safe else AmbiguousError
            raise cls(
                f"{self.vendor}: unreadable JSON from {response.request.url.path}",
                vendor=self.vendor,
                status=response.status_code,
            ) from exc

    def _retry_hook(self, exc: Exception) -> bool | float:
        """stamina `on=` hook: which GET failures to retry and how long to wait (seconds).

        429: wait Retry-After (or the vendor default), unless it is longer than
        ``CONNECTORS_RETRY_AFTER_MAX`` (then the caller pauses instead of sleeping in a worker).
        Quota exhaustion is never retried here. Transient errors: stamina's exponential backoff
        with jitter.
        """
        if isinstance(exc, QuotaExhausted):
            return False
        if isinstance(exc, RateLimited):
            if exc.retry_after > settings.CONNECTORS_RETRY_AFTER_MAX:
                return False
            return exc.retry_after
        return isinstance(exc, TransientError)

    def get(self, path: str, *, params: dict | None = None, kind: str = "read") -> Any:
        """GET with retries (stamina: exponential backoff + jitter, ``Retry-After`` honoured).

        Raises:
            AuthError, NotFound, ValidationError: at once (permanent).
            RateLimited, QuotaExhausted, TransientError: when retries are used up.
        """
        for attempt in stamina.retry_context(
            on=self._retry_hook,
            attempts=settings.CONNECTORS_GET_RETRY_ATTEMPTS,
            timeout=settings.CONNECTORS_GET_RETRY_TIMEOUT,
            wait_initial=settings.CONNECTORS_GET_RETRY_WAIT_INITIAL,
            wait_max=settings.CONNECTORS_GET_RETRY_WAIT_MAX,
        ):
            with attempt:
                return self._json(self._send("GET", path, params=params, kind=kind), safe=True)
        raise AssertionError("unreachable")  # pragma: no cover

    def write(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """A POST/PUT/PATCH/DELETE, sent once. Raises the error family; `AmbiguousError` when
        the outcome is unknown (read timeout, reset, 5xx or unreadable body after sending)."""
        response = self._send(method, path, params=params, json=json, kind="write", headers=headers)
        return self._json(response, safe=False)
