"""Inbound vendor events (webhooks) and the batched "calendar sync needed" flag.

* `InboundEvent`: one delivery received on a connection's webhook endpoint, stored once per
  ``delivery id`` (FieldCamp ``X-FieldCamp-Delivery-Id``, vendor-apis.md §3.7). Rejected
  ``delivery id`` (FieldCamp ``X-FieldCamp-Delivery-Id``, vendor-apis.md §3.7) and once per
  ``event id`` (the envelope's ``id``, else the body's SHA-256; vendors whose spec names no
  event id leave it blank). Rejected deliveries (malformed JSON, too old) are recorded without
  their body; of bad signatures only the first of each minute (the rest are counted).
* `WebhookFailureWindow`: refused signatures per connection and minute, one row per window.
* `CalendarSyncFlag`: changes made in the portal that FieldCamp's calendars must pick up. Each
  change bumps the flag; a task flushes it into **one** sync trigger once no change has come for
  ``DISPATCH_CALENDAR_SYNC_DEBOUNCE_SECONDS`` (seed 002: "Batch related changes. If your code
  adjusts ten visits in a row, queue one calendar sync at the end instead of one per visit").
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Tenant


class InboundEventQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant) -> InboundEventQuerySet:
        return self.filter(tenant=tenant)


class InboundEvent(models.Model):
    class Status(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        BAD_SIGNATURE = "bad_signature", "Refused: bad signature or token"
        MALFORMED = "malformed", "Refused: not a JSON object"
        STALE = "stale", "Refused: too old"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(
        "connectors.Connection", on_delete=models.CASCADE, related_name="inbound_events"
    )
    vendor = models.CharField(max_length=20)
    delivery_id = models.CharField(max_length=120, blank=True)
    event_id = models.CharField(
        max_length=120, blank=True, help_text="The envelope's id (else sha256:<body hash>)."
    )
    event_type = models.CharField(max_length=80, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    reason = models.CharField(max_length=300, blank=True)
    payload = models.JSONField(null=True, blank=True, help_text="Accepted events only.")
    replays = models.PositiveIntegerField(
        default=0, help_text="Later deliveries of the same id (accepted and ignored)."
    )
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    last_replay_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    refresh = models.CharField(
        max_length=300, blank=True, help_text="What the targeted refresh did."
    )

    objects = InboundEventQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "delivery_id"],
                condition=Q(status="accepted") & ~Q(delivery_id=""),
                name="inbound_event_once_per_delivery",
            ),
            models.UniqueConstraint(
                fields=["connection", "event_id"],
                condition=Q(status="accepted") & ~Q(event_id=""),
                name="inbound_event_once_per_event",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "-received_at"], name="inbound_tenant_recv")]

    def __str__(self) -> str:
        return f"{self.vendor} {self.event_type or '?'} {self.delivery_id} ({self.status})"


class WebhookFailureWindow(models.Model):
    """Refused webhook signatures (or tokens) on one connection in one minute.

    One row per (connection, ``window_start``), its `failures` incremented atomically
    (`connectors.webhooks.guards.count_bad_signature`); read by the "webhook signature failures
    spiking" alert (`connectors.webhooks.alerts`). Rows older than two days are pruned.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(
        "connectors.Connection", on_delete=models.CASCADE, related_name="+"
    )
    window_start = models.DateTimeField(help_text="The minute (UTC, seconds dropped).")
    failures = models.PositiveIntegerField(default=0)
    last_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "window_start"], name="webhook_failures_once_per_minute"
            )
        ]
        indexes = [models.Index(fields=["tenant", "window_start"], name="webhook_fail_tenant_win")]

    def __str__(self) -> str:
        return f"{self.failures} refused signature(s) in the minute {self.window_start:%H:%M}"


class CalendarSyncFlag(models.Model):
    """A pending batched calendar sync for one FieldCamp connection and integration."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(
        "connectors.Connection", on_delete=models.CASCADE, related_name="+"
    )
    integration = models.CharField(max_length=40, default="google-calendar")
    changes = models.PositiveIntegerField(default=0)
    first_change_at = models.DateTimeField(default=timezone.now)
    last_change_at = models.DateTimeField(default=timezone.now)
    reasons = models.JSONField(default=list, blank=True, help_text="The last few changes, short.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "integration"], name="calendar_flag_conn_integration"
            )
        ]

    def __str__(self) -> str:
        return f"{self.integration}: {self.changes} change(s) since {self.first_change_at:%H:%M:%S}"
