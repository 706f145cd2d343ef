"""The FieldCamp alert condition: an integration (Google Calendar, Outlook, QuickBooks) that
FieldCamp reports as not connected. Registered with `connectors.alerts.conditions` by
``FieldCampConfig.ready``.

Source: the integrations stream mirrors each status route (``connected``; seed 002,
vendor-apis.md §3.5) as a `FieldCampSyncJob` row with ``mode="status"``, ``vendor_id`` = the
integration slug and ``status`` "disconnected" when ``connected`` is false
(`connectors.fieldcamp.mapping.map_sync_job`), ``finished_at`` = its ``last_synced_at``.
Only an integration that has synced before counts as *disconnected*: one the office never set
up (the sandbox's QuickBooks) is not a problem, and the calendars panel already says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from accounts.models import Tenant
from connectors.alerts.conditions import Finding, portal_path
from connectors.alerts.models import AlertKind
from connectors.fieldcamp.models import FieldCampSyncJob
from connectors.fieldcamp.services import INTEGRATIONS, RECONNECT_HELP


def integration_disconnected(tenant: Tenant, now: dt.datetime) -> Iterable[Finding]:
    """Mirrored integration statuses saying "disconnected" on enabled connections, for
    integrations that synced before. Key
    ``integration:<connection uuid>:<slug>``; clears when the next sync mirrors "connected"."""
    rows = (
        FieldCampSyncJob.objects.for_tenant(tenant)
        .alive()
        .filter(mode="status", status="disconnected", connection__enabled=True)
        .exclude(finished_at__isnull=True)
        .select_related("connection")
    )
    link = portal_path("dispatch:calendars")
    for row in rows:
        slug = row.vendor_id
        label = INTEGRATIONS.get(slug, row.integration or slug)
        help_text = RECONNECT_HELP.get(slug, "")
        yield Finding(
            AlertKind.INTEGRATION_DISCONNECTED,
            f"integration:{row.connection.uuid}:{slug}",
            f"FieldCamp: {label} is not connected, so its syncs stop. {help_text}".strip(),
            link,
        )


__all__ = ["integration_disconnected"]
