"""The small error family every vendor client raises, and the one vendor error normaliser.

Shapes (healthchecks' transports style: each error says whether trying again can help):

=====================  =========  =============================================================
error                  permanent  raised for
=====================  =========  =============================================================
``AuthError``          yes        401/403: bad, expired or under-privileged key
``NotFound``           yes        404
``ValidationError``    yes        400/409/422: the vendor refused the payload (``messages``)
``RateLimited``        no         429, or our own limiter/quota says wait (``retry_after`` s)
``QuotaExhausted``     no         a daily quota is (nearly) spent; ``resume_at`` is the reset
``TransientError``     no         5xx on a safe request, connect/pool timeouts (never sent)
``AmbiguousError``     no         a write may or may not have happened (read timeout, reset,
                                  5xx or unreadable body after a POST): verify before re-sending
=====================  =========  =============================================================

Sources: vendor-apis.md §1.7 (Syncro's many 4xx body shapes), §3.3 (FieldCamp's ``error`` is a
string on the errors page and an object in the v1 quickstart), reliability.md §1.1 (httpx
timeout taxonomy: connect/pool never sent; read/write ambiguous).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx


class VendorError(Exception):
    """Base of every vendor error.

    Attributes:
        vendor: "syncro" | "synchroteam" | "fieldcamp".
        status: the HTTP status, or None when no response arrived.
        messages: the vendor's own messages, normalised to a list of strings.
        permanent: True when sending the same request again cannot succeed.
    """

    permanent = True
    kind = "error"

    def __init__(
        self,
        message: str,
        *,
        vendor: str = "",
        status: int | None = None,
        messages: list[str] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.vendor = vendor
        self.status = status
        self.messages = messages if messages is not None else ([message] if message else [])
        self.body = body

    @property
    def vendor_message(self) -> str:
        """The vendor's messages joined for display ("Subject can't be blank; Body can't be blank")."""
        return "; ".join(self.messages) or str(self)


class AuthError(VendorError):
    kind = "auth"


class NotFound(VendorError):
    kind = "not_found"


class ValidationError(VendorError):
    kind = "validation"


class ConflictError(ValidationError):
    """409: FieldCamp duplicate ``jobNumber`` or "a sync is already in flight" (vendor-apis §3.3/§3.5)."""

    kind = "conflict"


class RateLimited(VendorError):
    """Wait ``retry_after`` seconds before the next request to this vendor scope."""

    permanent = False
    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after: float, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = float(retry_after)


class QuotaExhausted(RateLimited):
    """A daily quota is spent (Synchroteam ``X-Quota-Remaining``); work resumes at ``resume_at``."""

    kind = "quota"

    def __init__(self, message: str, *, resume_at: dt.datetime, **kwargs) -> None:
        retry_after = max(0.0, (resume_at - dt.datetime.now(dt.UTC)).total_seconds())
        super().__init__(message, retry_after=retry_after, **kwargs)
        self.resume_at = resume_at


class TransientError(VendorError):
    permanent = False
    kind = "transient"


class AmbiguousError(VendorError):
    """The request may have been applied: never re-send without checking (reliability.md §1.2)."""

    permanent = False
    kind = "ambiguous"


def _flatten(value: Any, prefix: str = "") -> list[str]:
    """Strings, lists and nested field maps -> a flat list of human messages."""
    if value is None or value == "" or value == [] or value == {}:
        return []
    if isinstance(value, str):
        return [f"{prefix}{value}" if prefix else value]
    if isinstance(value, list | tuple):
        out: list[str] = []
        for item in value:
            out.extend(_flatten(item, prefix))
        return out
    if isinstance(value, dict):
        # FieldCamp error objects: {"code": "...", "message": "..."}
        if "message" in value and isinstance(value["message"], str):
            code = value.get("code")
            return [f"{code}: {value['message']}" if code else value["message"]]
        out = []
        for key, item in value.items():
            out.extend(_flatten(item, f"{prefix}{key} "))
        return out
    return [str(value)]


_ENVELOPE_KEYS = {"success", "params", "record", "data", "meta"}


def vendor_messages(body: Any) -> list[str]:
    """Normalise any vendor error body to a list of messages.

    Order (vendor-apis.md §1.7 "[INFERRED] normalise in one place"): ``errors``, then ``error``,
    then ``message`` (each may be a string, a list or a nested map), then a top-level field map
    such as Syncro's POST /estimates ``{"customer_id": ["can't be blank"]}``.

    >>> vendor_messages({"success": False, "message": ["Subject can't be blank"]})
    ["Subject can't be blank"]
    >>> vendor_messages({"errors": "Name can't be blank, Description can't be blank", "params": {}})
    ["Name can't be blank, Description can't be blank"]
    >>> vendor_messages({"customer_id": ["can't be blank"]})
    ["customer_id can't be blank"]
    """
    if body is None:
        return []
    if isinstance(body, str):
        return [body.strip()] if body.strip() else []
    if not isinstance(body, dict):
        return _flatten(body)
    for key in ("errors", "error", "message"):
        found = _flatten(body.get(key))
        if found:
            return found
    rest = {k: v for k, v in body.items() if k not in _ENVELOPE_KEYS}
    return _flatten(rest)


def _json_or_text(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def parse_retry_after(value: str | None, *, default: float) -> float:
    """``Retry-After`` in seconds (delta-seconds or HTTP-date, RFC 9110 §10.2.3); `default` if absent."""
    if not value:
        return default
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def error_from_response(
    vendor: str, response: httpx.Response, *, safe: bool, retry_after_default: float = 60.0
) -> VendorError:
    """Map a non-2xx response to the error family.

    Args:
        safe: the request was a GET (a 5xx is then transient); for writes a 5xx is ambiguous.
        retry_after_default: seconds to wait on a 429 without ``Retry-After`` (Syncro: 60 s,
            seed ``/syncro`` "429: rate limited (wait 60s and retry)").
    """
    status = response.status_code
    body = _json_or_text(response)
    messages = vendor_messages(body) or [response.reason_phrase or f"HTTP {status}"]
    text = f"{vendor} {response.request.method} {response.request.url.path} → {status}: " + (
        "; ".join(messages)
    )
    common = {"vendor": vendor, "status": status, "messages": messages, "body": body}
    if status in (401, 403):
        return AuthError(text, **common)
    if status == 404:
        return NotFound(text, **common)
    if status == 409:
        return ConflictError(text, **common)
    if status == 429:
        wait = parse_retry_after(response.headers.get("Retry-After"), default=retry_after_default)
        return RateLimited(text, retry_after=wait, **common)
    if 400 <= status < 500:
        return ValidationError(text, **common)
    if safe:
        return TransientError(text, **common)
    return AmbiguousError(text, **common)


def error_from_exception(vendor: str, exc: httpx.HTTPError, *, safe: bool) -> VendorError:
    """httpx transport failures: never-sent ones are transient; after-send ones are ambiguous
    for writes (reliability.md §1.1: ConnectTimeout/PoolTimeout never sent; Read/WriteTimeout,
    RemoteProtocolError, ReadError after the request left)."""
    text = f"{vendor}: {exc.__class__.__name__}: {exc}"
    never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    if safe or never_sent:
        return TransientError(text, vendor=vendor)
    return AmbiguousError(text, vendor=vendor)
