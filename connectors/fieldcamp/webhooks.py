"""FieldCamp's inbound webhook contract (vendor-apis.md §3.7).

``X-FieldCamp-Signature`` = HMAC-SHA256 of the raw body with the secret, hex (a ``sha256=``
prefix is accepted). The exact signing string is not documented (§3.7 [NOT FOUND]); we decided
on the raw body alone (docs/dispatch.md, README "Vendor notes"). The signature covers no header,
so the delivery id and any timestamp header are unsigned: a delivery is deduplicated by
``X-FieldCamp-Delivery-Id`` ("for deduplication") **and** by the envelope ``id`` (signed, in the
body; else the body's SHA-256), and refused when the envelope's signed ``created_at`` is older
than ``FIELDCAMP_WEBHOOK_MAX_AGE_SECONDS``. Envelope ``{"id", "type", "created_at",
"api_version", "data": {"object", "previous_attributes"}}``; the type's prefix
(``visit.updated`` -> ``visit``) names the mirror stream to refresh.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping

from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.views.decorators.debug import sensitive_variables

from connectors.webhooks.services import Refresh, header_bytes

#: event type prefix -> the mirror stream that holds that record
EVENT_STREAMS = {
    "visit": "visits",
    "schedule": "visits",
    "job": "visits",
    "invoice": "invoices",
    "payment": "invoices",
}


@sensitive_variables()
def fieldcamp_signature(secret: str, body: bytes) -> bytes:
    """Hex HMAC-SHA256 of `body` with `secret`, as ASCII bytes (what FieldCamp sends, per our
    decision)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode("ascii")


class FieldCampWebhook:
    """`connectors.webhooks.services.WebhookSpec` for FieldCamp: signed bodies, stream runs."""

    delivery_header = "X-FieldCamp-Delivery-Id"
    fetch_record = None

    @sensitive_variables()
    def verify(self, *, secret: str, body: bytes, headers: Mapping, path_token: str) -> bool:
        """The ``X-FieldCamp-Signature`` matches the body's HMAC; compared as bytes in constant
        time, so any header value (non-ASCII, random bytes) is just "no match"."""
        given = header_bytes(headers.get("X-FieldCamp-Signature")).strip().lower()
        if given.startswith(b"sha256="):
            given = given[7:]
        return bool(given) and hmac.compare_digest(given, fieldcamp_signature(secret, body))

    def event_id(self, *, payload: dict, body: bytes) -> str:
        """The envelope's ``id`` (a string or number), else ``sha256:<hex of the body>``, so the
        same signed body is one event whatever delivery id comes with it."""
        value = payload.get("id")
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()[:120]
        return "sha256:" + hashlib.sha256(body).hexdigest()

    def stale_reason(self, *, payload: dict, now: dt.datetime) -> str:
        """Why the event is refused by age ("" when it is not): an envelope ``created_at``
        (ISO 8601, UTC when naive) older than ``FIELDCAMP_WEBHOOK_MAX_AGE_SECONDS``, or present
        but not a timestamp. An envelope without ``created_at`` is not checked."""
        if "created_at" not in payload:
            return ""
        value = payload["created_at"]
        try:
            created = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:  # well-formed but impossible ("2026-13-45T25:61:00Z")
            created = None
        if created is None:
            return "created_at is not a timestamp"
        if created.tzinfo is None:
            created = created.replace(tzinfo=dt.UTC)
        max_age = settings.FIELDCAMP_WEBHOOK_MAX_AGE_SECONDS
        if now - created > dt.timedelta(seconds=max_age):
            return f"the event is too old (created {created:%Y-%m-%d %H:%M:%S} UTC, window {max_age} s)"
        return ""

    def refresh_for(self, *, payload: dict, event_type: str) -> Refresh:
        """A ``webhook`` run of the stream holding the record (by the type's prefix)."""
        prefix = event_type.split(".", 1)[0]
        stream = EVENT_STREAMS.get(prefix)
        if stream is None:
            return Refresh(None, note=f"no mirror for {prefix or 'this event'}")
        return Refresh(stream)
