"""Alert services: evaluate the conditions, open and clear rows, and what the portal asks.

Public API:

* `evaluate(tenant, *, now=None) -> Evaluation`: run every condition of
  `connectors.alerts.conditions`; open one row per new problem, refresh ``last_seen`` of the
  ones still there, clear the ones gone; then hand the due e-mails to `connectors.alerts.notify`.
  Repeating it changes nothing but ``last_seen``.
* `evaluate_all(*, now=None) -> int`: `evaluate` every tenant (the ``alerts:evaluate`` schedule).
* `refresh_on_commit(tenant_id)`: `evaluate` once the current transaction commits; called right
  after the events that change a condition (a sync run ends, a write settles, a key is checked).
* `visible_alerts(tenant, role, user)`, `open_alerts(tenant, user) -> list[Alert]`: what a member
  sees (the bell, the list, the morning page's card).
* `alert_snooze(alert, *, duration, by)`, `SNOOZES`; `alert_acknowledge(alert, *, by)`.
* `email_kinds_for(tenant, user, role)`, `email_kinds_save(tenant, user, kinds)`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Membership, Tenant
from connectors.alerts import conditions, notify
from connectors.alerts.models import Alert, AlertKind, AlertPreference, default_email_kinds

log = logging.getLogger(__name__)

#: snooze choices: form value -> (label, duration)
SNOOZES: dict[str, tuple[str, dt.timedelta]] = {
    "1h": ("1 hour", dt.timedelta(hours=1)),
    "1d": ("1 day", dt.timedelta(days=1)),
    "1w": ("1 week", dt.timedelta(weeks=1)),
}


@dataclass
class Evaluation:
    """What one `evaluate` did: rows opened and cleared, open rows seen again, e-mails sent,
    and kinds whose condition raised (their open rows were left alone)."""

    opened: list[Alert] = field(default_factory=list)
    cleared: list[Alert] = field(default_factory=list)
    seen: int = 0
    mailed: int = 0
    failed_kinds: set[str] = field(default_factory=set)


def evaluate(tenant: Tenant, *, now: dt.datetime | None = None) -> Evaluation:
    """Bring `tenant`'s alert rows in line with its conditions at `now` (default: now).

    One open row per problem key: a new key opens a row (``email_due`` unless a snooze of the
    same key that cleared moments ago is still running, so a flapping problem stays quiet); a
    known key refreshes ``last_seen``, the message and the link; an open row whose key is no
    longer found is cleared, except for kinds whose condition raised. E-mails go after the
    commit. Safe to run concurrently: the partial unique index on (tenant, key) keeps one open
    row, and the loser of a race leaves the row to the winner.
    """
    now = now or timezone.now()
    findings, failed = conditions.find_all(tenant, now)
    result = Evaluation(failed_kinds=failed)
    with transaction.atomic():
        rows = {a.key: a for a in Alert.objects.select_for_update().for_tenant(tenant).open()}
        for key, finding in findings.items():
            row = rows.get(key)
            if row is not None:
                _refresh(row, finding, now)
                result.seen += 1
            else:
                made = _open(tenant, finding, now)
                if made is not None:
                    result.opened.append(made)
        for key, row in rows.items():
            if key not in findings and row.kind not in failed:
                Alert.objects.filter(pk=row.pk).update(cleared_at=now, email_due=False)
                row.cleared_at = now
                result.cleared.append(row)
    result.mailed = notify.send_due(tenant, now=now)
    return result


def _refresh(row: Alert, finding: conditions.Finding, now: dt.datetime) -> None:
    Alert.objects.filter(pk=row.pk).update(
        last_seen=now,
        message=finding.message,
        link=finding.link,
        resets_at=finding.resets_at,
        user_id=finding.user_id,
    )


def _open(tenant: Tenant, finding: conditions.Finding, now: dt.datetime) -> Alert | None:
    snoozed = (
        Alert.objects.for_tenant(tenant)
        .filter(key=finding.key, snoozed_until__gt=now)
        .order_by("-snoozed_until")
        .values_list("snoozed_until", flat=True)
        .first()
    )
    try:
        with transaction.atomic():
            return Alert.objects.create(
                tenant=tenant,
                kind=finding.kind,
                key=finding.key,
                user_id=finding.user_id,
                message=finding.message,
                link=finding.link,
                resets_at=finding.resets_at,
                opened_at=now,
                last_seen=now,
                snoozed_until=snoozed,
                email_due=snoozed is None,
            )
    except IntegrityError:  # another evaluation opened it a moment ago
        return None


def evaluate_all(*, now: dt.datetime | None = None) -> int:
    """`evaluate` every tenant; a tenant whose evaluation fails is logged and skipped.
    Returns how many alerts were opened."""
    opened = 0
    for tenant in Tenant.objects.all():
        try:
            opened += len(evaluate(tenant, now=now).opened)
        except Exception:
            log.exception("alerts: evaluation failed for tenant %s", tenant.pk)
    return opened


def refresh_on_commit(tenant_id: int | None) -> None:
    """`evaluate` the tenant once the current transaction commits (at once outside one).
    Never raises into the caller: a failure is logged and the schedule catches up."""
    if tenant_id is None:
        return

    def run() -> None:
        try:
            tenant = Tenant.objects.filter(pk=tenant_id).first()
            if tenant is not None:
                evaluate(tenant)
        except Exception:
            log.exception("alerts: refresh failed for tenant %s", tenant_id)

    transaction.on_commit(run)


# --- what a member sees ---------------------------------------------------------------------


def visible_alerts(tenant: Tenant, role: str, user) -> QuerySet[Alert]:
    """Every alert of `tenant` (open and cleared) a member with `role` may see."""
    return (
        Alert.objects.for_tenant(tenant)
        .visible_to(role, user)
        .select_related("acknowledged_by", "snoozed_by")
    )


def open_alerts(tenant: Tenant, user) -> list[Alert]:
    """The open, unsnoozed alerts `user` sees in `tenant`, newest first (the morning page's
    card); empty when `user` is not an active member."""
    membership = Membership.objects.filter(tenant=tenant, user=user, is_active=True).first()
    if membership is None:
        return []
    return list(visible_alerts(tenant, membership.role, user).open().unsnoozed())


def alert_acknowledge(alert: Alert, *, by) -> Alert:
    """Record that `by` has seen `alert` (the first acknowledgement stays)."""
    alert.acknowledge(by=by)
    return alert


def alert_snooze(alert: Alert, *, duration: str, by) -> Alert:
    """Snooze `alert` for one of `SNOOZES` ("1h", "1d", "1w").

    Raises:
        ValueError: `duration` is not one of `SNOOZES`.
    """
    if duration not in SNOOZES:
        raise ValueError("Choose 1 hour, 1 day or 1 week.")
    alert.snooze(SNOOZES[duration][1], by=by)
    return alert


# --- e-mail preferences ---------------------------------------------------------------------


def email_kinds_for(tenant: Tenant, user, role: str) -> list[str]:
    """The kinds `user` gets by e-mail in `tenant`: their saved choice, else their role's
    default (`connectors.alerts.models.default_email_kinds`)."""
    pref = AlertPreference.objects.filter(tenant=tenant, user=user).first()
    kinds = pref.email_kinds if pref is not None else default_email_kinds(role)
    return [k for k in AlertKind.values if k in kinds]


def email_kinds_save(tenant: Tenant, user, kinds: list[str]) -> AlertPreference:
    """Save which kinds `user` wants by e-mail (unknown values are dropped)."""
    clean = [k for k in AlertKind.values if k in set(kinds)]
    pref, _ = AlertPreference.objects.update_or_create(
        tenant=tenant, user=user, defaults={"email_kinds": clean}
    )
    return pref


__all__ = [
    "SNOOZES",
    "Evaluation",
    "alert_acknowledge",
    "alert_snooze",
    "email_kinds_for",
    "email_kinds_save",
    "evaluate",
    "evaluate_all",
    "open_alerts",
    "refresh_on_commit",
    "visible_alerts",
]
