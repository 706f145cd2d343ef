"""Requests per day under the configured schedules, per stream and per connection, against the
vendor's daily quota (the Integrations page's "Requests per day" table and the system check
``connectors.W001``, `connectors.checks`).

One pure function, `estimate`, and one that gathers its inputs from the run history,
`connection_budget`. The model:

* A scheduled incremental runs every ``connection.incremental_every`` (1 440 / minutes a day)
  and syncs `connectors.schedules.incremental_resources`: vendor-filter and snapshot streams,
  and webhook streams while no webhook secret is configured. Its cost per run is the mean of the
  stream's scheduled incrementals of the last 24 h; unmeasured, the declared floor: a snapshot's
  ``requests_per_run``, one page for a vendor filter, the per-run bound of a fan-out stream
  (``CONNECTORS_COMMENT_TICKETS_PER_RUN``: the most it may spend), and for a polled webhook
  stream its full listing.
* The nightly full sweep runs once a day over every stream and costs what the stream's largest
  successful full run of the last 8 days cost (None until one has run: "not measured yet").
* Webhook-driven refreshes (trigger ``webhook``) cost what they cost in the last 24 h.

Manual "Sync now" presses and resumes are not scheduled and not counted.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Avg, Max, Q, Sum
from django.utils import timezone

from accounts.models import Credential, CredentialPurpose
from connectors.mapping import Changes, StreamSpec
from connectors.models import Connection, SyncRun
from connectors.schedules import incremental_resources, webhooks_configured
from connectors.vendors import UnknownVendor, vendor_for

DAY_MINUTES = 24 * 60
#: how far back the largest full sweep is looked for (a week of nightly sweeps, and a day)
FULL_HISTORY_DAYS = 8


@dataclass(frozen=True)
class StreamHistory:
    """What a stream's recent runs cost (requests), from `SyncRun` rows.

    Attributes:
        per_incremental: mean requests of its scheduled incrementals of the last 24 h, or None.
        per_full: requests of its largest successful full run of the last 8 days, or None.
        webhook_per_day: requests of its webhook-triggered runs in the last 24 h.
    """

    per_incremental: float | None = None
    per_full: int | None = None
    webhook_per_day: int = 0


@dataclass(frozen=True)
class StreamCost:
    """One stream's requests per day (the Integrations page row).

    Attributes:
        resource / title / changes: the stream (`StreamSpec`) and its `Changes` kind.
        in_incremental: synced by every scheduled incremental.
        per_incremental: requests per scheduled incremental (0 when not in it).
        measured: `per_incremental` comes from the last day's runs, not from the declared floor.
        per_full: requests of the nightly full sweep, None = not measured yet.
        webhook_per_day: requests of webhook refreshes in the last 24 h.
        incrementals_per_day: scheduled incrementals a day.
        every_minutes: the incremental's interval.
    """

    resource: str
    title: str
    changes: str
    in_incremental: bool
    per_incremental: float
    measured: bool
    per_full: int | None
    webhook_per_day: int
    incrementals_per_day: int
    every_minutes: int

    @property
    def incremental_per_day(self) -> int:
        """Requests a day spent by the scheduled incrementals."""
        return math.ceil(self.per_incremental * self.incrementals_per_day)

    @property
    def per_day(self) -> int:
        """Requests a day: incrementals + the nightly sweep + webhook refreshes."""
        return self.incremental_per_day + (self.per_full or 0) + self.webhook_per_day

    @property
    def schedule(self) -> str:
        """How the stream is kept fresh, in words ("every 10 min", "webhook events, nightly")."""
        if self.in_incremental and self.changes == Changes.WEBHOOK:
            return f"every {self.every_minutes} min (no webhook secret), nightly"
        if self.in_incremental:
            return f"every {self.every_minutes} min, nightly"
        if self.changes == Changes.WEBHOOK:
            return "webhook events, nightly"
        return "nightly, manual syncs, portal writes"

    @property
    def changes_label(self) -> str:
        """`Changes.LABELS` of the stream's kind."""
        return Changes.LABELS[self.changes]


@dataclass(frozen=True)
class RequestPlan:
    """A connection's requests per day against the vendor's limits.

    Attributes:
        streams: one `StreamCost` per stream, in sync order.
        daily_quota: the vendor's daily quota (``LimitPolicy.daily_budget``), None = none.
        capacity_per_day: the tightest per-minute read budget x 1 440 (what a day could carry).
        incremental_every_minutes: the incremental schedule's interval.
        read_per_minute: the tightest per-minute read budget.
    """

    streams: list[StreamCost]
    daily_quota: int | None
    capacity_per_day: int
    incremental_every_minutes: int
    read_per_minute: int

    @property
    def per_day(self) -> int:
        """Requests a day, every stream."""
        return sum(s.per_day for s in self.streams)

    @property
    def per_incremental(self) -> int:
        """Requests of one scheduled incremental, every stream."""
        return math.ceil(sum(s.per_incremental for s in self.streams))

    @property
    def per_manual_sync(self) -> int:
        """Requests of a person's "Sync now" (every stream, incremental mode): the incremental's
        streams at their incremental cost, the others a whole listing (their last full sweep;
        0 while not measured)."""
        return math.ceil(
            sum(s.per_incremental if s.in_incremental else (s.per_full or 0) for s in self.streams)
        )

    @property
    def limit_per_day(self) -> int:
        """What `per_day` is compared with: the daily quota, else the daily capacity."""
        return self.daily_quota or self.capacity_per_day

    @property
    def rows(self) -> list[tuple[StreamCost, int]]:
        """``(stream, percent of limit_per_day)`` pairs, for the page."""
        return [(s, self.percent(s.per_day)) for s in self.streams]

    def percent(self, requests: int) -> int:
        """`requests` as a percentage of `limit_per_day` (0..100, rounded up when not 0)."""
        if not self.limit_per_day:
            return 100 if requests else 0
        return min(100, math.ceil(100 * requests / self.limit_per_day))

    @property
    def over_quota(self) -> bool:
        """The scheduled requests exceed the vendor's daily quota."""
        return self.daily_quota is not None and self.per_day > self.daily_quota

    @property
    def incremental_overruns(self) -> bool:
        """One incremental needs more minutes of the read budget than its interval."""
        return self.per_incremental > self.read_per_minute * self.incremental_every_minutes


def _floor_per_incremental(spec: StreamSpec, history: StreamHistory) -> float:
    """Requests of one incremental of `spec` when none was measured (the module docstring)."""
    if spec.changes == Changes.SNAPSHOT:
        return float(spec.requests_per_run)
    if spec.changes == Changes.VENDOR_FILTER:
        bound = (
            getattr(settings, spec.parents_per_run_setting, 0)
            if spec.parents_per_run_setting
            else 0
        )
        return float(bound or 1)
    return float(history.per_full or 1)  # a polled stream lists everything


def estimate(
    specs: Sequence[StreamSpec],
    *,
    incremental: set[str],
    incremental_every_minutes: int,
    history: dict[str, StreamHistory],
    daily_quota: int | None,
    read_per_minute: int,
) -> RequestPlan:
    """Requests per day of each stream of `specs` (the module docstring's model).

    Args:
        specs: the vendor's streams, in sync order.
        incremental: the resources the scheduled incremental syncs.
        incremental_every_minutes: the incremental's interval (>= 1).
        history: per resource, what its recent runs cost (missing = never ran).
        daily_quota: the vendor's daily request quota, None = none.
        read_per_minute: the tightest per-minute budget of a background read.

    Returns:
        A `RequestPlan` (no database access).
    """
    every = max(1, int(incremental_every_minutes))
    runs_per_day = max(1, DAY_MINUTES // every)
    rows = []
    for spec in specs:
        past = history.get(spec.resource, StreamHistory())
        inside = spec.resource in incremental
        measured = inside and past.per_incremental is not None
        if not inside:
            per_run = 0.0
        elif measured:
            per_run = float(past.per_incremental)
        else:
            per_run = _floor_per_incremental(spec, past)
        rows.append(
            StreamCost(
                resource=spec.resource,
                title=spec.title,
                changes=spec.changes,
                in_incremental=inside,
                per_incremental=per_run,
                measured=measured,
                per_full=past.per_full,
                webhook_per_day=past.webhook_per_day,
                incrementals_per_day=runs_per_day,
                every_minutes=every,
            )
        )
    return RequestPlan(
        streams=rows,
        daily_quota=daily_quota,
        capacity_per_day=max(0, read_per_minute) * DAY_MINUTES,
        incremental_every_minutes=every,
        read_per_minute=read_per_minute,
    )


def stream_histories(
    connections: Sequence[Connection], *, now: dt.datetime | None = None
) -> dict[int, dict[str, StreamHistory]]:
    """``{connection id: {resource: StreamHistory}}`` of the connections' runs of the last
    `FULL_HISTORY_DAYS` days (one grouped query, on the ``syncrun_conn_created`` index)."""
    now = now or timezone.now()
    day = now - dt.timedelta(days=1)
    rows = (
        SyncRun.objects.filter(
            connection__in=[c.pk for c in connections],
            created_at__gte=now - dt.timedelta(days=FULL_HISTORY_DAYS),
        )
        .values("connection_id", "stream__resource")
        .annotate(
            inc=Avg(
                "requests",
                filter=Q(
                    mode=SyncRun.Mode.INCREMENTAL,
                    trigger=SyncRun.Trigger.SCHEDULE,
                    status=SyncRun.Status.SUCCEEDED,
                    created_at__gte=day,
                ),
            ),
            full=Max("requests", filter=Q(mode=SyncRun.Mode.FULL, status=SyncRun.Status.SUCCEEDED)),
            hooks=Sum("requests", filter=Q(trigger=SyncRun.Trigger.WEBHOOK, created_at__gte=day)),
        )
    )
    out: dict[int, dict[str, StreamHistory]] = {c.pk: {} for c in connections}
    for row in rows:
        out[row["connection_id"]][row["stream__resource"]] = StreamHistory(
            row["inc"], row["full"], row["hooks"] or 0
        )
    return out


def stream_history(connection: Connection, *, now: dt.datetime | None = None) -> dict:
    """``{resource: StreamHistory}`` of one connection's runs (`stream_histories`)."""
    return stream_histories([connection], now=now)[connection.pk]


def connection_budget(
    connection: Connection,
    *,
    now: dt.datetime | None = None,
    history: dict[str, StreamHistory] | None = None,
    webhooks: bool | None = None,
) -> RequestPlan:
    """`estimate` for `connection` from its schedule, its streams' last runs and its vendor's
    limits. Two queries (the webhook secret, the run history) unless `webhooks`
    (`connectors.schedules.webhooks_configured`) and `history` (`stream_history`) are given.

    Raises:
        connectors.vendors.UnknownVendor: the connection's vendor app is not installed.
    """
    descriptor = connection.vendor_descriptor
    hooks = webhooks_configured(connection) if webhooks is None else webhooks
    return estimate(
        descriptor.streams,
        incremental=set(incremental_resources(connection, webhooks=hooks)),
        incremental_every_minutes=int(connection.incremental_every.total_seconds() // 60),
        history=stream_history(connection, now=now) if history is None else history,
        daily_quota=descriptor.limits.daily_budget(),
        read_per_minute=descriptor.limits.read_budget_per_minute(connection),
    )


def _installed(vendor: str) -> bool:
    try:
        vendor_for(vendor)
    except UnknownVendor:
        return False
    return True


def all_connection_budgets(
    connections: Sequence[Connection],
) -> list[tuple[Connection, RequestPlan]]:
    """`connection_budget` of each connection whose vendor is installed, in three queries
    whatever their number (the run history, the webhook secrets; the system check)."""
    known = [c for c in connections if _installed(c.vendor)]
    histories = stream_histories(known)
    with_secret = set(
        Credential.objects.usable()
        .filter(purpose=CredentialPurpose.WEBHOOK, owner__isnull=True)
        .filter(tenant_id__in={c.tenant_id for c in known})
        .values_list("tenant_id", "vendor")
    )
    return [
        (
            c,
            connection_budget(
                c,
                history=histories[c.pk],
                webhooks=c.vendor_descriptor.webhook is not None
                and (c.tenant_id, c.vendor) in with_secret,
            ),
        )
        for c in known
    ]


__all__ = [
    "RequestPlan",
    "all_connection_budgets",
    "StreamCost",
    "StreamHistory",
    "connection_budget",
    "estimate",
    "stream_histories",
    "stream_history",
]
