"""Bounds on what an unauthenticated webhook request can cost, checked before any parsing.

* `content_length`: the ``Content-Length`` header read strictly (ASCII digits only): a missing
  header is 0 (Django reads nothing either), anything else unreadable is a 400, a value above
  ``WEBHOOK_MAX_BODY_BYTES`` a 413; the view then reads at most limit + 1 bytes.
* `json_depth_exceeds`: a non-recursive scan of the raw body for ``[``/``{`` nesting outside
  strings, so a body nested 50 000 deep never reaches `json.loads` (whose C scanner recurses and
  raises RecursionError). ``WEBHOOK_MAX_JSON_DEPTH`` (default 64; a FieldCamp envelope is about 5).
* `count_bad_signature`: refused signatures counted per connection and minute in one
  `WebhookFailureWindow` row with an atomic ``F()`` increment, so a flood of forged requests
  writes one row a minute, not one per request.
"""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from connectors.models import Connection
from connectors.webhooks.models import WebhookFailureWindow

_DIGITS = re.compile(r"[0-9]{1,19}")
#: what is left of a body once strings are blanked: only the nesting brackets matter
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OTHER_BYTES = bytes(b for b in range(256) if b not in b"[]{}")
#: window rows older than this are deleted when a connection opens a new window
WINDOW_KEEP = dt.timedelta(days=2)


class BodyRefused(ValueError):
    """The request's body cannot be read: ``status`` is the HTTP answer (400 or 413)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def content_length(value: str | None, limit: int) -> int:
    """The body length announced by a ``Content-Length`` header value (bytes).

    Raises:
        BodyRefused: 400 when the value is not a plain non-negative decimal number (``abc``,
            ``-5``, ``1e3``, non-ASCII digits), 413 when it is above `limit`.
    """
    if value is None or value == "":
        return 0
    if not _DIGITS.fullmatch(value):
        if re.fullmatch(r"[0-9]+", value):  # ASCII digits, just very many of them
            raise BodyRefused(413, "Body too large.")
        raise BodyRefused(400, "Content-Length is not a number of bytes.")
    length = int(value)
    if length > limit:
        raise BodyRefused(413, "Body too large.")
    return length


def read_body(request, limit: int) -> bytes:
    """The raw body of `request`, at most `limit` bytes (reads limit + 1 to tell).

    Raises:
        BodyRefused: as `content_length`, or 413 when more than `limit` bytes arrive.
    """
    content_length(request.headers.get("Content-Length"), limit)
    body = request.read(limit + 1)
    if len(body) > limit:
        raise BodyRefused(413, "Body too large.")
    return body


def json_depth_exceeds(body: bytes, max_depth: int) -> bool:
    """True when `body`'s arrays/objects nest deeper than `max_depth` (outside strings).

    Not a JSON validator (`json.loads` comes next): it only guarantees that a body it passes
    cannot exhaust the parser's recursion. Linear in the body's length, no recursion.
    """
    depth = 0
    for byte in _STRING.sub(b'""', body).translate(None, _OTHER_BYTES):
        if byte in b"[{":
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


def window_start(when: dt.datetime) -> dt.datetime:
    """The minute `when` falls in (seconds and microseconds dropped)."""
    return when.replace(second=0, microsecond=0)


def count_bad_signature(connection: Connection, *, now: dt.datetime | None = None) -> bool:
    """Count one refused signature on `connection` in its minute's `WebhookFailureWindow`.

    Race-safe: an ``UPDATE ... SET failures = failures + 1`` of the window's row; when there is
    none yet, an insert in a savepoint, and on a concurrent insert (the unique constraint) the
    update again. Returns True when this call opened the window (the caller then stores one
    `InboundEvent` for the log; the others are only counted).
    """
    now = now or timezone.now()
    start = window_start(now)
    rows = WebhookFailureWindow.objects.filter(connection=connection, window_start=start)
    if rows.update(failures=F("failures") + 1, last_at=now):
        return False
    try:
        with transaction.atomic():
            WebhookFailureWindow.objects.create(
                tenant_id=connection.tenant_id,
                connection=connection,
                window_start=start,
                failures=1,
                last_at=now,
            )
    except IntegrityError:  # another request opened this minute a moment ago
        rows.update(failures=F("failures") + 1, last_at=now)
        return False
    WebhookFailureWindow.objects.filter(
        connection=connection, window_start__lt=start - WINDOW_KEEP
    ).delete()
    return True


def max_json_depth() -> int:
    """``WEBHOOK_MAX_JSON_DEPTH`` (default 64)."""
    return int(getattr(settings, "WEBHOOK_MAX_JSON_DEPTH", 64))
