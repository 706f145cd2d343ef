"""The one e-mail sent when an alert opens, through Django's e-mail backend.

Who gets it: the tenant's active members who may see the alert (`Alert.objects.visible_to`) and
whose e-mail choice (`AlertPreference`, else their role's default) includes its kind; one
message per alert, addressed to all of them. Nothing is sent for a snoozed alert. Sending is
claimed row by row (``email_due`` true -> false in one UPDATE), so two evaluations at once send
once; a backend error puts the claim back and the next evaluation (within
``ALERTS_EMAIL_RETRY_HOURS``) tries again.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.localtime import load_zone
from accounts.models import Membership, Tenant
from connectors.alerts.models import KIND_ROLES, Alert, AlertPreference, default_email_kinds

log = logging.getLogger(__name__)


def recipients_for(alert: Alert) -> list[str]:
    """E-mail addresses of the members who see `alert` and want its kind by e-mail, sorted."""
    prefs = dict(
        AlertPreference.objects.filter(tenant_id=alert.tenant_id).values_list(
            "user_id", "email_kinds"
        )
    )
    roles = KIND_ROLES.get(alert.kind, ())
    members = Membership.objects.filter(
        tenant_id=alert.tenant_id, is_active=True, user__is_active=True
    ).select_related("user")
    out = set()
    for m in members:
        if not m.user.email or not (m.role in roles or m.user_id == alert.user_id):
            continue
        kinds = prefs.get(m.user_id, default_email_kinds(m.role))
        if alert.kind in kinds:
            out.add(m.user.email)
    return sorted(out)


def absolute(path: str) -> str:
    """``PORTAL_BASE_URL`` + `path` ("" for an empty path)."""
    return settings.PORTAL_BASE_URL.rstrip("/") + path if path else ""


def message_for(alert: Alert, recipients: list[str]) -> EmailMessage:
    """The e-mail of `alert` (plain text, ``connectors/email/alert_opened.txt``)."""
    context = {
        "alert": alert,
        "tenant": alert.tenant,
        "link": absolute(alert.link),
        "alerts_url": absolute(reverse("alerts:list")),
        "settings_url": absolute(reverse("alerts:settings")),
    }
    subject = f"[Fieldline] {alert.tenant.name}: {alert.get_kind_display()}"
    zone = load_zone(alert.tenant.time_zone) or dt.UTC
    with timezone.override(zone):  # the company's zone, named, whoever reads it
        body = render_to_string("connectors/email/alert_opened.txt", context)
    return EmailMessage(subject=subject, body=body, to=recipients)


def send_due(tenant: Tenant, *, now: dt.datetime) -> int:
    """Send the e-mail of every open, unsnoozed alert of `tenant` still waiting for it and
    opened within ``ALERTS_EMAIL_RETRY_HOURS``. Returns how many messages were sent."""
    since = now - dt.timedelta(hours=settings.ALERTS_EMAIL_RETRY_HOURS)
    due = (
        Alert.objects.for_tenant(tenant)
        .open()
        .unsnoozed(now)
        .filter(email_due=True, opened_at__gte=since)
        .select_related("tenant")
    )
    sent = 0
    for alert in due:
        if not Alert.objects.filter(pk=alert.pk, email_due=True).update(
            email_due=False, emailed_at=now
        ):
            continue  # another evaluation took it
        recipients = recipients_for(alert)
        if not recipients:
            Alert.objects.filter(pk=alert.pk).update(emailed_at=None)
            continue
        try:
            message_for(alert, recipients).send()
        except Exception:
            log.exception("alerts: e-mail for alert %s failed; retrying later", alert.pk)
            Alert.objects.filter(pk=alert.pk).update(email_due=True, emailed_at=None)
            continue
        sent += 1
    return sent


__all__ = ["absolute", "message_for", "recipients_for", "send_due"]
