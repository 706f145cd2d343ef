"""Connections, sync state (streams, runs, quarantine), rate-limit bookkeeping, and the mirror base.

* `Connection`: one per tenant and vendor: which vendor account, where its API lives, how often
  it syncs and (Syncro) how the token is sent.
* `SyncStream`: one per (connection, resource): the checkpoint of the sweep in progress, the
  incremental high-water mark, the full-sweep generation and the single-flight lock.
* `SyncRun`: the history of one run of a stream (trigger, counts, requests, 429s, quota, error).
* `QuarantinedRecord`: a vendor record that could not be mapped, with its reason and raw JSON.
* `RequestUsage` / `LimitState`: per-minute request counts and the shared "blocked until" /
  quota state that every worker reads before it calls a vendor.
* `MirrorModel`: the abstract base of every mirrored vendor record.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from accounts.models import Tenant, Vendor
from connectors.vendors import vendor_for

if TYPE_CHECKING:
    from connectors.vendors import Vendor as VendorDescriptor


class SyncroAuthMode(models.TextChoices):
    """How a Syncro token is sent (vendor-apis.md §1.2)."""

    BEARER = "bearer", "Authorization: Bearer header"
    QUERY = "query", "api_key query parameter (fallback)"


class ConnectionQuerySet(models.QuerySet):
    """Filters for connections; a tenant's connection to one vendor is found with
    ``Connection.objects.for_tenant(t).enabled().of(vendor).first()``."""

    def enabled(self) -> ConnectionQuerySet:
        """Connections that sync and accept writes."""
        return self.filter(enabled=True)

    def for_tenant(self, tenant: Tenant) -> ConnectionQuerySet:
        """Connections of `tenant`."""
        return self.filter(tenant=tenant)

    def of(self, vendor: str) -> ConnectionQuerySet:
        """Connections to `vendor` (an `accounts.models.Vendor` value; one per tenant)."""
        return self.filter(vendor=vendor)


class Connection(models.Model):
    """A tenant's link to one vendor account.

    `account` is the Syncro subdomain, the Synchroteam company domain (the Basic-auth user name)
    or the FieldCamp workspace. `base_url` empty means the vendor's real host
    (`default_base_url`); the demo points it at the sandbox.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="connections")
    vendor = models.CharField(max_length=20, choices=Vendor.choices)
    account = models.CharField(
        max_length=120,
        help_text="Syncro subdomain, Synchroteam domain, or FieldCamp workspace.",
    )
    base_url = models.URLField(
        blank=True, help_text="Empty = the vendor's real API host. The demo uses the sandbox."
    )
    enabled = models.BooleanField(default=True)
    syncro_auth_mode = models.CharField(
        max_length=10,
        choices=SyncroAuthMode.choices,
        default=SyncroAuthMode.BEARER,
        help_text="Syncro only: the token goes in the Authorization header unless this says query.",
    )
    incremental_interval_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(7 * 24 * 60)],
        help_text="Minutes between incremental syncs, 1 to 10080 (a week); "
        "empty = SYNC_INCREMENTAL_INTERVAL_MINUTES.",
    )
    full_sync_hour = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(23)],
        help_text="Hour (UTC, 0 to 23) of the nightly full sweep; empty = setting.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ConnectionQuerySet.as_manager()

    class Meta:
        ordering = ["tenant__name", "vendor"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "vendor"], name="connection_tenant_vendor")
        ]

    def __str__(self) -> str:
        return f"{self.get_vendor_display()} · {self.account} ({self.tenant})"

    @property
    def vendor_descriptor(self) -> VendorDescriptor:
        """This connection's vendor descriptor from the registry (`connectors.vendors`).

        Raises:
            connectors.vendors.UnknownVendor: the vendor's app is not installed.
        """
        return vendor_for(self.vendor)

    @property
    def default_base_url(self) -> str:
        """The real vendor host, by the descriptor's base-URL rule (vendor-apis.md §1.2, §2.2,
        §3.1)."""
        return self.vendor_descriptor.base_url(self)

    @property
    def api_base_url(self) -> str:
        """Where requests go: `base_url` if set (the sandbox), else the real host; no
        trailing slash."""
        return (self.base_url or self.default_base_url).rstrip("/")

    @property
    def incremental_every(self) -> timedelta:
        """Interval of the incremental schedule (the connection's, else the setting)."""
        return timedelta(
            minutes=self.incremental_interval_minutes or settings.SYNC_INCREMENTAL_INTERVAL_MINUTES
        )

    @property
    def nightly_hour(self) -> int:
        """Hour (UTC) of the nightly full sweep (the connection's, else the setting)."""
        return self.full_sync_hour if self.full_sync_hour is not None else settings.SYNC_FULL_HOUR


class SyncStream(models.Model):
    """One (connection, resource) stream: checkpoint, high-water mark and single-flight lock.

    `checkpoint` is the position of the sweep in progress, written in the same transaction as the
    page it follows (reliability.md §2.2 rule 2). Shape::

        {"mode": "full"|"incremental", "page": int | None, "cursor": str | None,
         "since": iso8601 | None, "max_seen": iso8601 | None, "generation": int,
         "parent": int | None, "started_at": iso8601,
         "done": int, "total": int | None}

    ``done`` counts the sweep's completed pages (per-ticket streams: completed parents) across
    runs, ``total`` the vendor's page count when it gave one (the progress bar of a resumed run).

    Empty dict = nothing in progress. `generation` counts completed full sweeps: each page of a
    sweep stamps `seen_generation = generation + 1` on its rows.
    """

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="streams")
    resource = models.CharField(max_length=50)
    checkpoint = models.JSONField(default=dict, blank=True)
    high_water = models.DateTimeField(null=True, blank=True)
    generation = models.PositiveIntegerField(default=0)
    last_full_sweep_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    # single-flight lock: the run holding it, its owner (host:pid) and its heartbeat
    lock_run = models.ForeignKey(
        "SyncRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lock_owner = models.CharField(max_length=120, blank=True)
    lock_heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["connection_id", "resource"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "resource"], name="stream_conn_resource")
        ]

    def __str__(self) -> str:
        return f"{self.connection} / {self.resource}"

    def lock_is_stale(self, now=None) -> bool:
        """True when the lock's heartbeat is missing or older than
        ``SYNC_HEARTBEAT_STALE_SECONDS``."""
        now = now or timezone.now()
        if self.lock_heartbeat_at is None:
            return True
        return self.lock_heartbeat_at < now - timedelta(
            seconds=settings.SYNC_HEARTBEAT_STALE_SECONDS
        )


class SyncRun(models.Model):
    """One run of one stream. Counters are updated in each page's transaction."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Manual"
        WEBHOOK = "webhook", "Webhook"
        RESUME = "resume", "Resume after pause"

    class Mode(models.TextChoices):
        INCREMENTAL = "incremental", "Incremental"
        FULL = "full", "Full sweep"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PAUSED = "paused", "Paused (rate limit or quota)"
        FAILED = "failed", "Failed"
        REFUSED = "refused", "Refused (too many deletions)"
        STALE = "stale", "Stale (worker stopped)"
        SKIPPED = "skipped", "Skipped (already running)"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="runs")
    stream = models.ForeignKey(SyncStream, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.SCHEDULE)
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.INCREMENTAL)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    pages_total = models.PositiveIntegerField(null=True, blank=True)
    records_total = models.PositiveIntegerField(null=True, blank=True)
    records_seen = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    quarantined = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0, help_text="429 answers received.")
    quota_remaining = models.IntegerField(null=True, blank=True)
    resume_at = models.DateTimeField(null=True, blank=True)
    # progress of the sweep this run works on (earlier runs of the sweep included): `unit`s
    # done and the vendor's total (Syncro ``meta.total_pages``, ``recordsTotal`` / page size,
    # or the ticket count of a per-ticket stream); `progress_start` = done when this run began
    progress_unit = models.CharField(max_length=20, default="page")
    progress_start = models.PositiveIntegerField(default=0)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    wait_seconds = models.FloatField(
        default=0.0, help_text="Seconds spent waiting for the request budget."
    )
    error_kind = models.CharField(max_length=30, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["connection", "-created_at"], name="syncrun_conn_created"),
            models.Index(fields=["stream", "status"], name="syncrun_stream_status"),
        ]

    def __str__(self) -> str:
        return f"{self.stream} {self.mode} {self.status} @ {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        """Queued or running."""
        return self.status in self.ACTIVE

    @property
    def progress_percent(self) -> int | None:
        """Units done against the vendor's total (pages or tickets, else records), 0..100;
        None while no total is known (the page then says "total unknown" instead)."""
        if self.progress_total:
            return min(100, round(100 * self.progress_done / self.progress_total))
        if self.progress_total == 0:
            return 100
        if self.records_total:
            return min(100, round(100 * self.records_seen / self.records_total))
        return None

    def is_paused_until(self, when) -> bool:
        """True when this run is paused with ``resume_at == when`` (a pause parks the runs
        queued behind the one that met the limit with the same resume time)."""
        return self.status == self.Status.PAUSED and when is not None and self.resume_at == when

    @property
    def duration(self) -> timedelta | None:
        """Finished minus started, or None while either is missing."""
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class QuarantinedRecord(models.Model):
    """A vendor record the mapping refused (missing id, unparseable timestamp, wrong type)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="quarantine")
    resource = models.CharField(max_length=50)
    run = models.ForeignKey(SyncRun, on_delete=models.SET_NULL, null=True, blank=True)
    vendor_id = models.CharField(max_length=64, blank=True)
    reason = models.TextField()
    raw = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["connection", "resource"], name="quarantine_conn_res")]

    def __str__(self) -> str:
        return f"{self.resource} {self.vendor_id or '?'}: {self.reason[:60]}"


class RequestUsage(models.Model):
    """Vendor requests per limit scope, connection and minute (for the budget bars and chart).

    Written in batches by `connectors.usage` (a few seconds behind the requests); rows older
    than ``REQUEST_USAGE_RETENTION_DAYS`` are pruned nightly."""

    scope = models.CharField(max_length=120)
    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, null=True, blank=True, related_name="usage"
    )
    minute = models.DateTimeField()
    requests = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "connection", "minute"], name="usage_scope_conn_minute"
            )
        ]
        indexes = [
            models.Index(fields=["scope", "minute"], name="usage_scope_minute"),
            # the Integrations card, the forecast and the daily quota read one connection's rows
            models.Index(fields=["connection", "minute"], name="usage_conn_minute"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.minute:%Y-%m-%d %H:%M}: {self.requests}"


class LimitState(models.Model):
    """Shared per-scope state every worker checks before calling: a vendor-imposed pause
    (429 ``Retry-After``) and the last quota headers seen."""

    scope = models.CharField(max_length=120, unique=True)
    blocked_until = models.DateTimeField(null=True, blank=True)
    quota_limit = models.IntegerField(null=True, blank=True)
    quota_remaining = models.IntegerField(null=True, blank=True)
    quota_reset_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.scope


class MirrorQuerySet(models.QuerySet):
    """Filters every mirror model has."""

    def for_tenant(self, tenant: Tenant) -> MirrorQuerySet:
        """Rows of `tenant`."""
        return self.filter(tenant=tenant)

    def alive(self) -> MirrorQuerySet:
        """Rows the vendor still has (not soft-deleted)."""
        return self.filter(is_deleted=False)


class MirrorModel(models.Model):
    """Abstract base of every mirrored vendor record.

    Concrete models add the columns staff filter and sort on. `raw` is the record exactly as the
    vendor sent it; `custom_fields` is the vendor's custom data (Syncro ``properties``,
    Synchroteam ``customFieldValues`` as ``{label: value}``), queryable with JSON lookups
    (``custom_fields__PO=...``). Unique per (connection, vendor_id).
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    vendor_id = models.BigIntegerField()
    vendor_created_at = models.DateTimeField(null=True, blank=True)
    vendor_updated_at = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict)
    custom_fields = models.JSONField(default=dict, blank=True)
    is_deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    seen_generation = models.PositiveIntegerField(default=0)
    synced_at = models.DateTimeField(default=timezone.now)

    objects = MirrorQuerySet.as_manager()

    # fields the sync engine writes on every upsert besides the mapped ones
    ENGINE_FIELDS = ("raw", "custom_fields", "vendor_created_at", "vendor_updated_at", "synced_at")

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "vendor_id"], name="%(app_label)s_%(class)s_conn_vid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.__class__.__name__} {self.vendor_id}"


def mirror_indexes(prefix: str, *extra: tuple[str, list[str]]) -> list[models.Index]:
    """The indexes every mirror table needs, plus `extra` ``(suffix, fields)`` ones.

    Index names are limited to 30 characters, so each concrete model passes a short `prefix`
    (``"sx_tkt"``) instead of relying on ``%(class)s``.
    """
    indexes = [
        models.Index(fields=["tenant", "is_deleted", "-vendor_updated_at"], name=f"{prefix}_upd"),
        models.Index(fields=["connection", "seen_generation"], name=f"{prefix}_gen"),
    ]
    indexes += [models.Index(fields=fields, name=f"{prefix}_{suffix}") for suffix, fields in extra]
    return indexes


# the alert models live in connectors/alerts/ but belong to this app (see that package)
from connectors.alerts.models import Alert, AlertPreference  # noqa: E402

__all__ = [
    "Alert",
    "AlertPreference",
    "Connection",
    "LimitState",
    "MirrorModel",
    "QuarantinedRecord",
    "RequestUsage",
    "SyncRun",
    "SyncStream",
    "SyncroAuthMode",
    "mirror_indexes",
]
