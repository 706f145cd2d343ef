"""Read-only status of connections for the Integrations page and the home cards.

`connection_status(connection)` returns one dict per connection card (documented below);
`home_cards(request)` the home page's integration card. What differs per vendor (whose usage
the budget bar counts, the shared-credential warning) comes from the vendor descriptor's
`StatusSummary` (``connection.vendor_descriptor.summary``).
"""

from __future__ import annotations

import datetime as dt

from django.core.cache import cache
from django.db.models import Max, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from accounts.models import Credential, CredentialPurpose, CredentialStatus
from connectors.budget import connection_budget
from connectors.models import Connection, LimitState, RequestUsage, SyncRun, SyncStream
from connectors.progress import run_progress
from connectors.schedules import next_runs

#: How far back the card looks for the scopes a connection used (`StatusSummary.limit_state`).
STATE_WINDOW = dt.timedelta(days=1)


class StatusSummary:
    """The per-vendor part of a connection card; this default counts the connection's own
    usage (a per-credential limit) and has no shared-credential warning."""

    def usage_rows(self, connection: Connection) -> QuerySet[RequestUsage]:
        """The usage rows the "this minute" budget bar counts (the vendor limit's scope)."""
        return RequestUsage.objects.filter(connection=connection)

    def limit_state(self, connection: Connection) -> LimitState | None:
        """The shared pause/quota state shown on the card (of a scope the connection used in
        the last `STATE_WINDOW`: usage rows are read by (connection, minute), never all of a
        connection's history; a pause or a daily quota older than that is over anyway)."""
        since = timezone.now() - STATE_WINDOW
        scopes = RequestUsage.objects.filter(connection=connection, minute__gte=since)
        scopes = scopes.order_by().values_list("scope", flat=True).distinct()[:5]
        return LimitState.objects.filter(scope__in=list(scopes)).first()

    def shared_warning(self, connection: Connection, shared: Credential) -> str:
        """The warning shown when staff without their own credential use the shared one; ""
        when the vendor does not attribute writes to a person."""
        return ""


def _credentials(connection: Connection) -> dict:
    creds = list(
        Credential.objects.for_tenant(connection.tenant)
        .usable()
        .filter(vendor=connection.vendor, purpose=CredentialPurpose.API)
        .select_related("owner")
    )
    shared = next((c for c in creds if c.owner_id is None), None)
    personal = [c for c in creds if c.owner_id is not None]
    return {"shared": shared, "personal": personal, "all": creds}


#: seconds the Integrations card keeps a connection's request sums of the 23 complete hours
#: before this one: only a usage tally flushed late (`connectors.usage`, seconds) changes them
USAGE_HOURS_CACHE_SECONDS = 300


def _past_hours(connection: Connection, start: dt.datetime) -> tuple[list[int], list[int]]:
    """``(requests, throttled)`` of `connection` in each of the 23 hours from `start` (UTC,
    on the hour), one list entry per hour: one query of filtered sums over the (connection,
    minute) index, then cached for `USAGE_HOURS_CACHE_SECONDS` under the connection and
    `start` (the next hour makes a new key)."""
    key = f"integrations:usage-hours:{connection.pk}:{start:%Y%m%d%H}"
    found = cache.get(key)
    if found is not None:
        return found
    hours = [start + dt.timedelta(hours=i) for i in range(23)]
    sums: dict = {}
    for i, h in enumerate(hours):
        window = Q(minute__gte=h, minute__lt=h + dt.timedelta(hours=1))
        sums[f"r{i}"] = Sum("requests", filter=window)
        sums[f"t{i}"] = Sum("throttled", filter=window)
    row = RequestUsage.objects.filter(
        connection=connection, minute__gte=start, minute__lt=start + dt.timedelta(hours=23)
    ).aggregate(**sums)
    found = ([row[f"r{i}"] or 0 for i in range(23)], [row[f"t{i}"] or 0 for i in range(23)])
    cache.set(key, found, USAGE_HOURS_CACHE_SECONDS)
    return found


def _usage(connection: Connection, now: dt.datetime) -> dict:
    minute = now.replace(second=0, microsecond=0)
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    hook = connection.vendor_descriptor.summary
    limits = connection.vendor_descriptor.limits
    mine = RequestUsage.objects.filter(connection=connection)
    scope_rows = hook.usage_rows(connection)
    this_minute = scope_rows.filter(minute=minute).aggregate(n=Sum("requests"))["n"] or 0
    hour = minute.replace(minute=0)
    start = hour - dt.timedelta(hours=23)
    # this hour (and minute) read live, one (connection, minute) index range of at most 60
    # minutes; the 23 complete hours before it from `_past_hours` (cached)
    live = mine.filter(minute__gte=hour).aggregate(
        minute_n=Sum("requests", filter=Q(minute=minute)),
        hour_n=Sum("requests"),
        hour_t=Sum("throttled"),
    )
    past = _past_hours(connection, start)
    mine_minute = live["minute_n"] or 0
    past_today = [i for i in range(23) if start + dt.timedelta(hours=i) >= day_start]
    today = {
        "n": sum(past[0][i] for i in past_today) + (live["hour_n"] or 0),
        "t": sum(past[1][i] for i in past_today) + (live["hour_t"] or 0),
    }
    hours = [start + dt.timedelta(hours=i) for i in range(24)]
    values = [*past[0], live["hour_n"] or 0]
    per_minute = limits.per_minute_budget()
    daily = limits.daily_budget()
    peak = max(values) or 1
    bars = [
        {
            "x": i * 10,
            "h": round(30 * v / peak, 1) if v else 0,
            "y": round(34 - 30 * v / peak, 1) if v else 34,
            "title": f"{timezone.localtime(h):%H:%M} — {v} requests",
        }
        for i, (h, v) in enumerate(zip(hours, values, strict=True))
    ]
    state = hook.limit_state(connection)
    return {
        "minute_used": this_minute,
        "minute_mine": mine_minute,
        "minute_budget": per_minute,
        "minute_pct": min(100, round(100 * this_minute / per_minute)) if per_minute else 0,
        "today_used": today["n"] or 0,
        "today_throttled": today["t"] or 0,
        "today_budget": daily,
        "today_pct": min(100, round(100 * (today["n"] or 0) / daily)) if daily else None,
        "quota_remaining": state.quota_remaining if state else None,
        "quota_reset_at": state.quota_reset_at if state else None,
        "blocked_until": state.blocked_until
        if state and state.blocked_until and state.blocked_until > now
        else None,
        "bars": bars,
        "peak": max(values),
        "total_24h": sum(values),
    }


def _rotate_url(connection: Connection, cred: Credential | None) -> str:
    """Where a new company key is entered: the portal's connect form when the vendor has one
    (owners and admins), else the credential's admin page; "" without a credential."""
    if connection.vendor_descriptor.connect is not None:
        return reverse("connectors:connect", args=[connection.vendor])
    return reverse("admin:accounts_credential_change", args=[cred.pk]) if cred else ""


def _advice(connection: Connection, latest: SyncRun | None, creds: dict) -> dict | None:
    """What went wrong last and what to do about it."""
    if latest is None or latest.status in (SyncRun.Status.SUCCEEDED, *SyncRun.ACTIVE):
        cred = creds["shared"]
        if cred and cred.status == CredentialStatus.FAILING:
            return {
                "level": "error",
                "text": f"The vendor rejected the shared credential: {cred.last_error}",
                "action": "Rotate the credential",
                "url": _rotate_url(connection, cred),
            }
        return None
    if latest.error_kind == "auth":
        cred = creds["shared"]
        return {
            "level": "error",
            "text": f"{connection.get_vendor_display()} answered 401: the key is wrong, "
            "expired or lacks permissions.",
            "action": "Rotate the credential",
            "url": _rotate_url(connection, cred),
        }
    if latest.status == SyncRun.Status.PAUSED and latest.resume_at:
        local = timezone.localtime(latest.resume_at)
        what = "Daily quota spent" if latest.error_kind == "quota" else "Rate limited"
        return {
            "level": "warn",
            "text": f"{what}: the sync resumes at {local:%H:%M} ({local:%b %d}) on its own.",
        }
    if latest.status == SyncRun.Status.REFUSED:
        return {"level": "error", "text": latest.error}
    if latest.status in (SyncRun.Status.FAILED, SyncRun.Status.STALE):
        return {
            "level": "error",
            "text": f"Last run {latest.get_status_display().lower()}: {latest.error[:300]}",
            "action": "Sync now retries from the last checkpoint.",
        }
    return None


def connection_status(connection: Connection, *, now: dt.datetime | None = None) -> dict:
    """Everything one connection card shows.

    Keys: ``connection``, ``credentials`` ({shared, personal, all}), ``shared_warning`` (str or
    ""), ``last_success``, ``active`` (running or queued runs), ``running`` (the run in progress
    or None), ``next_runs`` ({incremental, full}), ``usage`` (see `_usage`), ``runs`` (last 8),
    ``requests_per_day`` (`connectors.budget.RequestPlan`: each stream's requests a day under
    the schedules against the quota), ``advice`` ({level, text, action?, url?} or None), ``streams``, ``progress`` (the
    `connectors.progress.Progress` of the running run, else of a run paused for the vendor's
    limit, else None) and ``queued_after`` (streams queued, or parked by the same pause, behind
    it).
    """
    now = now or timezone.now()
    creds = _credentials(connection)
    runs = list(
        SyncRun.objects.filter(connection=connection)
        .select_related("stream", "connection")
        .order_by("-created_at", "-id")[:8]
    )
    # the active runs are read apart from the last 8: a sweep of many streams queues them all
    # at once, and the oldest (the one running) would fall out of those 8
    active = list(
        SyncRun.objects.filter(connection=connection, status__in=SyncRun.ACTIVE)
        .select_related("stream", "connection")
        .order_by("created_at", "id")
    )
    running = next((r for r in active if r.status == SyncRun.Status.RUNNING), None)
    latest_done = next((r for r in runs if not r.is_active), None)
    shown, behind = running, sum(1 for r in active if r.status == SyncRun.Status.QUEUED)
    if shown is None and latest_done and latest_done.status == SyncRun.Status.PAUSED:
        # the pause also parked the streams queued behind the one that met the limit
        same = [r for r in runs if r.is_paused_until(latest_done.resume_at)]
        shown = next((r for r in same if r.started_at), latest_done)
        behind = sum(1 for r in same if r.started_at is None)
    shared_warning = ""
    if creds["shared"] is not None:
        shared_warning = connection.vendor_descriptor.summary.shared_warning(
            connection, creds["shared"]
        )
    streams = SyncStream.objects.filter(connection=connection)
    return {
        "connection": connection,
        "credentials": creds,
        "shared_warning": shared_warning,
        "last_success": streams.aggregate(m=Max("last_success_at"))["m"],
        "active": active,
        "running": running,
        "next_runs": {
            **(planned := next_runs(connection)),
            "incremental_due": bool(planned["incremental"] and planned["incremental"] <= now),
        },
        "usage": _usage(connection, now),
        "requests_per_day": connection_budget(connection, now=now),
        "runs": runs,
        "advice": _advice(connection, latest_done, creds),
        "streams": list(streams.order_by("resource")),
        "progress": run_progress(shown, now=now) if shown else None,
        "queued_after": behind,
    }
