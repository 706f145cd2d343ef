"""Alerts pages: the list (open, snoozed, recently cleared) with acknowledge and snooze, and the
per-person e-mail settings.

Every member may look at the alerts they can see (`Alert.objects.visible_to`) and acknowledge or
snooze them; an alert of another company, or one the member may not see, answers 404. Writes
are POSTs with CSRF. One URL serves the page and, for HTMX requests, the list fragment (with the
header bell swapped out of band so its count follows).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import access
from connectors.alerts import services
from connectors.alerts.forms import EmailKindsForm, SnoozeForm
from connectors.alerts.models import KIND_ROLES, PERSONAL_KINDS, AlertKind

#: cleared alerts stay listed this long
RECENT = dt.timedelta(days=7)


def _visible(request: HttpRequest):
    return services.visible_alerts(request.tenant, request.membership.role, request.user)


def _context(request: HttpRequest) -> dict:
    alerts = _visible(request)
    now = timezone.now()
    open_rows = list(alerts.open())
    return {
        "active": [a for a in open_rows if not a.is_snoozed(now)],
        "snoozed": [a for a in open_rows if a.is_snoozed(now)],
        "cleared": list(alerts.filter(cleared_at__gte=now - RECENT)[:50]),
        "snoozes": [(k, label) for k, (label, _) in services.SNOOZES.items()],
    }


def _answer(request: HttpRequest) -> HttpResponse:
    if request.htmx:
        response = render(request, "connectors/_alerts_list.html", _context(request) | {"oob": 1})
        response["HX-Trigger"] = "alerts-changed"
        return response
    return redirect("alerts:list")


@access.tenant_member_required()
def alert_list(request: HttpRequest) -> HttpResponse:
    """GET /alerts/: the page, or the list fragment for an HTMX request."""
    template = "connectors/_alerts_list.html" if request.htmx else "connectors/alerts.html"
    return render(request, template, _context(request))


@access.tenant_member_required()
@require_POST
def alert_acknowledge_view(request: HttpRequest, alert_uuid: str) -> HttpResponse:
    """POST: "I have seen it" (the first acknowledgement stays)."""
    alert = access.get_for_tenant_or_404(request, _visible(request), uuid=alert_uuid)
    services.alert_acknowledge(alert, by=request.user)
    messages.success(request, "Alert acknowledged.")
    return _answer(request)


@access.tenant_member_required()
@require_POST
def alert_snooze_view(request: HttpRequest, alert_uuid: str) -> HttpResponse:
    """POST ``duration`` = 1h | 1d | 1w: hide it from the bell and e-mail for that long."""
    alert = access.get_for_tenant_or_404(request, _visible(request), uuid=alert_uuid)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose 1 hour, 1 day or 1 week.")
        return _answer(request)
    services.alert_snooze(alert, duration=form.cleaned_data["duration"], by=request.user)
    until = timezone.localtime(alert.snoozed_until)
    messages.success(request, f"Snoozed until {until:%d %b %H:%M} ({until.tzname()}).")
    return _answer(request)


@access.tenant_member_required()
def alert_settings(request: HttpRequest) -> HttpResponse:
    """GET/POST /alerts/settings/: which kinds this person gets by e-mail in this company."""
    tenant, user, role = request.tenant, request.user, request.membership.role
    current = services.email_kinds_for(tenant, user, role)
    data = request.POST if request.method == "POST" else None  # ticking nothing is a choice
    form = EmailKindsForm(data, initial={"email_kinds": current})
    if request.method == "POST" and form.is_valid():
        services.email_kinds_save(tenant, user, form.cleaned_data["email_kinds"])
        messages.success(request, "Your alert e-mail settings are saved.")
        return redirect("alerts:settings")
    kinds = [  # the kinds this person can ever receive, and how much of them
        {"value": k, "label": label, "only": "" if role in KIND_ROLES[k] else PERSONAL_KINDS[k]}
        for k, label in AlertKind.choices
        if role in KIND_ROLES[k] or k in PERSONAL_KINDS
    ]
    return render(
        request,
        "connectors/alert_settings.html",
        {"form": form, "kinds": kinds, "email": user.email},
    )


__all__ = ["alert_acknowledge_view", "alert_list", "alert_settings", "alert_snooze_view"]
