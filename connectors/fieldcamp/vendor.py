"""The FieldCamp descriptor (registered by `connectors.fieldcamp.apps.FieldCampConfig.ready`).

Limits (vendor-apis.md §3.4): per key, ``FIELDCAMP_RATE_BUDGET_PER_MINUTE``, and
``X-RateLimit-Remaining`` / ``X-RateLimit-Reset``: at or below ``FIELDCAMP_RATE_RESERVE`` the
scope waits for the reset.
"""

from __future__ import annotations

import datetime as dt

import httpx
from django.conf import settings
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from pyrate_limiter import Duration, Rate

from accounts.models import Vendor as VendorName
from connectors.fieldcamp import writes
from connectors.fieldcamp.client import FieldCampClient
from connectors.fieldcamp.mapping import STREAMS
from connectors.fieldcamp.webhooks import FieldCampWebhook
from connectors.models import Connection
from connectors.ratelimit import (
    Budget,
    ConnectionGate,
    LimitPolicy,
    block_scope,
    header_int,
    reset_time,
    secret_hash,
)
from connectors.summary import StatusSummary
from connectors.vendors import ConnectSpec, Vendor


class FieldCampLimits(LimitPolicy):
    """One bucket per key; the ``X-RateLimit-*`` headers pause the scope near the limit."""

    def budgets(self, connection: Connection, secret: str) -> list[Budget]:
        """The key's per-minute bucket."""
        return [
            Budget(
                f"fieldcamp:key:{secret_hash(secret)}",
                (Rate(settings.FIELDCAMP_RATE_BUDGET_PER_MINUTE, Duration.MINUTE),),
            )
        ]

    def per_minute_budget(self) -> int:
        """``FIELDCAMP_RATE_BUDGET_PER_MINUTE``."""
        return settings.FIELDCAMP_RATE_BUDGET_PER_MINUTE

    def read_headers(self, gate: ConnectionGate, headers: httpx.Headers) -> None:
        """Record ``X-RateLimit-Remaining`` / ``-Limit`` / ``-Reset`` (default reset: in a
        minute); at or below ``FIELDCAMP_RATE_RESERVE`` block the scope until the reset."""
        if "X-RateLimit-Remaining" not in headers:
            return
        reset = reset_time(
            headers.get("X-RateLimit-Reset"), default=timezone.now() + dt.timedelta(minutes=1)
        )
        gate.record_quota(
            remaining=headers.get("X-RateLimit-Remaining"),
            limit=headers.get("X-RateLimit-Limit"),
            reset=None,
            default_reset=reset,
        )
        remaining = header_int(headers.get("X-RateLimit-Remaining"))
        if remaining is not None and remaining <= settings.FIELDCAMP_RATE_RESERVE:
            block_scope(gate.vendor_scope, reset)


@sensitive_variables("secret")
def build_client(secret: str, connection: Connection, gate, transport) -> FieldCampClient:
    """A `FieldCampClient` with ``Authorization: Bearer <key>`` (vendor-apis.md §3.1)."""
    return FieldCampClient.build(connection.api_base_url, secret, gate=gate, transport=transport)


def base_url(connection: Connection) -> str:
    """``FIELDCAMP_BASE_URL`` (§3.1)."""
    return settings.FIELDCAMP_BASE_URL


def parse_workspace(text: str) -> tuple[str, str]:
    """A FieldCamp key names its workspace itself (vendor-apis.md §3.1), so the account is only
    the office's name for it: ``text`` stripped (at most 120 characters), or "FieldCamp" when
    empty; never a base URL of its own."""
    name = " ".join((text or "").split())[:120]
    return name or "FieldCamp", ""


FIELDCAMP = Vendor(
    name=VendorName.FIELDCAMP.value,
    label=str(VendorName.FIELDCAMP.label),
    client=build_client,
    streams=STREAMS,
    limits=FieldCampLimits(),
    base_url=base_url,
    summary=StatusSummary(),
    webhook=FieldCampWebhook(),
    write_handlers=writes.HANDLERS,
    sort_order=2,
    connect=ConnectSpec(
        account_label="Workspace name",
        account_help="Optional: how the portal names this FieldCamp workspace.",
        parse_account=parse_workspace,
        account_required=False,
        key_label="API key",
        key_help="FieldCamp › Settings › API (starts with fc_live_).",
        webhook_label="Webhook secret",
    ),
)
