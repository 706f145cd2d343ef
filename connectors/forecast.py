"""When will a sync finish? One pure function, `forecast`, and its two small value types.

No database, no clock, no settings: every input is passed in, so the same figure is computed for
the Integrations page, ``manage.py sync``'s progress bar and the tests (`connectors.progress`
gathers the inputs of a running `SyncRun`).

The model follows what the shared limiter does (`connectors.ratelimit`, pyrate-limiter sliding
windows; docs/sync.md "Rate limiting"):

1. Nothing is sent before `blocked_until` (a vendor's 429 ``Retry-After``, or a paused run's
   ``resume_at``).
2. The stream may send ``per_minute`` requests in any 60 s window. The ``minute_left`` requests
   still free in the current window go at the vendor's own pace (``request_seconds`` per request,
   measured on the run while it was not waiting for budget; ``None`` = not measured yet, taken
   as instantaneous); after that requests go one per ``max(60 / per_minute, request_seconds)``
   seconds. The window is approximated linearly: the figure is within about one minute of the
   step-wise truth, whatever the run's length.
3. With a daily quota (Synchroteam, seed 000 "Technical Specifications": ~15 000 requests a day,
   ``X-Quota-Remaining``), at most ``quota.left`` more requests go before ``quota.reset_at``;
   then ``quota.per_day`` a day, the reset recurring every 24 h. A run whose quota is spent
   waits for the reset (the sync engine pauses it and resumes it then).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

#: how far ahead a forecast may reach before it says "not within a year" instead
MAX_DAYS = 366


@dataclass(frozen=True)
class DailyQuota:
    """A daily request quota as a background sync may use it.

    Attributes:
        left: requests still allowed before `reset_at` (the vendor's remaining count less the
            reserve kept for writes); 0 = spent.
        reset_at: aware datetime of the next reset (Synchroteam: ``X-Quota-Reset``, else the next
            00:00 UTC).
        per_day: requests allowed per day after a reset (the quota less the reserve).
    """

    left: int
    reset_at: dt.datetime
    per_day: int


@dataclass(frozen=True)
class Forecast:
    """The answer of `forecast`.

    Attributes:
        eta: aware datetime the last request is expected to be answered; None when no honest
            figure exists (see `reason`).
        reason: one sentence saying how the figure was made or why there is none, e.g.
            "total unknown: the vendor has not said (yet) how many pages there are" or
            "waiting for the daily quota to reset at 00:00 UTC, then 40 requests".
        requests_left: the requests the forecast counted (None when unknown).
        waits_for_reset: the first quota reset the run must wait for, else None.
    """

    eta: dt.datetime | None
    reason: str
    requests_left: int | None = None
    waits_for_reset: dt.datetime | None = None

    @property
    def known(self) -> bool:
        """True when `eta` is a figure."""
        return self.eta is not None


def _utc_hm(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%H:%M UTC")


def _day_hm(value: dt.datetime, now: dt.datetime) -> str:
    value, now = value.astimezone(dt.UTC), now.astimezone(dt.UTC)
    return _utc_hm(value) if value.date() == now.date() else f"{_utc_hm(value)} on {value:%b %d}"


class _Pace:
    """Seconds to send n requests, and requests that fit in s seconds, under one budget."""

    def __init__(self, per_minute: int, request_seconds: float | None) -> None:
        self.fast = max(0.0, request_seconds or 0.0)  # within the free part of the window
        self.slow = max(60.0 / per_minute, self.fast)  # once the window is full

    def seconds(self, n: int, burst: int) -> float:
        free = min(n, burst)
        return free * self.fast + (n - free) * self.slow

    def fits(self, seconds: float, burst: int) -> int:
        if seconds <= 0:
            return 0
        if self.fast and burst * self.fast >= seconds:
            return math.floor(seconds / self.fast)
        return burst + math.floor((seconds - burst * self.fast) / self.slow)


def forecast(
    *,
    now: dt.datetime,
    requests_left: int | None,
    per_minute: int,
    minute_left: int,
    request_seconds: float | None = None,
    quota: DailyQuota | None = None,
    blocked_until: dt.datetime | None = None,
) -> Forecast:
    """When the remaining requests of a sync will be done (the model is the module docstring's).

    Args:
        now: aware datetime the inputs describe (the run's last heartbeat, or now).
        requests_left: requests still to send; None = the vendor has not said how many (no
            total), and the answer says so instead of guessing.
        per_minute: requests per minute this stream may use (its tightest read budget).
        minute_left: requests still free in the current 60 s window (0..per_minute).
        request_seconds: seconds one request takes when not waiting for budget (observed), or
            None when not measured yet.
        quota: the daily quota, for vendors that have one; None = no daily limit.
        blocked_until: nothing can be sent before this aware datetime (a 429 pause, a paused
            run's resume time); None or a past time = no pause.

    Returns:
        A `Forecast`; ``eta`` None with the reason when the total is unknown, there is no
        budget, or the end is more than `MAX_DAYS` away.
    """
    if requests_left is None:
        return Forecast(
            None, "total unknown: the vendor has not said (yet) how many pages there are"
        )
    left = max(0, int(requests_left))
    start = max(now, blocked_until) if blocked_until else now
    paused = f"paused until {_day_hm(start, now)}, then " if start > now else ""
    if left == 0:
        return Forecast(start, f"{paused}finishing the last page", 0)
    if per_minute <= 0:
        return Forecast(None, "no request budget for background reads", left)
    pace = _Pace(per_minute, request_seconds)
    burst = max(0, min(int(minute_left), per_minute)) if start == now else per_minute
    rate = f"{left} requests at up to {per_minute}/min"
    if quota is None:
        return Forecast(
            start + dt.timedelta(seconds=pace.seconds(left, burst)), paused + rate, left
        )
    end, waits_for, problem = _through_quota(start, left, burst, pace, quota, per_minute)
    if end is None:
        return Forecast(None, problem, left)
    if waits_for is None:
        return Forecast(end, paused + rate + problem, left)
    reason = f"waiting for the daily quota to reset at {_day_hm(waits_for, now)}, then {rate}"
    return Forecast(end, paused + reason, left, waits_for)


def _through_quota(
    t: dt.datetime, remaining: int, burst: int, pace: _Pace, quota: DailyQuota, per_minute: int
) -> tuple[dt.datetime | None, dt.datetime | None, str]:
    """Day by day under the quota: ``(end, first reset waited for, note)``; `end` None when
    there is none (the note says why), else the note is what is left of today's quota."""
    allowed, reset = max(0, quota.left), quota.reset_at
    waits_for: dt.datetime | None = None
    if reset <= t:  # the reset already passed: a fresh day has begun
        reset += dt.timedelta(days=(t - reset) // dt.timedelta(days=1) + 1)
        allowed = quota.per_day
    for day in range(MAX_DAYS):
        fits = pace.fits((reset - t).total_seconds(), burst)
        n = min(remaining, allowed, fits)
        end = t + dt.timedelta(seconds=pace.seconds(n, burst))
        if n == remaining:
            spare = f", {allowed - n} of today's quota to spare" if day == 0 else ""
            return end, waits_for, spare
        if quota.per_day <= 0:
            return None, None, "the daily quota leaves nothing for background reads"
        if n == allowed and n < fits and waits_for is None:
            waits_for = reset  # the quota runs out before the day ends: wait for the reset
        # a wait of a minute or more empties the window; a day that just ends does not
        burst = per_minute if (reset - end).total_seconds() >= 60 else max(0, burst - n)
        remaining -= n
        t, reset, allowed = reset, reset + dt.timedelta(days=1), quota.per_day
    return None, None, f"more than {MAX_DAYS} days of daily quota away"


__all__ = ["MAX_DAYS", "DailyQuota", "Forecast", "forecast"]
