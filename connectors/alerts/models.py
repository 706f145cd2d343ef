"""Alert rows and per-person e-mail preferences (app label ``connectors``; imported by
`connectors.models` so Django sees them).

An `Alert` is one open problem of a tenant, found by a condition of `connectors.alerts.conditions`
and identified by a server-made dedup `key` (``stream:<connection uuid>:<resource>``,
``quota:<connection uuid>``, ``credential:<credential uuid>``, ``write:<write uuid>``,
``integration:<connection uuid>:<slug>``, ``webhook_signatures:<connection uuid>``,
``low_stock:<connection uuid>:<depot id>:<part id>``). At most one
open row per (tenant, key): a repeated evaluation updates ``last_seen``; the row closes itself
(``cleared_at``) when the condition is no longer found. A later occurrence opens a new row, so
closed rows are the history.

Peers: Airbyte's "repeated failures" notification, Merge's and Kombo's *issues* (ongoing until
the condition clears, snoozable in the UI); reference/peers.md §1.2-§1.3.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, Tenant


class AlertKind(models.TextChoices):
    """What kind of problem an alert is (the e-mail settings page lists these)."""

    STREAM_FAILING = "stream_failing", "A sync keeps failing"
    QUOTA_EXHAUSTED = "quota_exhausted", "The daily request quota is spent"
    CREDENTIAL_FAILING = "credential_failing", "A vendor key was refused"
    WRITE_WAITING = "write_waiting", "A vendor write waits for a person"
    INTEGRATION_DISCONNECTED = "integration_disconnected", "A FieldCamp integration is disconnected"
    WEBHOOK_SIGNATURE_FAILURES = (
        "webhook_signature_failures",
        "Webhook signature failures are spiking",
    )
    LOW_STOCK = "low_stock", "Stock is below its minimum"


_MANAGERS = (Role.OWNER, Role.ADMIN)
#: kind -> the roles that see every alert of that kind. The person an alert is about
#: (`Alert.user`: the key's owner, whoever asked for the write) sees it whatever their role.
KIND_ROLES: dict[str, tuple[str, ...]] = {
    AlertKind.STREAM_FAILING: (*_MANAGERS, Role.DISPATCHER),
    AlertKind.QUOTA_EXHAUSTED: (*_MANAGERS, Role.DISPATCHER),
    AlertKind.CREDENTIAL_FAILING: _MANAGERS,
    AlertKind.WRITE_WAITING: (*_MANAGERS, Role.BILLING),
    AlertKind.INTEGRATION_DISCONNECTED: (*_MANAGERS, Role.DISPATCHER),
    AlertKind.WEBHOOK_SIGNATURE_FAILURES: _MANAGERS,
    AlertKind.LOW_STOCK: (*_MANAGERS, Role.DISPATCHER),
}

#: Kinds that can be about one person (`Alert.user`), and what a member outside `KIND_ROLES`
#: sees of them; the other kinds are about the company only.
PERSONAL_KINDS: dict[str, str] = {
    AlertKind.CREDENTIAL_FAILING: "only your own keys",
    AlertKind.WRITE_WAITING: "only writes you asked for",
}

#: Kinds e-mailed to a person with no `AlertPreference` row: owners and admins get every kind,
#: everyone else the writes and keys they can see (their own, or all of them for billing).
DEFAULT_EMAIL_KINDS: dict[str, tuple[str, ...]] = {
    Role.OWNER: tuple(AlertKind.values),
    Role.ADMIN: tuple(AlertKind.values),
}
OTHER_EMAIL_KINDS: tuple[str, ...] = (AlertKind.CREDENTIAL_FAILING, AlertKind.WRITE_WAITING)


class AlertQuerySet(models.QuerySet):
    """Filters: ``Alert.objects.for_tenant(t).open().unsnoozed()``."""

    def for_tenant(self, tenant: Tenant) -> AlertQuerySet:
        """Alerts of `tenant`."""
        return self.filter(tenant=tenant)

    def open(self) -> AlertQuerySet:
        """Not cleared yet."""
        return self.filter(cleared_at__isnull=True)

    def unsnoozed(self, now: dt.datetime | None = None) -> AlertQuerySet:
        """Not snoozed at `now` (default: now)."""
        now = now or timezone.now()
        return self.filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now))

    def visible_to(self, role: str, user) -> AlertQuerySet:
        """What a member with `role` sees: the kinds of `KIND_ROLES` for the role, plus the
        alerts about `user` themself."""
        kinds = [kind for kind, roles in KIND_ROLES.items() if role in roles]
        return self.filter(Q(kind__in=kinds) | Q(user_id=getattr(user, "pk", None)))


class Alert(models.Model):
    """One open (or, once `cleared_at` is set, past) problem of a tenant.

    `message` is a plain-language sentence shown in the portal and the e-mail (vendor messages
    only, never a secret); `link` a portal path (``/billing/writes/<uuid>/``) where it is
    fixed. `resets_at` is when a spent quota resets (quota alerts only). `email_due` is true
    from the moment an alert opens unsnoozed until its one e-mail has been handed to the e-mail
    backend (`connectors.alerts.notify`), so a failed send is retried by the next evaluation.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=40, choices=AlertKind.choices)
    key = models.CharField(max_length=200, help_text="Made on the server: one open row per key.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The person the problem is about (the key's owner, who asked for the write).",
    )
    message = models.TextField()
    link = models.CharField(max_length=300, blank=True)
    resets_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    snoozed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    email_due = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "key"],
                condition=Q(cleared_at__isnull=True),
                name="alert_one_open_per_key",
            )
        ]
        indexes = [models.Index(fields=["tenant", "cleared_at"], name="alert_tenant_open")]

    def __str__(self) -> str:
        state = "open" if self.is_open else "cleared"
        return f"{self.get_kind_display()} {self.key} ({state})"

    @property
    def is_open(self) -> bool:
        """Not cleared."""
        return self.cleared_at is None

    def is_snoozed(self, now: dt.datetime | None = None) -> bool:
        """Snoozed until a time after `now` (default: now)."""
        return self.snoozed_until is not None and self.snoozed_until > (now or timezone.now())

    @property
    def snoozed(self) -> bool:
        """`is_snoozed` now (for templates)."""
        return self.is_snoozed()

    def acknowledge(self, *, by) -> None:
        """Record that `by` has seen it (the first acknowledgement stays); saves."""
        if self.acknowledged_at is None:
            self.acknowledged_by = by
            self.acknowledged_at = timezone.now()
            self.save(update_fields=["acknowledged_by", "acknowledged_at"])

    def snooze(self, duration: dt.timedelta, *, by) -> None:
        """Hide it from the bell and send no e-mail for `duration` from now; saves."""
        self.snoozed_until = timezone.now() + duration
        self.snoozed_by = by
        self.email_due = False
        self.save(update_fields=["snoozed_until", "snoozed_by", "email_due"])


class AlertPreference(models.Model):
    """Which alert kinds one person wants by e-mail in one tenant (`email_kinds`: a list of
    `AlertKind` values). No row = `DEFAULT_EMAIL_KINDS` for their role."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_preferences"
    )
    email_kinds = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="alertpref_tenant_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant}: {', '.join(self.email_kinds) or 'no e-mail'}"


def default_email_kinds(role: str) -> tuple[str, ...]:
    """The kinds e-mailed to a member of `role` who never saved the settings page."""
    return DEFAULT_EMAIL_KINDS.get(role, OTHER_EMAIL_KINDS)


__all__ = [
    "DEFAULT_EMAIL_KINDS",
    "KIND_ROLES",
    "PERSONAL_KINDS",
    "Alert",
    "AlertKind",
    "AlertPreference",
    "default_email_kinds",
]
