"""FieldCamp's inbound webhook contract (vendor-apis.md §3.7).

``X-FieldCamp-Signature`` = HMAC-SHA256 of the raw body with the secret, hex (a ``sha256=``
prefix is accepted). The exact signing string is not documented (§3.7 [NOT FOUND]); we decided
on the raw body alone (docs/dispatch.md). Deduplicated by ``X-FieldCamp-Delivery-Id`` ("for
deduplication"), else the envelope ``id``. Envelope ``{"id", "type", "created_at",
"api_version", "data": {"object", "previous_attributes"}}``; the type's prefix
(``visit.updated`` -> ``visit``) names the mirror stream to refresh.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from connectors.webhooks.services import Refresh

#: event type prefix -> the mirror stream that holds that record
EVENT_STREAMS = {
    "visit": "visits",
    "schedule": "visits",
    "job": "visits",
    "invoice": "invoices",
    "payment": "invoices",
}


def fieldcamp_signature(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `body` with `secret` (what FieldCamp sends, per our decision)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class FieldCampWebhook:
    """`connectors.webhooks.services.WebhookSpec` for FieldCamp: signed bodies, stream runs."""

    delivery_header = "X-FieldCamp-Delivery-Id"
    fetch_record = None

    def verify(self, *, secret: str, body: bytes, headers: Mapping, path_token: str) -> bool:
        """The ``X-FieldCamp-Signature`` matches the body's HMAC (constant time)."""
        given = (headers.get("X-FieldCamp-Signature") or "").strip()
        if given.lower().startswith("sha256="):
            given = given[7:]
        return bool(given) and hmac.compare_digest(given.lower(), fieldcamp_signature(secret, body))

    def refresh_for(self, *, payload: dict, event_type: str) -> Refresh:
        """A ``webhook`` run of the stream holding the record (by the type's prefix)."""
        prefix = event_type.split(".", 1)[0]
        stream = EVENT_STREAMS.get(prefix)
        if stream is None:
            return Refresh(None, note=f"no mirror for {prefix or 'this event'}")
        return Refresh(stream)
