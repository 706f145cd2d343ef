"""Request usage bookkeeping (`RequestUsage`: requests and 429s per scope, connection and minute),
kept off the hot path of a vendor request.

* `count(scope, connection_id, throttled=...)`: add one request to this process's in-memory
  tally; the tally is written (`flush`) once ``RATE_LIMIT_USAGE_FLUSH_REQUESTS`` requests are
  pending or ``RATE_LIMIT_USAGE_FLUSH_SECONDS`` have passed since the last write, and at once
  for a 429 or when the caller asks (writes, interactive requests).
* `flush()`: write the tally, one ``UPDATE ... SET requests = requests + n`` per (scope,
  connection, minute) (an INSERT for a new minute). Called by the sync service at the end of
  every batch of runs and at interpreter exit (`atexit`), so nothing counted is lost.
* `record_usage(...)`: write one request at once (tests, one-off scripts).
* `prune_usage(days=None)`: delete rows older than ``REQUEST_USAGE_RETENTION_DAYS`` (the nightly
  ``usage:prune`` schedule, ``manage.py prune_usage``).

The counts are for display and forecasts (budget bars, the hourly chart, the sync forecast); the
budgets themselves are enforced by the shared limiter (`connectors.ratelimit`), never by these
rows, so a few seconds of lag on the pages costs no guarantee.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import threading
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from connectors.models import RequestUsage

_lock = threading.Lock()
#: (scope, connection id, minute) -> [requests, throttled] not yet written
_pending: dict[tuple[str, int | None, dt.datetime], list[int]] = {}
_state = {"requests": 0, "flushed_at": time.monotonic()}


def _minute() -> dt.datetime:
    return timezone.now().replace(second=0, microsecond=0)


def count(scope: str, connection_id: int | None, *, throttled: bool, now: bool = False) -> None:
    """Count one request (and a 429) of `scope` and `connection_id` in this minute.

    Written at once when `now` or `throttled`; otherwise when the pending tally reaches
    ``RATE_LIMIT_USAGE_FLUSH_REQUESTS`` requests or ``RATE_LIMIT_USAGE_FLUSH_SECONDS`` seconds.
    """
    key = (scope, connection_id, _minute())
    with _lock:
        tally = _pending.setdefault(key, [0, 0])
        tally[0] += 1
        tally[1] += int(throttled)
        _state["requests"] += 1
        due = (
            now
            or throttled
            or _state["requests"] >= settings.RATE_LIMIT_USAGE_FLUSH_REQUESTS
            or time.monotonic() - _state["flushed_at"] >= settings.RATE_LIMIT_USAGE_FLUSH_SECONDS
        )
    if due:
        flush()


def pending() -> int:
    """Requests counted in this process and not yet written."""
    with _lock:
        return sum(t[0] for t in _pending.values())


def discard() -> None:
    """Drop the pending tally without writing it (tests, between databases)."""
    with _lock:
        _pending.clear()
        _state["requests"] = 0
        _state["flushed_at"] = time.monotonic()


def flush() -> int:
    """Write the pending tally to `RequestUsage`; returns the requests written.

    On a database error the tally is kept for the next flush and the error is raised.
    """
    with _lock:
        batch = dict(_pending)
        _pending.clear()
        _state["requests"] = 0
        _state["flushed_at"] = time.monotonic()
    written = 0
    try:
        for (scope, connection_id, minute), (requests, throttled) in batch.items():
            _add(scope, connection_id, minute, requests, throttled)
            written += requests
            batch[(scope, connection_id, minute)] = [0, 0]
    except Exception:
        with _lock:
            for key, (requests, throttled) in batch.items():
                if requests:
                    tally = _pending.setdefault(key, [0, 0])
                    tally[0] += requests
                    tally[1] += throttled
                    _state["requests"] += requests
        raise
    return written


def _add(scope: str, connection_id, minute: dt.datetime, requests: int, throttled: int) -> None:
    inc = {"requests": F("requests") + requests, "throttled": F("throttled") + throttled}
    qs = RequestUsage.objects.filter(scope=scope, connection_id=connection_id, minute=minute)
    if qs.update(**inc):
        return
    try:
        with transaction.atomic():
            RequestUsage.objects.create(
                scope=scope,
                connection_id=connection_id,
                minute=minute,
                requests=requests,
                throttled=throttled,
            )
    except IntegrityError:
        qs.update(**inc)


def record_usage(scope: str, connection_id: int | None, *, throttled: bool) -> None:
    """Count one request (and a 429) in this minute's `RequestUsage` row, written at once."""
    _add(scope, connection_id, _minute(), 1, int(throttled))


def prune_usage(*, days: int | None = None, now: dt.datetime | None = None) -> int:
    """Delete `RequestUsage` rows whose minute is more than `days` (default
    ``REQUEST_USAGE_RETENTION_DAYS``) before `now`; returns how many were deleted."""
    days = settings.REQUEST_USAGE_RETENTION_DAYS if days is None else days
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted, _ = RequestUsage.objects.filter(minute__lt=cutoff).delete()
    return deleted


def _flush_at_exit() -> None:
    with contextlib.suppress(Exception):  # the database may already be gone at exit
        flush()


atexit.register(_flush_at_exit)
