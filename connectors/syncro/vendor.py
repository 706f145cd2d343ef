"""The Syncro descriptor (registered by `connectors.syncro.apps.SyncroConfig.ready`).

Limits (vendor-apis.md §1.3; reliability.md §2.2): 180 requests/min **per egress IP**, shared by
every tenant. One global bucket (``SYNCRO_RATE_BUDGET_PER_MINUTE``) that every request takes
from. Background reads also take from a reads bucket ``SYNCRO_WRITE_RESERVE_PER_MINUTE``
smaller, so writes and interactive reads always find room (writes before sync reads), and from a
per-tenant reads bucket (``SYNCRO_TENANT_READ_SHARE_PER_MINUTE``) so one tenant's backfill
cannot starve another. A 429 without ``Retry-After`` waits 60 s (seed ``/syncro``).
"""

from __future__ import annotations

from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from pyrate_limiter import Duration, Rate

from accounts.models import Credential
from accounts.models import Vendor as VendorName
from connectors.models import Connection, LimitState, RequestUsage
from connectors.ratelimit import Budget, LimitPolicy
from connectors.summary import StatusSummary
from connectors.syncro import writes
from connectors.syncro.client import SyncroClient
from connectors.syncro.connect import parse_account
from connectors.syncro.mapping import STREAMS
from connectors.vendors import ConnectSpec, Vendor


def egress_scope() -> str:
    """The scope of Syncro's own limit: this deployment's egress IP (``SYNCRO_EGRESS_ID``)."""
    return f"syncro:egress:{settings.SYNCRO_EGRESS_ID}"


class SyncroLimits(LimitPolicy):
    """Per egress IP, shared by every tenant; writes take priority over sync reads."""

    retry_after_default = 60.0  # seed /syncro: "429: rate limited (wait 60s and retry)"

    def budgets(self, connection: Connection, secret: str) -> list[Budget]:
        """Per-tenant reads, all reads (the write reserve left out), then the egress budget."""
        minute = Duration.MINUTE
        egress = egress_scope()
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

    def per_minute_budget(self) -> int:
        """``SYNCRO_RATE_BUDGET_PER_MINUTE`` (below the vendor's 180)."""
        return settings.SYNCRO_RATE_BUDGET_PER_MINUTE

    def read_budget_per_minute(self, connection: Connection) -> int:
        """The tightest of the three buckets a sync read takes from: the tenant's read share,
        the egress budget less the write reserve, the egress budget."""
        reads = settings.SYNCRO_RATE_BUDGET_PER_MINUTE - settings.SYNCRO_WRITE_RESERVE_PER_MINUTE
        return min(
            settings.SYNCRO_TENANT_READ_SHARE_PER_MINUTE,
            max(1, reads),
            settings.SYNCRO_RATE_BUDGET_PER_MINUTE,
        )


class SyncroSummary(StatusSummary):
    """The budget bar counts every tenant's requests from this egress IP; writes made with the
    shared token are attributed to its owner, so the card warns."""

    def usage_rows(self, connection: Connection):
        """Usage of the shared egress scope (all tenants)."""
        return RequestUsage.objects.filter(scope=egress_scope())

    def limit_state(self, connection: Connection) -> LimitState | None:
        """The egress scope's pause state."""
        return LimitState.objects.filter(scope=egress_scope()).first()

    def shared_warning(self, connection: Connection, shared: Credential) -> str:
        """Seed ``/syncro`` attribution rule: Syncro credits writes to the token's owner."""
        owner = shared.verified_identity or "the shared key's owner"
        return (
            f"Staff without their own token write as {owner}: Syncro attributes their comments, "
            "line items and timers to that user."
        )


@sensitive_variables("secret")
def build_client(secret: str, connection: Connection, gate, transport) -> SyncroClient:
    """A `SyncroClient` for `connection` with the user token `secret` (Bearer header, or the
    ``api_key`` query parameter when the connection says so; vendor-apis.md §1.2)."""
    return SyncroClient.build(
        connection.api_base_url,
        secret,
        auth_mode=connection.syncro_auth_mode,
        gate=gate,
        transport=transport,
    )


def base_url(connection: Connection) -> str:
    """``https://{subdomain}.syncromsp.com/api/v1`` (``SYNCRO_BASE_URL_TEMPLATE``; §1.2)."""
    return settings.SYNCRO_BASE_URL_TEMPLATE.format(account=connection.account)


SYNCRO = Vendor(
    name=VendorName.SYNCRO.value,
    label=str(VendorName.SYNCRO.label),
    client=build_client,
    streams=STREAMS,
    limits=SyncroLimits(),
    base_url=base_url,
    summary=SyncroSummary(),
    webhook=None,
    write_handlers=writes.HANDLERS,
    sort_order=0,
    connect=ConnectSpec(
        account_label="Subdomain or base URL",
        account_help="yourcompany for https://yourcompany.syncromsp.com, or the API base URL.",
        parse_account=parse_account,
        key_label="API token",
        key_help="Syncro › Admin › API Tokens. The token's user is who Syncro credits with "
        "the company's writes.",
        identity_prefix="Authenticated as ",
        personal_keys=True,
    ),
)
