"""The "webhook signature failures spiking" alert condition, registered with
`connectors.alerts.conditions` by ``WebhooksConfig.ready`` (the pattern of
``connectors/fieldcamp/alerts.py``).

Source: `WebhookFailureWindow` rows (refused signatures or tokens per connection and minute,
`connectors.webhooks.guards.count_bad_signature`). A connection whose windows of the last
``WEBHOOK_SIGNATURE_ALERT_MINUTES`` (10) add up to ``WEBHOOK_SIGNATURE_ALERT_THRESHOLD`` (20) or
more is a finding: someone is guessing, or the vendor was given another secret than the vault
holds. It clears by itself once the failures drop below the threshold in that span.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Max, Sum

from accounts.models import Tenant
from connectors.alerts.conditions import Finding, company_time, portal_path
from connectors.alerts.models import AlertKind
from connectors.models import Connection
from connectors.webhooks.guards import window_start
from connectors.webhooks.models import WebhookFailureWindow


def signature_failures_spiking(tenant: Tenant, now: dt.datetime) -> Iterable[Finding]:
    """Connections of `tenant` with at least ``WEBHOOK_SIGNATURE_ALERT_THRESHOLD`` refused
    webhook signatures in the minute windows of the last ``WEBHOOK_SIGNATURE_ALERT_MINUTES``
    up to `now`. Key ``webhook_signatures:<connection uuid>``. One aggregate query."""
    minutes = settings.WEBHOOK_SIGNATURE_ALERT_MINUTES
    threshold = settings.WEBHOOK_SIGNATURE_ALERT_THRESHOLD
    since = window_start(now - dt.timedelta(minutes=minutes - 1))
    totals = (
        WebhookFailureWindow.objects.filter(
            tenant=tenant, window_start__gte=since, window_start__lte=now
        )
        .values("connection")
        .annotate(total=Sum("failures"), last=Max("last_at"))
        .filter(total__gte=threshold)
    )
    by_connection = {row["connection"]: row for row in totals}
    if not by_connection:
        return
    link = portal_path("connectors:integrations")
    for connection in Connection.objects.filter(tenant=tenant, pk__in=by_connection):
        row = by_connection[connection.pk]
        yield Finding(
            AlertKind.WEBHOOK_SIGNATURE_FAILURES,
            f"webhook_signatures:{connection.uuid}",
            f"{connection.get_vendor_display()} webhooks: {row['total']} deliveries with a wrong "
            f"signature or token in the last {minutes} minutes (latest "
            f"{company_time(tenant, row['last'], '%H:%M %Z')}), all refused. If the vendor's own "
            "deliveries fail too, give it the secret the portal holds again; otherwise someone "
            "is guessing at the endpoint.",
            link,
        )


__all__ = ["signature_failures_spiking"]
