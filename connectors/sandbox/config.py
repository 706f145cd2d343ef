"""``SandboxConfig``: every limit and tunable of the emulation, one flat dataclass.

The field names carry the vendor (``syncro_...``, ``synchroteam_...``, ``fieldcamp_...``); each
vendor emulator reads its own. Change at run time through ``Sandbox.configure(**changes)`` or
``PATCH /_sandbox/config``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class SandboxConfig:
    """Every limit and tunable of the emulation. ``None`` disables a limit.

    Change at run time through ``Sandbox.configure(**changes)`` or ``PATCH /_sandbox/config``.
    """

    # Syncro: 180 requests/min per IP address (spec info.description); Retry-After unverified
    # (vendor-apis.md §1.3), so it is a switch.
    syncro_rate_limit_per_minute: int | None = 180
    syncro_retry_after: bool = False
    # Page sizes per endpoint (vendor-apis.md §1.4: the spec says 25, a live test saw 50 for
    # tickets, 25 for invoices, 100 for ticket_timers; meta examples say customers 100, contacts 50).
    syncro_page_sizes: dict[str, int] = field(
        default_factory=lambda: {
            "tickets": 50,
            "invoices": 25,
            "ticket_timers": 100,
            "customers": 100,
            "contacts": 50,
            "products": 25,
            "comments": 10,
            "line_items": 100,
        }
    )
    syncro_comments_max_per_page: int = 100
    syncro_tax_rate: float = 0.0825
    # Synchroteam: ~1000/min and ~15 000/day per token (seed 000, "Technical Specifications").
    synchroteam_rate_limit_per_minute: int | None = 1000
    synchroteam_daily_quota: int | None = 15000
    synchroteam_default_page_size: int = 25
    synchroteam_max_page_size: int = 100
    # FieldCamp: per-key limit with X-RateLimit-* (vendor-apis.md §3.4; numbers unverified, the
    # only ones found are 100/min).
    fieldcamp_rate_limit_per_minute: int | None = 100
    fieldcamp_default_page_size: int = 50
    fieldcamp_max_page_size: int = 100
    # FieldCamp sync jobs: seconds (sandbox clock) spent queued and running, and failure odds.
    fieldcamp_sync_queued_seconds: float = 2.0
    fieldcamp_sync_running_seconds: dict[str, float] = field(
        default_factory=lambda: {
            "google-calendar": 8.0,
            "outlook-calendar": 8.0,
            "quickbooks": 30.0,
        }
    )
    fieldcamp_sync_failure_rate: float = 0.1
    # Default hold for the timeout_after_commit fault (longer than any sane client timeout).
    timeout_delay_seconds: float = 65.0

    @classmethod
    def unlimited(cls, **changes: Any) -> SandboxConfig:
        """No rate limits or quotas (handy for sync tests that page through everything)."""
        cfg = cls(
            syncro_rate_limit_per_minute=None,
            synchroteam_rate_limit_per_minute=None,
            synchroteam_daily_quota=None,
            fieldcamp_rate_limit_per_minute=None,
        )
        return cfg.replace(**changes)

    def replace(self, **changes: Any) -> SandboxConfig:
        """A copy with ``changes`` applied. Raises ValueError for an unknown setting name."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown sandbox settings: {sorted(unknown)}")
        data = asdict(self)
        data.update(changes)
        return SandboxConfig(**data)

    def to_dict(self) -> dict[str, Any]:
        """Every setting as a JSON-ready dict."""
        return asdict(self)
