"""Vendor-side request limits, measured on the sandbox clock (in memory; a restart forgets them).

* :class:`SlidingWindow`: at most ``limit`` requests per ``window`` seconds per key (Syncro: 180/min
  per client address; Synchroteam: 1000/min per token; FieldCamp: per key).
* :class:`DailyQuota`: at most ``limit`` requests per UTC day of the sandbox clock per key
  (Synchroteam's daily quota, reported in ``X-Quota-Remaining``).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Verdict:
    """One limiter answer: allowed or not, the limit, requests left and seconds until the next slot (window) or the end of the day (quota)."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until a slot frees up (window) or the day ends (quota)


class SlidingWindow:
    """At most ``limit`` requests per key in any ``window`` seconds of the sandbox clock."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: datetime) -> Verdict:
        """Count one request at ``now`` unless the key is over its limit (rejected requests
        do not count)."""
        t = now.timestamp()
        with self._lock:
            q = self._hits.setdefault(key, deque())
            while q and q[0] <= t - self.window:
                q.popleft()
            if len(q) >= self.limit:
                reset = int(q[0] + self.window - t) + 1
                return Verdict(False, self.limit, 0, max(reset, 1))
            q.append(t)
            reset = int(q[0] + self.window - t) + 1
            return Verdict(True, self.limit, self.limit - len(q), max(reset, 1))

    def clear(self) -> None:
        """Forget every key's requests."""
        with self._lock:
            self._hits.clear()


class DailyQuota:
    """At most ``limit`` requests per key per UTC day of the sandbox clock."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._used: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: datetime) -> Verdict:
        """Count one request of ``key`` on ``now``'s day unless its quota is used up."""
        day = now.strftime("%Y-%m-%d")
        seconds_left = 86400 - (now.hour * 3600 + now.minute * 60 + now.second)
        with self._lock:
            used = self._used.get((key, day), 0)
            if used >= self.limit:
                return Verdict(False, self.limit, 0, seconds_left)
            self._used[(key, day)] = used + 1
            return Verdict(True, self.limit, self.limit - used - 1, seconds_left)

    def clear(self) -> None:
        """Forget every key's counts."""
        with self._lock:
            self._used.clear()
