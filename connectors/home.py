"""Home-page cards of the vendor side (named in `accounts.home.CARDS` and `STEPS`): writes that
wait for a person, sync health per connection, and whether the company has a connection.

Bounded queries: `writes_waiting` makes two, `sync_health` one (each connection's figures come
from subqueries), `has_connection` one.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, Max, OuterRef, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince

from accounts.home import Card, Row
from connectors.models import Connection, SyncRun, SyncStream
from connectors.outbox.models import VendorWrite

#: A connection with no successful run for this long is unhealthy (the alerts' rule too).
HEALTHY_WITHIN = dt.timedelta(hours=24)
_BROKEN = (SyncRun.Status.FAILED, SyncRun.Status.REFUSED, SyncRun.Status.STALE)
_FINISHED = (*_BROKEN, SyncRun.Status.SUCCEEDED, SyncRun.Status.PAUSED)
ITEMS_SHOWN = 4


def has_connection(request: HttpRequest) -> bool:
    """Whether the request's company has any vendor connection (the first-run checklist)."""
    return Connection.objects.for_tenant(request.tenant).exists()


def writes_waiting(request: HttpRequest) -> Card | None:
    """Vendor writes the outbox stopped on for a person (rejected by the vendor, or not
    confirmed after its looks): the count, what they are, and the oldest few with a link to
    each write's page (where it is sent again, marked done or cancelled)."""
    waiting = VendorWrite.objects.for_tenant(request.tenant).waiting_for_person()
    count = waiting.count()
    shown = list(waiting.select_related("batch").order_by("created_at", "id")[:ITEMS_SHOWN])
    items = [
        (
            f"{(w.batch.label if w.batch else '') or w.operation} — "
            f"{w.get_state_display().lower()}",
            reverse("billing:write_status", args=[w.uuid]),
        )
        for w in shown
    ]
    reason = (
        "The vendor refused them or could not confirm them; nothing is re-sent without a person."
        if count
        else "Every approved write reached the vendor or is on its way."
    )
    return Card(
        key="writes_waiting",
        title="Writes waiting for a person",
        count=count,
        reason=reason,
        url=f"{reverse('billing:queue')}?status=needs_attention&filtered=1",
        attention=bool(count),
        items=items,
    )


def sync_health(request: HttpRequest) -> Card | None:
    """One line per connection: running, failing (with the failures of the last 24 h), paused,
    fine or not synced yet, with the time since its last success; the count is the connections
    that need looking at. None when the company has no connection."""
    now = timezone.now()
    since = now - HEALTHY_WITHIN
    runs = SyncRun.objects.filter(connection=OuterRef("pk"))
    failures = (
        runs.filter(status__in=_BROKEN, created_at__gte=since)
        .order_by()
        .values("connection")
        .annotate(n=Count("id"))
        .values("n")
    )
    last_success = (
        SyncStream.objects.filter(connection=OuterRef("pk"))
        .order_by()
        .values("connection")
        .annotate(m=Max("last_success_at"))
        .values("m")
    )
    connections = list(
        Connection.objects.for_tenant(request.tenant)
        .annotate(
            active=Exists(runs.filter(status__in=SyncRun.ACTIVE)),
            latest=Subquery(
                runs.filter(status__in=_FINISHED)
                .order_by("-created_at", "-id")
                .values("status")[:1]
            ),
            failures=Subquery(failures),
            last_success=Subquery(last_success),
        )
        .order_by("vendor")
    )
    if not connections:
        return None
    rows, unhealthy = [], 0
    for c in connections:
        row, bad = _health_row(c, since, now)
        rows.append(row)
        unhealthy += bad
    total = len(connections)
    if unhealthy:
        reason = f"{unhealthy} of {total} connection{'s' if total != 1 else ''} need a look."
    else:
        reason = f"All {total} connection{'s' if total != 1 else ''} synced within 24 h."
    return Card(
        key="sync_health",
        title="Sync health",
        count=unhealthy,
        reason=reason,
        url=reverse("connectors:integrations"),
        attention=bool(unhealthy),
        rows=rows,
    )


def _health_row(c: Connection, since: dt.datetime, now: dt.datetime) -> tuple[Row, bool]:
    """The connection's line and whether it needs a look (annotated by `sync_health`)."""
    ago = f"last success {timesince(c.last_success, now)} ago" if c.last_success else ""
    label = c.get_vendor_display()
    url = reverse("connectors:integrations")
    if not c.enabled:
        return Row(label, "muted", "Disabled", ago, url), False
    stale = c.last_success is None or c.last_success < since
    if c.active:
        return Row(label, "running", "Syncing", ago or "first sync running", url), False
    if c.latest in _BROKEN:
        failed = f"{c.failures or 0} failure{'s' if c.failures != 1 else ''} in 24 h"
        return Row(label, c.latest, "Failing", f"{failed}; {ago or 'never succeeded'}", url), True
    if c.latest == SyncRun.Status.PAUSED:
        return Row(label, "paused", "Paused", ago or "waiting for its rate limit", url), stale
    if c.last_success is None:
        return Row(label, "warning", "Not synced yet", "no successful run", url), True
    if stale:
        return Row(label, "warning", "Behind", ago, url), True
    return Row(label, "succeeded", "Fine", ago, url), False
