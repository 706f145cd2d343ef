"""Integrations page: one card per vendor connection, refreshing itself while work runs.

One URL serves the page and (for HTMX requests) the cards fragment. "Sync now" and "Verify"
are POSTs allowed to owners, admins and dispatchers (403 otherwise); every member may look.
Another tenant's connection answers 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Case, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import access
from accounts.models import DISPATCH_ROLES, MANAGER_ROLES
from connectors.models import Connection, SyncRun
from connectors.services import connection_verify, sync_request
from connectors.summary import connection_status
from connectors.vendors import all_vendors


def _cards(request: HttpRequest) -> list[dict]:
    order = Case(
        *[When(vendor=v.name, then=v.sort_order) for v in all_vendors()],
        default=len(all_vendors()) + 100,
    )
    connections = access.tenant_queryset(request, Connection).order_by(order)
    return [connection_status(c) for c in connections]


def _can_trigger(request: HttpRequest) -> bool:
    return request.membership is not None and request.membership.role in DISPATCH_ROLES


def _can_connect(request: HttpRequest) -> bool:
    return request.membership is not None and request.membership.role in MANAGER_ROLES


def _to_connect(request: HttpRequest, cards: list[dict]) -> list:
    """Descriptors with a portal connect form that this company has not connected yet."""
    done = {card["connection"].vendor for card in cards}
    return [v for v in all_vendors() if v.connect is not None and v.name not in done]


@access.tenant_member_required()
def integrations(request: HttpRequest) -> HttpResponse:
    """GET /integrations/: the page, or just the cards for an HTMX poll."""
    cards = _cards(request)
    context = {
        "cards": cards,
        "can_trigger": _can_trigger(request),
        "can_connect": _can_connect(request),
        "to_connect": _to_connect(request, cards),
        "polling": any(card["active"] for card in cards),
    }
    if request.htmx:
        return render(request, "connectors/_cards.html", context)
    return render(request, "connectors/integrations.html", context)


def _answer(request: HttpRequest, connection: Connection) -> HttpResponse:
    if request.htmx:
        response = render(
            request,
            "connectors/_card.html",
            {
                "card": connection_status(connection),
                "can_trigger": _can_trigger(request),
                "can_connect": _can_connect(request),
            },
        )
        response["HX-Trigger"] = "sync-changed"
        return response
    return redirect("connectors:integrations")


@access.tenant_member_required(roles=DISPATCH_ROLES)
@require_POST
def connection_sync(request: HttpRequest, connection_uuid: str) -> HttpResponse:
    """POST: "Sync now" (incremental; ``full=1`` for a full sweep). Says "already running"
    instead of starting a second run."""
    connection = access.get_for_tenant_or_404(request, Connection, uuid=connection_uuid)
    mode = SyncRun.Mode.FULL if request.POST.get("full") else SyncRun.Mode.INCREMENTAL
    result = sync_request(connection, trigger=SyncRun.Trigger.MANUAL, mode=mode, user=request.user)
    if result.already_running:
        messages.info(request, f"{connection.get_vendor_display()}: a sync is already running.")
    else:
        messages.success(
            request,
            f"{connection.get_vendor_display()}: sync started ({len(result.runs)} streams).",
        )
    return _answer(request, connection)


@access.tenant_member_required(roles=DISPATCH_ROLES)
@require_POST
def connection_verify_view(request: HttpRequest, connection_uuid: str) -> HttpResponse:
    """POST: check the credential with the vendor and record the answer on it."""
    connection = access.get_for_tenant_or_404(request, Connection, uuid=connection_uuid)
    result = connection_verify(connection, user=request.user, by=request.user)
    label = connection.get_vendor_display()
    if result.ok:
        messages.success(request, f"{label}: authenticated as {result.message}.")
    else:
        messages.error(request, f"{label}: {result.message}")
    return _answer(request, connection)
