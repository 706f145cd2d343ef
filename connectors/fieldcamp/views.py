"""The FieldCamp integrations panel: Google Calendar, Outlook and QuickBooks sync control.

Every member sees the panel; dispatch roles press "Refresh now" and pull calendar changes.
Each row is its own fragment (``_integration.html``) that polls itself while a sync runs.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.access import tenant_member_required
from accounts.models import DISPATCH_ROLES, MANAGER_ROLES, NoCredential
from connectors.fieldcamp import services
from connectors.fieldcamp.models import FieldCampCalendarChange
from connectors.models import Connection, SyncRun
from connectors.webhooks.models import CalendarSyncFlag, InboundEvent


def _connection(request: HttpRequest) -> Connection:
    connection = services.fieldcamp_connection(request.tenant)
    if connection is None:
        raise Http404("This company has no FieldCamp connection.")
    return connection


def _row_context(request: HttpRequest, state: services.IntegrationState, message: str = "") -> dict:
    return {
        "s": state,
        "message": message,
        "can_dispatch": request.membership.role in DISPATCH_ROLES,
        "poll_seconds": settings.DISPATCH_SYNC_POLL_SECONDS,
    }


@tenant_member_required()
def integrations(request: HttpRequest) -> HttpResponse:
    connection = services.fieldcamp_connection(request.tenant)
    context: dict = {"connection": connection}
    if connection is not None:
        states = services.integration_panel(connection=connection, user=request.user)
        context.update(
            rows=[_row_context(request, s) for s in states],
            flags=CalendarSyncFlag.objects.filter(connection=connection),
            changes=FieldCampCalendarChange.objects.filter(connection=connection).alive()[:10],
            change_runs=SyncRun.objects.filter(
                connection=connection, stream__resource="calendar_changes"
            )[:3],
            events=InboundEvent.objects.for_tenant(request.tenant)[:10],
            can_dispatch=request.membership.role in DISPATCH_ROLES,
            is_manager=request.membership.role in MANAGER_ROLES,
            webhook_urls=_webhook_urls(request),
        )
    return render(request, "fieldcamp/integrations.html", context)


def _webhook_urls(request: HttpRequest) -> list[tuple[str, str]]:
    out = []
    for conn in Connection.objects.for_tenant(request.tenant).filter(
        vendor__in=("fieldcamp", "synchroteam")
    ):
        out.append(
            (
                conn.get_vendor_display(),
                request.build_absolute_uri(reverse(f"webhooks:{conn.vendor}", args=[conn.uuid])),
            )
        )
    return out


def _slug(integration: str) -> str:
    if integration not in services.INTEGRATIONS:
        raise Http404("Unknown integration.")
    return integration


@tenant_member_required()
def integration_row(request: HttpRequest, integration: str) -> HttpResponse:
    """One integration's row (the polling target)."""
    connection = _connection(request)
    (state,) = services.integration_panel(
        connection=connection, user=request.user, only=_slug(integration)
    )
    message = (
        services.trigger_message(state.write) if state.write and request.GET.get("follow") else ""
    )
    return render(request, "fieldcamp/_integration.html", _row_context(request, state, message))


@tenant_member_required(roles=DISPATCH_ROLES)
@require_POST
def refresh_now(request: HttpRequest, integration: str) -> HttpResponse:
    """Trigger a sync through the outbox; answers the row, which then follows the job."""
    connection = _connection(request)
    mode = "full" if request.POST.get("mode") == "full" else "incremental"
    try:
        with transaction.atomic():
            result = services.integration_sync_trigger(
                tenant=request.tenant,
                connection=connection,
                integration=_slug(integration),
                mode=mode,
                by=request.user,
            )
    except NoCredential as exc:
        message = str(exc)
    else:
        message = result.message
    if not request.htmx:
        messages.info(request, message)
        return redirect("fieldcamp:integrations")
    (state,) = services.integration_panel(
        connection=connection, user=request.user, only=integration
    )
    return render(request, "fieldcamp/_integration.html", _row_context(request, state, message))


@tenant_member_required(roles=DISPATCH_ROLES)
@require_POST
def calendar_pull(request: HttpRequest) -> HttpResponse:
    """Queue a pull of Google Calendar changes (``since`` + ``next_cursor``) into the mirror."""
    connection = _connection(request)
    runs = services.calendar_changes_pull(connection=connection, user=request.user)
    messages.info(
        request,
        "Pulling Google Calendar changes."
        if runs
        else "A FieldCamp sync is already running; it includes the changes.",
    )
    return redirect("fieldcamp:integrations")
