"""The delivery signature (Stripe's scheme, docs/webhooks.md).

Header ``Fieldline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``, the HMAC keyed with the
endpoint's secret over ``"<t>." + body`` (the raw body bytes as sent). Receivers recompute it,
compare in constant time and refuse timestamps older than their tolerance (replays).
Source: Stripe, "Verify webhook signatures manually" (docs.stripe.com/webhooks#verify-manually).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.views.decorators.debug import sensitive_variables

HEADER = "Fieldline-Signature"
SCHEME = "v1"


@sensitive_variables("secret")
def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}." + body`` keyed with `secret`."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@sensitive_variables("secret")
def signature_header(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The ``Fieldline-Signature`` value for `body` at `timestamp` (default: now)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},{SCHEME}={signature(secret, t, body)}"


@sensitive_variables("secret")
def verify(
    secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None
) -> bool:
    """What a receiver does: True when `header` carries a ``v1`` signature of `body` made with
    `secret` and its ``t`` is within `tolerance` seconds of `now`. Never raises on a malformed
    header (it is just False)."""
    parts: dict[str, list[str]] = {}
    for item in (header or "").split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        t = int(parts.get("t", [""])[0])
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - t) > tolerance:
        return False
    expected = signature(secret, t, body)
    return any(hmac.compare_digest(expected, given) for given in parts.get(SCHEME, []))
