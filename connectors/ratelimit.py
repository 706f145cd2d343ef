"""The shared rate limiter: every worker process on every host draws from the same budgets.

Buckets are pyrate-limiter sliding-window logs (never more than N requests in any window), kept
in a SQLite file guarded by a file lock (every process of this host; the embedded default) or in
Redis when ``RATE_LIMIT_REDIS_URL`` is set (every host; atomic Lua script). Limits are settings.

Scopes and budgets (vendor-apis.md §1.3, §2.6, §3.4; reliability.md §2.2):

* Syncro: 180 requests/min **per egress IP**, shared by every tenant. One global bucket
  (``SYNCRO_RATE_BUDGET_PER_MINUTE``) that every request takes from. Background reads also take
  from a reads bucket that is ``SYNCRO_WRITE_RESERVE_PER_MINUTE`` smaller, so writes and
  interactive reads always find room (writes before sync reads), and from a per-tenant reads
  bucket (``SYNCRO_TENANT_READ_SHARE_PER_MINUTE``) so one tenant's backfill cannot starve another.
* Synchroteam: per token, ``SYNCHROTEAM_RATE_BUDGET_PER_MINUTE`` and ``SYNCHROTEAM_DAILY_QUOTA``
  a day; the vendor's ``X-Quota-Remaining`` header is authoritative: at or below
  ``SYNCHROTEAM_QUOTA_RESERVE`` background reads stop with `QuotaExhausted` (the run pauses
  and resumes after the reset) while writes may still use the reserve.
* FieldCamp: per key, ``FIELDCAMP_RATE_BUDGET_PER_MINUTE``, and ``X-RateLimit-Remaining`` /
  ``X-RateLimit-Reset``: at or below ``FIELDCAMP_RATE_RESERVE`` the scope waits for the reset.

A 429 blocks its scope for every worker until ``Retry-After`` has passed (`LimitState`).
Scope keys carry a hash of the credential, never the credential (ASVS 16.2.5).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from pyrate_limiter import Duration, Rate, RateItem
from pyrate_limiter.abstracts import AbstractBucket

from accounts.models import Vendor
from connectors.errors import QuotaExhausted, RateLimited, parse_retry_after
from connectors.models import Connection, LimitState, RequestUsage

_buckets: dict[tuple[str, tuple], AbstractBucket] = {}
_buckets_lock = threading.Lock()
_thread_locks: dict[str, threading.Lock] = {}


def _now_ms() -> int:
    return int(time.time() * 1000)


def _table_name(scope: str) -> str:
    return "rl_" + hashlib.sha256(scope.encode()).hexdigest()[:20]


def _make_bucket(scope: str, rates: list[Rate]) -> AbstractBucket:
    if settings.RATE_LIMIT_REDIS_URL:
        from pyrate_limiter import RedisBucket
        from redis import Redis

        client = Redis.from_url(settings.RATE_LIMIT_REDIS_URL)
        return RedisBucket.init(rates, client, f"fieldline:{_table_name(scope)}")
    from pyrate_limiter import SQLiteBucket

    path = Path(settings.RATE_LIMIT_SQLITE_PATH)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteBucket.init_from_file(
        rates, table=_table_name(scope), db_path=str(path), use_file_lock=True
    )


def bucket_for(scope: str, rates: list[Rate]) -> AbstractBucket:
    """The process-wide bucket object for `scope` (the state itself lives in the shared store)."""
    key = (scope, tuple((r.limit, r.interval) for r in rates))
    with _buckets_lock:
        bucket = _buckets.get(key)
        if bucket is None:
            bucket = _buckets[key] = _make_bucket(scope, rates)
            _thread_locks[scope] = threading.Lock()
    return bucket


def reset_buckets() -> None:
    """Forget cached bucket objects (tests that change limit settings)."""
    with _buckets_lock:
        _buckets.clear()


def take(scope: str, rates: list[Rate], *, deadline: float) -> None:
    """Block until `scope` has room for one request, then record it.

    Args:
        deadline: ``time.monotonic()`` value after which we give up.
    Raises:
        RateLimited: the wait would pass the deadline (``retry_after`` = the wait left).
    """
    bucket = bucket_for(scope, rates)
    lock = _thread_locks[scope]
    while True:
        item = RateItem(scope, _now_ms())
        with lock:  # one thread of this process at a time on the shared connection
            if bucket.put(item):
                if random.random() < 0.01:  # noqa: S311 - occasional clean-up of old entries
                    bucket.leak(_now_ms())
                return
            wait_ms = bucket.waiting(item)
        wait = max(0.02, (wait_ms if wait_ms and wait_ms > 0 else 200) / 1000)
        if time.monotonic() + wait > deadline:
            raise RateLimited(f"rate limit budget {scope} spent", retry_after=wait)
        time.sleep(wait + random.uniform(0, 0.05))  # noqa: S311


def count_in_window(scope: str, rates: list[Rate]) -> int:
    """Entries in the shared bucket (for tests and the status page); sliding window of the
    longest rate."""
    bucket = bucket_for(scope, rates)
    with _thread_locks[scope]:
        bucket.leak(_now_ms())
        return int(bucket.count())


# --- scopes per vendor --------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """One bucket a request must take from."""

    scope: str
    rates: tuple[Rate, ...]
    kinds: tuple[str, ...] = ("read", "write")


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def syncro_global_scope() -> str:
    return f"syncro:egress:{settings.SYNCRO_EGRESS_ID}"


def budgets_for(connection: Connection, secret: str) -> list[Budget]:
    """The buckets requests of this connection take from, tightest first."""
    minute = Duration.MINUTE
    if connection.vendor == Vendor.SYNCRO:
        egress = syncro_global_scope()
        reads = settings.SYNCRO_RATE_BUDGET_PER_MINUTE - settings.SYNCRO_WRITE_RESERVE_PER_MINUTE
        return [
            Budget(
                f"{egress}:tenant:{connection.tenant_id}:reads",
                (Rate(settings.SYNCRO_TENANT_READ_SHARE_PER_MINUTE, minute),),
                ("read",),
            ),
            Budget(f"{egress}:reads", (Rate(max(1, reads), minute),), ("read",)),
            Budget(egress, (Rate(settings.SYNCRO_RATE_BUDGET_PER_MINUTE, minute),)),
        ]
    if connection.vendor == Vendor.SYNCHROTEAM:
        return [
            Budget(
                f"synchroteam:key:{secret_hash(connection.account + ':' + secret)}",
                (
                    Rate(settings.SYNCHROTEAM_RATE_BUDGET_PER_MINUTE, minute),
                    Rate(settings.SYNCHROTEAM_DAILY_QUOTA, Duration.DAY),
                ),
            )
        ]
    return [
        Budget(
            f"fieldcamp:key:{secret_hash(secret)}",
            (Rate(settings.FIELDCAMP_RATE_BUDGET_PER_MINUTE, minute),),
        )
    ]


def usage_scope(connection: Connection, secret: str) -> str:
    """The scope whose budget the status page shows for this connection (the vendor's limit)."""
    return budgets_for(connection, secret)[-1].scope


def per_minute_budget(connection: Connection) -> int:
    if connection.vendor == Vendor.SYNCRO:
        return settings.SYNCRO_RATE_BUDGET_PER_MINUTE
    if connection.vendor == Vendor.SYNCHROTEAM:
        return settings.SYNCHROTEAM_RATE_BUDGET_PER_MINUTE
    return settings.FIELDCAMP_RATE_BUDGET_PER_MINUTE


def daily_budget(connection: Connection) -> int | None:
    if connection.vendor == Vendor.SYNCHROTEAM:
        return settings.SYNCHROTEAM_DAILY_QUOTA
    return None


# --- usage bookkeeping -------------------------------------------------------------------


def record_usage(scope: str, connection_id: int | None, *, throttled: bool) -> None:
    """Count one request (and a 429) in this minute's `RequestUsage` row."""
    minute = timezone.now().replace(second=0, microsecond=0)
    inc = {"requests": F("requests") + 1, "throttled": F("throttled") + int(throttled)}
    qs = RequestUsage.objects.filter(scope=scope, connection_id=connection_id, minute=minute)
    if qs.update(**inc):
        return
    try:
        with transaction.atomic():
            RequestUsage.objects.create(
                scope=scope,
                connection_id=connection_id,
                minute=minute,
                requests=1,
                throttled=int(throttled),
            )
    except IntegrityError:
        qs.update(**inc)


def block_scope(scope: str, until: dt.datetime) -> None:
    """Every worker waits until `until` before calling this scope again (a 429's Retry-After)."""
    state, _ = LimitState.objects.get_or_create(scope=scope)
    if state.blocked_until is None or state.blocked_until < until:
        LimitState.objects.filter(pk=state.pk).update(blocked_until=until)


def next_utc_midnight(now: dt.datetime | None = None) -> dt.datetime:
    now = now or timezone.now()
    return (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def _reset_time(value: str | None, *, default: dt.datetime) -> dt.datetime:
    """``X-*-Reset`` as epoch seconds, seconds from now, or an ISO timestamp."""
    if not value:
        return default
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return default
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    if number > 1_000_000_000:
        return dt.datetime.fromtimestamp(number, tz=dt.UTC)
    return timezone.now() + dt.timedelta(seconds=number)


class ConnectionGate:
    """The `RequestGate` of one connection and credential: shared buckets, vendor pauses,
    quota headers, usage rows, and counters for the running `SyncRun`.

    Attributes read by the sync engine: ``requests``, ``throttled``, ``quota_remaining``.
    """

    def __init__(self, connection: Connection, secret: str, *, max_wait: float | None = None):
        self.connection = connection
        self.budgets = budgets_for(connection, secret)
        self.vendor_scope = self.budgets[-1].scope
        self.max_wait = settings.RATE_LIMIT_MAX_WAIT_SECONDS if max_wait is None else max_wait
        self.requests = 0
        self.throttled = 0
        self.quota_remaining: int | None = None

    # before ----------------------------------------------------------------------------
    def before(self, *, method: str, path: str, kind: str) -> None:
        deadline = time.monotonic() + self.max_wait
        self._respect_vendor_state(kind, deadline)
        for budget in self.budgets:
            if kind in budget.kinds:
                take(budget.scope, list(budget.rates), deadline=deadline)

    def _respect_vendor_state(self, kind: str, deadline: float) -> None:
        state = LimitState.objects.filter(scope=self.vendor_scope).first()
        if state is None:
            return
        now = timezone.now()
        if (
            kind == "read"
            and self.connection.vendor == Vendor.SYNCHROTEAM
            and state.quota_remaining is not None
            and state.quota_remaining <= settings.SYNCHROTEAM_QUOTA_RESERVE
            and state.quota_reset_at
            and state.quota_reset_at > now
        ):
            raise QuotaExhausted(
                f"Synchroteam daily quota nearly spent ({state.quota_remaining} left)",
                resume_at=state.quota_reset_at,
                vendor="synchroteam",
            )
        if state.blocked_until and state.blocked_until > now:
            wait = (state.blocked_until - now).total_seconds()
            if time.monotonic() + wait > deadline:
                raise RateLimited(
                    f"{self.vendor_scope} paused until {state.blocked_until:%H:%M:%S}",
                    retry_after=wait,
                    vendor=self.connection.vendor,
                )
            time.sleep(wait)

    # after -----------------------------------------------------------------------------
    def after(self, response: httpx.Response | None, *, method: str, kind: str) -> None:
        self.requests += 1
        throttled = response is not None and response.status_code == 429
        if throttled:
            self.throttled += 1
        record_usage(self.vendor_scope, self.connection.pk, throttled=throttled)
        if response is None:
            return
        if throttled:
            default = 60.0 if self.connection.vendor == Vendor.SYNCRO else 5.0
            wait = parse_retry_after(response.headers.get("Retry-After"), default=default)
            block_scope(self.vendor_scope, timezone.now() + dt.timedelta(seconds=wait))
        headers = response.headers
        if self.connection.vendor == Vendor.SYNCHROTEAM and "X-Quota-Remaining" in headers:
            self._record_quota(
                remaining=headers.get("X-Quota-Remaining"),
                limit=headers.get("X-Quota-Limit"),
                reset=headers.get("X-Quota-Reset"),
                default_reset=next_utc_midnight(),
            )
        elif self.connection.vendor == Vendor.FIELDCAMP and "X-RateLimit-Remaining" in headers:
            reset = _reset_time(
                headers.get("X-RateLimit-Reset"), default=timezone.now() + dt.timedelta(minutes=1)
            )
            self._record_quota(
                remaining=headers.get("X-RateLimit-Remaining"),
                limit=headers.get("X-RateLimit-Limit"),
                reset=None,
                default_reset=reset,
            )
            remaining = _int(headers.get("X-RateLimit-Remaining"))
            if remaining is not None and remaining <= settings.FIELDCAMP_RATE_RESERVE:
                block_scope(self.vendor_scope, reset)

    def _record_quota(self, *, remaining, limit, reset, default_reset: dt.datetime) -> None:
        left = _int(remaining)
        if left is None:
            return
        self.quota_remaining = left
        reset_at = _reset_time(reset, default=default_reset)
        updated = LimitState.objects.filter(scope=self.vendor_scope).update(
            quota_remaining=left, quota_limit=_int(limit), quota_reset_at=reset_at
        )
        if not updated:
            try:
                with transaction.atomic():
                    LimitState.objects.create(
                        scope=self.vendor_scope,
                        quota_remaining=left,
                        quota_limit=_int(limit),
                        quota_reset_at=reset_at,
                    )
            except IntegrityError:
                pass


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
