"""The shared rate limiter: every worker process on every host draws from the same budgets.

Buckets are pyrate-limiter sliding-window logs (never more than N requests in any window), kept
in a SQLite file (every process of this host; the embedded default) or in Redis when
``RATE_LIMIT_REDIS_URL`` is set (every host). A request is checked against all of its buckets
at once (`take_all`, `connectors.limitstore`: one SQLite transaction or one Lua script), and
recorded in all of them or in none. Limits are settings.

Scopes and budgets differ per vendor: each vendor's descriptor (``connectors/<vendor>/vendor.py``,
see `connectors.vendors`) carries a `LimitPolicy` that names the buckets a request takes from,
the scope of the vendor's own limit, the wait after a 429 without ``Retry-After``, and how the
vendor's quota headers are read (vendor-apis.md §1.3, §2.6, §3.4; reliability.md §2.2).
`ConnectionGate` is the same for every vendor and asks the policy.

A 429 blocks its scope for every worker until ``Retry-After`` has passed (`LimitState`, which
gates re-read at most every ``RATE_LIMIT_STATE_REFRESH_SECONDS``). Request usage is counted in
memory and written in batches (`connectors.usage`).
Scope keys carry a hash of the credential, never the credential (ASVS 16.2.5).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import threading
import time
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from pyrate_limiter import Rate, RateItem

from connectors import usage
from connectors.errors import RateLimited, parse_retry_after
from connectors.forecast import DailyQuota
from connectors.limitstore import RedisStore, SharedStore, SQLiteStore
from connectors.models import Connection, LimitState

_stores: dict[str, SharedStore] = {}
_stores_lock = threading.Lock()
#: bumped whenever this process writes a `LimitState`: every gate of the process re-reads it
_state_epoch = [0]
#: requests recorded by this process; every LEAK_EVERY-th one cleans one bucket's old entries
_acquired = [0]
LEAK_EVERY = 100


def _now_ms() -> int:
    return int(time.time() * 1000)


def sleep(seconds: float) -> None:
    """The limiter's only way to wait (``time.sleep``). Tests that drive a sync on a frozen clock
    (time-machine) replace it with one that moves their clock forward by `seconds`."""
    time.sleep(seconds)


def _table_name(scope: str) -> str:
    return "rl_" + hashlib.sha256(scope.encode()).hexdigest()[:20]


def shared_store() -> SharedStore:
    """This process's `SharedStore`: Redis when ``RATE_LIMIT_REDIS_URL`` is set, else the SQLite
    file ``RATE_LIMIT_SQLITE_PATH`` (the state itself lives in the shared store)."""
    key = settings.RATE_LIMIT_REDIS_URL or f"sqlite:{settings.RATE_LIMIT_SQLITE_PATH}"
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            if settings.RATE_LIMIT_REDIS_URL:
                store = RedisStore(settings.RATE_LIMIT_REDIS_URL)
            else:
                store = SQLiteStore(str(settings.RATE_LIMIT_SQLITE_PATH))
            _stores[key] = store
    return store


def reset_buckets() -> None:
    """Forget cached stores and bucket objects, and drop usage not yet written (tests that
    change limit settings)."""
    with _stores_lock:
        _stores.clear()
    _acquired[0] = 0
    usage.discard()


def take_all(scopes: list[tuple[str, list[Rate]]], *, deadline: float) -> float:
    """Block until every bucket of `scopes` (``(scope, rates)`` pairs) has room for one request,
    then record it in all of them at once (`SharedStore.acquire`: one check per request; a
    request that has to wait is charged to none of them meanwhile).

    Args:
        deadline: ``time.monotonic()`` value after which we give up.
    Returns:
        The seconds spent waiting for room (0.0 when there was room at once).
    Raises:
        RateLimited: the wait would pass the deadline (``retry_after`` = the wait left).
    """
    store = shared_store()
    buckets = [store.bucket(_table_name(scope), list(rates)) for scope, rates in scopes]
    waited = 0.0
    while True:
        item = RateItem("fieldline", _now_ms())
        full = store.acquire(buckets, item)
        if full is None:
            _acquired[0] += 1
            if _acquired[0] % LEAK_EVERY == 0:  # clean-up of old entries, one bucket in turn
                buckets[_acquired[0] // LEAK_EVERY % len(buckets)].leak(_now_ms())
            return waited
        wait_ms = full.waiting(item)
        wait = max(0.02, (wait_ms if wait_ms and wait_ms > 0 else 200) / 1000)
        if time.monotonic() + wait > deadline:
            scope = scopes[buckets.index(full)][0]
            raise RateLimited(f"rate limit budget {scope} spent", retry_after=wait)
        wait += random.uniform(0, 0.05)  # noqa: S311
        sleep(wait)
        waited += wait


def take(scope: str, rates: list[Rate], *, deadline: float) -> float:
    """`take_all` of one bucket."""
    return take_all([(scope, rates)], deadline=deadline)


# --- budgets and the per-vendor policy ---------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """One bucket a request must take from.

    Attributes:
        scope: the shared bucket's key (carries a hash of the credential, never the credential).
        rates: the bucket's limits (pyrate-limiter `Rate`: requests per interval in ms).
        kinds: the request kinds that take from it ("read": background sync reads; "write":
            writes and interactive reads).
    """

    scope: str
    rates: tuple[Rate, ...]
    kinds: tuple[str, ...] = ("read", "write")


def secret_hash(secret: str) -> str:
    """The first 16 hex digits of the secret's SHA-256 (for scope keys)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


class LimitPolicy:
    """A vendor's rate-limit rules, asked by `ConnectionGate` (subclassed in each
    ``connectors/<vendor>/vendor.py``).

    The last budget of `budgets` is the vendor's own limit: its scope is the one 429 pauses and
    quota headers are recorded under (``LimitState``), and the one usage rows are counted in.
    """

    #: seconds to wait after a 429 that carries no ``Retry-After``
    retry_after_default: float = 5.0

    def budgets(self, connection: Connection, secret: str) -> list[Budget]:
        """The buckets requests of `connection` made with `secret` take from, tightest first."""
        raise NotImplementedError

    def per_minute_budget(self) -> int:
        """Requests per minute we allow ourselves under the vendor's limit (the status bar)."""
        raise NotImplementedError

    def daily_budget(self) -> int | None:
        """Requests per day, for vendors with a daily quota; None otherwise."""
        return None

    def read_budget_per_minute(self, connection: Connection) -> int:
        """Requests per minute a background sync of `connection` may use: its tightest read
        budget (the forecast's ``per_minute``). Default: `per_minute_budget`."""
        return self.per_minute_budget()

    def read_quota(
        self, connection: Connection, state: LimitState | None, *, now: dt.datetime
    ) -> DailyQuota | None:
        """The daily quota as background reads of `connection` may still use it at `now`
        (`connectors.forecast.DailyQuota`), from the vendor's last quota headers in `state`;
        None for vendors without a daily quota (the default)."""
        return None

    def check_state(self, state: LimitState, *, kind: str, now: dt.datetime) -> None:
        """Before a request of `kind`: refuse it from the shared state of the vendor scope.

        Raises:
            QuotaExhausted: the vendor's quota is (nearly) spent for this kind of request.
        """

    def read_headers(self, gate: ConnectionGate, headers: httpx.Headers) -> None:
        """After a response: record the vendor's quota headers through `gate`
        (`ConnectionGate.record_quota`, `block_scope`)."""


# --- usage bookkeeping and shared state ---------------------------------------------------

record_usage = usage.record_usage  # one request written at once (tests, scripts)


def block_scope(scope: str, until: dt.datetime) -> None:
    """Every worker waits until `until` before calling this scope again (a 429's Retry-After)."""
    state, _ = LimitState.objects.get_or_create(scope=scope)
    if state.blocked_until is None or state.blocked_until < until:
        LimitState.objects.filter(pk=state.pk).update(blocked_until=until)
    _state_epoch[0] += 1


def next_utc_midnight(now: dt.datetime | None = None) -> dt.datetime:
    """The next 00:00 UTC after `now` (daily quotas reset there unless the vendor says)."""
    now = now or timezone.now()
    return (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def reset_time(value: str | None, *, default: dt.datetime) -> dt.datetime:
    """``X-*-Reset`` as epoch seconds, seconds from now, or an ISO timestamp -> an aware
    datetime; `default` when the value is missing or unreadable."""
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

    Per request: one check of every budget of the request's kind (`take_all`), and the vendor
    scope's `LimitState` re-read at most every ``RATE_LIMIT_STATE_REFRESH_SECONDS`` (at once
    after this process wrote it). With `batch_usage` (the sync engine's gates, which `flush` at
    the end of their runs) background reads cost no database query: usage is counted in memory
    (`connectors.usage`) and quota headers are written every ``RATE_LIMIT_USAGE_FLUSH_REQUESTS``
    responses or ``RATE_LIMIT_USAGE_FLUSH_SECONDS`` (the gate's own latest headers always count
    for its own checks). Writes, 429s and gates without `batch_usage` write at once.

    Attributes read by the sync engine: ``requests``, ``throttled``, ``waited`` (seconds),
    ``quota_remaining``.
    """

    @sensitive_variables("secret")
    def __init__(
        self,
        connection: Connection,
        secret: str,
        *,
        max_wait: float | None = None,
        batch_usage: bool = False,
    ):
        self.connection = connection
        self.batch_usage = batch_usage  # the sync engine's gates: it flushes at the end
        self.policy = connection.vendor_descriptor.limits
        self.budgets = self.policy.budgets(connection, secret)
        self.vendor_scope = self.budgets[-1].scope
        self.max_wait = settings.RATE_LIMIT_MAX_WAIT_SECONDS if max_wait is None else max_wait
        self.requests = 0
        self.throttled = 0
        self.waited = 0.0  # seconds spent waiting for budget or a vendor pause
        self.quota_remaining: int | None = None
        self._scopes: dict[str, list[tuple[str, list[Rate]]]] = {}
        self._state: LimitState | None = None
        self._state_read: tuple[float, int] | None = None  # (monotonic, epoch) of the read
        self._quota: tuple[int, int | None, dt.datetime] | None = None  # not yet written
        self._quota_written: tuple[float, int] | None = None  # (monotonic, requests) at write

    def scopes(self, kind: str) -> list[tuple[str, list[Rate]]]:
        """``(scope, rates)`` of every budget a request of `kind` takes from."""
        if kind not in self._scopes:
            self._scopes[kind] = [(b.scope, list(b.rates)) for b in self.budgets if kind in b.kinds]
        return self._scopes[kind]

    # before ----------------------------------------------------------------------------
    def before(self, *, method: str, path: str, kind: str) -> None:
        """Wait for room in every budget of `kind` (and for a vendor pause to pass).

        Raises:
            RateLimited: the wait would exceed ``max_wait`` seconds.
            QuotaExhausted: the vendor's policy refuses this kind of request until a reset.
        """
        deadline = time.monotonic() + self.max_wait
        self._respect_vendor_state(kind, deadline)
        self.waited += take_all(self.scopes(kind), deadline=deadline)

    def vendor_state(self) -> LimitState | None:
        """The vendor scope's shared `LimitState` as last read (re-read when older than
        ``RATE_LIMIT_STATE_REFRESH_SECONDS`` or written by this process since), with this gate's
        own quota headers not yet written over it; None when there is none."""
        at = time.monotonic()
        read = self._state_read
        if (
            read is None
            or read[1] != _state_epoch[0]
            or at - read[0] >= settings.RATE_LIMIT_STATE_REFRESH_SECONDS
        ):
            self._state = LimitState.objects.filter(scope=self.vendor_scope).first()
            self._state_read = (at, _state_epoch[0])
        state = self._state
        if self._quota is not None:
            base = state or LimitState(scope=self.vendor_scope)
            state = LimitState(
                pk=base.pk,
                scope=base.scope,
                blocked_until=base.blocked_until,
                quota_remaining=self._quota[0],
                quota_limit=self._quota[1],
                quota_reset_at=self._quota[2],
            )
        return state

    def _respect_vendor_state(self, kind: str, deadline: float) -> None:
        state = self.vendor_state()
        if state is None:
            return
        now = timezone.now()
        try:
            self.policy.check_state(state, kind=kind, now=now)
        except Exception:
            self.flush()  # the state that stopped us is what every worker and page must see
            raise
        if state.blocked_until and state.blocked_until > now:
            wait = (state.blocked_until - now).total_seconds()
            if time.monotonic() + wait > deadline:
                raise RateLimited(
                    f"{self.vendor_scope} paused until {state.blocked_until:%H:%M:%S %Z}",
                    retry_after=wait,
                    vendor=self.connection.vendor,
                )
            sleep(wait)
            self.waited += wait

    # after -----------------------------------------------------------------------------
    def after(self, response: httpx.Response | None, *, method: str, kind: str) -> None:
        """Count the request (and a 429) in the usage tally (written at once unless this is a
        batched background read); a 429 pauses the vendor scope for every worker until
        ``Retry-After``; quota headers are read by the vendor's policy."""
        self.requests += 1
        throttled = response is not None and response.status_code == 429
        if throttled:
            self.throttled += 1
        batched = self.batch_usage and kind == "read"
        usage.count(self.vendor_scope, self.connection.pk, throttled=throttled, now=not batched)
        if response is None:
            return
        if throttled:
            wait = parse_retry_after(
                response.headers.get("Retry-After"), default=self.policy.retry_after_default
            )
            block_scope(self.vendor_scope, timezone.now() + dt.timedelta(seconds=wait))
        self.policy.read_headers(self, response.headers)

    def flush(self) -> None:
        """Write what this gate and process hold in memory: usage and quota headers."""
        usage.flush()
        self._write_quota()

    def record_quota(
        self,
        *,
        remaining: str | None,
        limit: str | None,
        reset: str | None,
        default_reset: dt.datetime,
    ) -> None:
        """Keep a vendor's quota headers in ``quota_remaining`` and for the vendor scope's
        `LimitState` (shared by every worker: written at once, or with `batch_usage` on the
        gate's first headers, then every ``RATE_LIMIT_USAGE_FLUSH_REQUESTS`` responses or
        ``RATE_LIMIT_USAGE_FLUSH_SECONDS``, and by `flush`); `reset` as `reset_time` reads it, else `default_reset`. A missing or
        unreadable `remaining` records nothing."""
        left = header_int(remaining)
        if left is None:
            return
        self.quota_remaining = left
        self._quota = (left, header_int(limit), reset_time(reset, default=default_reset))
        written = self._quota_written
        if (
            not self.batch_usage
            or written is None
            or self.requests - written[1] >= settings.RATE_LIMIT_USAGE_FLUSH_REQUESTS
            or time.monotonic() - written[0] >= settings.RATE_LIMIT_USAGE_FLUSH_SECONDS
        ):
            self._write_quota()

    def _write_quota(self) -> None:
        if self._quota is None:
            return
        left, limit, reset_at = self._quota
        self._quota = None
        self._quota_written = (time.monotonic(), self.requests)
        fields = {"quota_remaining": left, "quota_limit": limit, "quota_reset_at": reset_at}
        updated = LimitState.objects.filter(scope=self.vendor_scope).update(**fields)
        if not updated:
            try:
                with transaction.atomic():
                    LimitState.objects.create(scope=self.vendor_scope, **fields)
            except IntegrityError:
                LimitState.objects.filter(scope=self.vendor_scope).update(**fields)
        _state_epoch[0] += 1


def header_int(value: str | int | None) -> int | None:
    """A header value as an int; None when missing or not a number."""
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
