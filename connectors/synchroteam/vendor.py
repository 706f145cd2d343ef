"""The Synchroteam descriptor (registered by `connectors.synchroteam.apps.SynchroteamConfig.ready`).

Limits (vendor-apis.md §2.6): per token, ``SYNCHROTEAM_RATE_BUDGET_PER_MINUTE`` and
``SYNCHROTEAM_DAILY_QUOTA`` per vendor day; the vendor's ``X-Quota-Remaining`` header is
authoritative: at or below ``SYNCHROTEAM_QUOTA_RESERVE`` background reads stop with
`QuotaExhausted` (the run pauses and resumes after the reset) while writes may still use the
reserve.
"""

from __future__ import annotations

import datetime as dt
import re

import httpx
from django.conf import settings
from django.db.models import Sum
from django.views.decorators.debug import sensitive_variables
from pyrate_limiter import Duration, Rate

from accounts.models import Vendor as VendorName
from connectors.errors import QuotaExhausted
from connectors.forecast import DailyQuota
from connectors.models import Connection, LimitState, RequestUsage
from connectors.ratelimit import Budget, ConnectionGate, LimitPolicy, next_utc_midnight, secret_hash
from connectors.summary import StatusSummary
from connectors.synchroteam import stock_writes, writes
from connectors.synchroteam.client import SynchroteamClient
from connectors.synchroteam.mapping import STREAMS
from connectors.synchroteam.stock import STOCK_STREAMS
from connectors.synchroteam.webhooks import SynchroteamWebhook
from connectors.vendors import ConnectSpec, Vendor


class SynchroteamLimits(LimitPolicy):
    """One per-minute bucket per (domain, key); the daily quota is the vendor's own.

    The daily quota is not a bucket of ours: a sliding 24-hour window disagrees with the
    vendor's day, which resets at once (``X-Quota-Reset``, else 00:00 UTC): after a day that
    spent the quota it let syncs resume at the reset for only the reserve, then trickle as the
    previous day's requests aged out. The vendor's ``X-Quota-Remaining`` (on every answer,
    vendor-apis.md §2.6) is what `check_state` stops on, and a 429 for the quota pauses the
    run until its ``Retry-After`` like any other.
    """

    def budgets(self, connection: Connection, secret: str) -> list[Budget]:
        """The key's per-minute bucket."""
        return [
            Budget(
                f"synchroteam:key:{secret_hash(connection.account + ':' + secret)}",
                (Rate(settings.SYNCHROTEAM_RATE_BUDGET_PER_MINUTE, Duration.MINUTE),),
            )
        ]

    def per_minute_budget(self) -> int:
        """``SYNCHROTEAM_RATE_BUDGET_PER_MINUTE``."""
        return settings.SYNCHROTEAM_RATE_BUDGET_PER_MINUTE

    def daily_budget(self) -> int | None:
        """``SYNCHROTEAM_DAILY_QUOTA``."""
        return settings.SYNCHROTEAM_DAILY_QUOTA

    def read_quota(
        self, connection: Connection, state: LimitState | None, *, now: dt.datetime
    ) -> DailyQuota | None:
        """What background reads may still spend today: the vendor's last ``X-Quota-Remaining``
        less ``SYNCHROTEAM_QUOTA_RESERVE`` until its reset; once the reset has passed (or before
        any header), the daily quota (``X-Quota-Limit``, else ``SYNCHROTEAM_DAILY_QUOTA``) less
        the reserve and less what this connection sent since 00:00 UTC."""
        reserve = settings.SYNCHROTEAM_QUOTA_RESERVE
        limit = (state.quota_limit if state else None) or settings.SYNCHROTEAM_DAILY_QUOTA
        per_day = max(0, limit - reserve)
        vendor_says = state and state.quota_remaining is not None and state.quota_reset_at
        if vendor_says and state.quota_reset_at > now:
            return DailyQuota(
                max(0, state.quota_remaining - reserve), state.quota_reset_at, per_day
            )
        day_start = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        used = RequestUsage.objects.filter(
            connection=connection, minute__gte=day_start, minute__lte=now
        ).aggregate(n=Sum("requests"))["n"]
        return DailyQuota(max(0, per_day - (used or 0)), next_utc_midnight(now), per_day)

    def check_state(self, state: LimitState, *, kind: str, now: dt.datetime) -> None:
        """Background reads stop while the quota is at the reserve and not yet reset.

        Raises:
            QuotaExhausted: ``resume_at`` = the quota's reset time.
        """
        if (
            kind == "read"
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

    def read_headers(self, gate: ConnectionGate, headers: httpx.Headers) -> None:
        """``X-Quota-Remaining`` / ``X-Quota-Limit`` / ``X-Quota-Reset`` (default reset: the
        next UTC midnight)."""
        if "X-Quota-Remaining" in headers:
            gate.record_quota(
                remaining=headers.get("X-Quota-Remaining"),
                limit=headers.get("X-Quota-Limit"),
                reset=headers.get("X-Quota-Reset"),
                default_reset=next_utc_midnight(),
            )


@sensitive_variables("secret")
def build_client(secret: str, connection: Connection, gate, transport) -> SynchroteamClient:
    """A `SynchroteamClient` with HTTP Basic ``domain:api_key`` (vendor-apis.md §2.2)."""
    return SynchroteamClient.build(
        connection.api_base_url, connection.account, secret, gate=gate, transport=transport
    )


def base_url(connection: Connection) -> str:
    """``SYNCHROTEAM_BASE_URL`` (one host for every company; §2.2)."""
    return settings.SYNCHROTEAM_BASE_URL


#: a Synchroteam company domain: ``acme`` of acme.synchroteam.com (the Basic-auth user, §2.2)
DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def parse_domain(text: str) -> tuple[str, str]:
    """``"acme"`` or ``"acme.synchroteam.com"`` -> ``("acme", "")``: one API host serves every
    company, so there is never a base URL of its own (vendor-apis.md §2.2).

    Raises:
        ValueError: empty, or not a domain label.
    """
    domain = (text or "").strip().removeprefix("https://").removeprefix("http://").rstrip("/")
    domain = domain.split(".")[0] if domain.lower().endswith(".synchroteam.com") else domain
    if not DOMAIN.match(domain):
        raise ValueError(
            "Enter your Synchroteam company domain: acme for acme.synchroteam.com "
            "(letters, digits and dashes)."
        )
    return domain, ""


SYNCHROTEAM = Vendor(
    name=VendorName.SYNCHROTEAM.value,
    label=str(VendorName.SYNCHROTEAM.label),
    client=build_client,
    streams=[*STREAMS, *STOCK_STREAMS],
    limits=SynchroteamLimits(),
    base_url=base_url,
    summary=StatusSummary(),
    webhook=SynchroteamWebhook(),
    write_handlers=(*writes.HANDLERS, *stock_writes.HANDLERS),
    sort_order=1,
    connect=ConnectSpec(
        account_label="Company domain",
        account_help="acme for acme.synchroteam.com (Synchroteam › Settings › API).",
        parse_account=parse_domain,
        key_label="API key",
    ),
)
