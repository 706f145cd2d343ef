"""The sandbox clock: every timestamp the sandbox writes, every rate-limit window and every
FieldCamp sync job's progress is read from here, so tests can freeze and advance time.

The clock is ``real UTC now + offset`` (running) or a fixed instant (frozen). ``advance()``
moves it forward in both modes. It is thread-safe.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    """The real time now (timezone-aware UTC)."""
    return datetime.now(UTC)


def parse_instant(value: str | datetime) -> datetime:
    """Parse an ISO-8601 instant (``Z`` or offset; naive = UTC) or a date (midnight UTC).

    Raises ValueError on anything else.
    """
    if isinstance(value, datetime):
        dt = value
    else:
        text = value.strip().replace(" ", "T")
        if text.endswith("Z") or text.endswith("z"):
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


class SandboxClock:
    """Sandbox time.

    ``SandboxClock()`` follows real time; ``SandboxClock(start=dt, frozen=True)`` stands still at
    ``dt`` until advanced; ``SandboxClock(start=dt)`` starts at ``dt`` and then runs.
    """

    def __init__(self, start: datetime | str | None = None, *, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._frozen_at: datetime | None = None
        self._offset = timedelta(0)
        self.set(start if start is not None else utcnow(), frozen=frozen)

    def now(self) -> datetime:
        """The current sandbox instant (aware, UTC)."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return utcnow() + self._offset

    def set(self, instant: datetime | str, *, frozen: bool | None = None) -> None:
        """Jump to ``instant``; ``frozen`` switches mode (None keeps the current mode)."""
        at = parse_instant(instant)
        with self._lock:
            keep_frozen = self._frozen_at is not None if frozen is None else frozen
            if keep_frozen:
                self._frozen_at = at
            else:
                self._frozen_at = None
                self._offset = at - utcnow()

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by ``seconds`` (may be fractional); returns the new instant."""
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += timedelta(seconds=seconds)
            else:
                self._offset += timedelta(seconds=seconds)
        return self.now()

    @property
    def frozen(self) -> bool:
        """True while the clock stands still (it moves only when advanced or set)."""
        return self._frozen_at is not None

    def freeze(self) -> None:
        """Stop the clock at its current now."""
        self.set(self.now(), frozen=True)

    def unfreeze(self) -> None:
        """Let the clock run on from its current now."""
        self.set(self.now(), frozen=False)

    def to_dict(self) -> dict[str, object]:
        """``{"now": iso, "frozen": bool}`` (what ``/_sandbox/clock`` answers)."""
        return {"now": iso_z(self.now()), "frozen": self.frozen}


def iso_z(dt: datetime, *, millis: bool = False) -> str:
    """``2026-05-01T09:00:00Z`` (or ``...00.000Z`` with ``millis``), always UTC."""
    dt = dt.astimezone(UTC)
    if millis:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def sortable(dt: datetime) -> str:
    """The store's normalised, lexicographically sortable UTC form: ``2026-05-01T09:00:00.000000``."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


_ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$")
_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def sortable_text(value: str) -> str:
    """:func:`sortable` for a timestamp string, by slicing for the three vendor formats
    (``...T..:..:..Z``, ``...T..:..:...mmmZ``, ``YYYY-MM-DD HH:MM:SS`` = UTC), parsing otherwise.
    Generation of 100 000 records spends most of its time here, hence the fast path."""
    if _ISO_Z.match(value):
        return value[:19] + (value[19:23] + "000" if value[19] == "." else ".000000")
    if _NAIVE.match(value):
        return value[:10] + "T" + value[11:] + ".000000"
    return sortable(parse_instant(value))
