"""Deterministic fake data for the three vendors, generated with Faker.

``generate(sandbox, seed=, scale=)`` wipes nothing itself (``Sandbox.reset`` does) and asks each
vendor emulator to fill the store through ``Vendor.generate(gen)``. Each vendor gets its own
``random.Random`` and Faker instance seeded from ``(seed, vendor)``, so the Syncro data for a
seed does not change when the Synchroteam generator changes. Timestamps are spread over the
~9 months before the sandbox clock's "now" (``gen.anchor``); pass a fixed ``clock_start`` to
``Sandbox.create`` for byte-identical data sets.

Faker is slow per call (~20 µs), so vendors draw from pre-built pools of Faker values
(``gen.pool(...)``) for the bulk rows; the result is still realistic at 100 000 records.

Scales: ``small`` = 300, ``medium`` = 5 000, ``large`` = 100 000 Syncro tickets *and*
Synchroteam jobs (FieldCamp visits: half that), or any integer N.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from faker import Faker

if TYPE_CHECKING:
    from .core import Sandbox

SCALES = {"small": 300, "medium": 5000, "large": 100_000}
HISTORY_DAYS = 270


def scale_count(scale: str | int) -> int:
    """Number of Syncro tickets / Synchroteam jobs for a scale name or integer. Raises ValueError."""
    if isinstance(scale, int):
        n = scale
    elif str(scale).isdigit():
        n = int(scale)
    elif scale in SCALES:
        n = SCALES[scale]
    else:
        raise ValueError(f"scale must be small, medium, large or an integer, not {scale!r}")
    if n < 10:
        raise ValueError("scale must be at least 10")
    return n


@dataclass
class Gen:
    """Generation context handed to ``Vendor.generate``."""

    rng: random.Random
    fake: Faker
    n: int
    anchor: datetime
    _pools: dict[str, list[Any]] = field(default_factory=dict)

    def past(self, max_days: float = HISTORY_DAYS, min_days: float = 0.0) -> datetime:
        """A random instant between ``max_days`` and ``min_days`` before the anchor, in office
        hours-ish (timestamps look like work happened)."""
        days = self.rng.uniform(min_days, max_days)
        dt = self.anchor - timedelta(days=days)
        return dt.replace(microsecond=self.rng.randrange(0, 1000) * 1000)

    def after(self, start: datetime, max_hours: float, min_hours: float = 0.05) -> datetime:
        """A random instant between ``min_hours`` and ``max_hours`` after ``start``, never past the
        anchor (see :meth:`not_after_anchor`)."""
        return self.not_after_anchor(
            start + timedelta(hours=self.rng.uniform(min_hours, max_hours)), start
        )

    def not_after_anchor(self, dt: datetime, start: datetime) -> datetime:
        """``dt`` if it is before the anchor; otherwise an instant drawn uniformly between
        ``start`` and the anchor (the anchor itself only when ``start`` is not before it).

        Clamping such instants to the anchor instead gave about 1 % of the records, those
        created in the last days, the very same timestamp, the high-water mark of every first
        sync: 1 009 of 100 000 Syncro tickets, which doubled the pages of an incremental sync
        (issue 14 item 6).
        """
        if dt < self.anchor:
            return dt
        if start >= self.anchor:
            return self.anchor
        return start + (self.anchor - start) * self.rng.random()

    def pool(self, name: str, make: Callable[[Faker], Any], size: int = 1500) -> list[Any]:
        """``size`` Faker values made once, reused by ``pick``."""
        if name not in self._pools:
            self._pools[name] = [make(self.fake) for _ in range(size)]
        return self._pools[name]

    def pick(self, name: str, make: Callable[[Faker], Any], size: int = 1500) -> Any:
        """A random value from the pool ``name`` (made with ``make`` on first use)."""
        return self.rng.choice(self.pool(name, make, size))

    def chance(self, p: float) -> bool:
        """True with probability ``p`` (0..1)."""
        return self.rng.random() < p


def vendor_gen(seed: int, vendor: str, n: int, anchor: datetime) -> Gen:
    """The generation context of one vendor: its own Random and Faker seeded from ``(seed, vendor)``."""
    fake = Faker("en_US")
    fake.seed_instance(f"{seed}:{vendor}")
    return Gen(rng=random.Random(f"{seed}:{vendor}"), fake=fake, n=n, anchor=anchor)


def generate(sandbox: Sandbox, *, seed: int, scale: str | int) -> dict[str, int]:
    """Fill an empty store; returns record counts per kind."""
    n = scale_count(scale)
    anchor = sandbox.clock.now()
    with sandbox.store.bulk_load():
        for name, vendor in sandbox.vendors.items():
            vendor.generate(vendor_gen(seed, name, n, anchor))
    return sandbox.store.counts_by_kind()
