"""Outbound webhooks: endpoints, events, deliveries and their attempts, and the watchers' ledger.

* `WebhookEndpoint`: a company's receiver: URL, the event types it wants, its signing secret
  (encrypted at rest with the credential vault's `EncryptedTextField`; only its last 4
  characters are ever shown after creation), active or disabled.
* `OutboundEvent`: one event (``uuid`` is the event id receivers deduplicate on).
* `WebhookDelivery`: one event to one endpoint; a re-send is a new delivery of the same event.
* `DeliveryAttempt`: one HTTP POST of a delivery: status, the first bytes of the answer, time.
* `WatchedState` / `WatchBaseline`: the last state each mirror watcher saw per record (so a
  status change raises one event, whichever path wrote it) and when its baseline was taken.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.fields import EncryptedTextField
from accounts.models import Tenant
from connectors.models import Connection


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant) -> TenantQuerySet:
        """Rows of `tenant`."""
        return self.filter(tenant=tenant)


class WebhookEndpoint(models.Model):
    """A receiver of one company's events. `event_types` is a list of `registry` names."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)
    secret = EncryptedTextField()
    secret_fingerprint = models.CharField(max_length=8, editable=False)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.url

    @property
    def state(self) -> str:
        """``"active"`` or ``"disabled"`` (a badge's state)."""
        return "active" if self.is_active else "disabled"


class OutboundEvent(models.Model):
    """One event; `payload` is the envelope's ``data``."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="ev_event_tenant")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.uuid}"


class WebhookDelivery(models.Model):
    """One event for one endpoint, tried until it succeeds or the attempts run out."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Retrying"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    DUE_STATES = (State.PENDING, State.RETRYING)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(OutboundEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    resent_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="resends"
    )
    resent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: SHA-256 of the re-send form's token: a double submit makes one delivery
    resend_key = models.CharField(max_length=64, null=True, blank=True, unique=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="ev_dlv_due"),
            models.Index(fields=["tenant", "-created_at"], name="ev_dlv_tenant"),
        ]

    def __str__(self) -> str:
        return f"{self.event} -> {self.endpoint}"


class DeliveryAttempt(models.Model):
    """One POST: `status_code` None when no answer came (`error` says why)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="ev_attempt_number")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WatchedState(models.Model):
    """The state watcher `watch` last saw on the mirror row `vendor_id` of `connection`."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    watch = models.CharField(max_length=60)
    vendor_id = models.BigIntegerField()
    state = models.CharField(max_length=60, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "watch", "vendor_id"], name="ev_watched_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.watch} {self.vendor_id}: {self.state}"


class WatchBaseline(models.Model):
    """When watcher `watch` first recorded `connection`'s mirror (rows seen then raise nothing)."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    watch = models.CharField(max_length=60)
    taken_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "watch"], name="ev_baseline_once")
        ]

    def __str__(self) -> str:
        return f"{self.watch} baseline {self.taken_at:%Y-%m-%d %H:%M}"
