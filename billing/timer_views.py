"""Timer entries on the ticket page: the panel, and charging one entry (Preview -> Confirm).

The charge is planned and keyed on the server (`billing.timers`); the preview shows the timer's
minutes, the product it is charged as with its amount, the exact request line and body Syncro
receives and whose key sends it, and carries a signed token to Confirm. Charging is a billing
write, so only approver roles (owner, admin, billing) may charge; everyone sees the panel.
Timers are addressed by their Syncro id under their ticket's: a timer of another ticket or
another company is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import trigger_client_event

from accounts.access import get_for_tenant_or_404, tenant_member_required
from accounts.models import APPROVER_ROLES, NoCredential
from billing import timers
from billing.ticket_actions import ActionError
from billing.ticket_views import syncro_or_404, ticket_or_404
from connectors.outbox.plans import PlanRefused
from connectors.syncro.models import SyncroTicket, SyncroTimerEntry

#: Larger ids cannot be Syncro ids (64-bit columns); they are a 404, not a database error.
MAX_ID = 2**63 - 1


def timer_or_404(request: HttpRequest, ticket: SyncroTicket, timer_id: int) -> SyncroTimerEntry:
    """The mirrored, not deleted timer entry `timer_id` of `ticket` (404 otherwise)."""
    if not 0 < timer_id <= MAX_ID:
        raise Http404("Not found.")
    qs = SyncroTimerEntry.objects.filter(
        connection_id=ticket.connection_id, ticket_vendor_id=ticket.vendor_id, is_deleted=False
    )
    return get_for_tenant_or_404(request, qs, vendor_id=timer_id)


@tenant_member_required()
def ticket_timers(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The ticket's timer panel (fragment; refreshed on ``ticket-changed`` and while a charge
    is on its way)."""
    ticket = ticket_or_404(request, ticket_id)
    panel = timers.timer_panel(
        ticket, timers.ticket_timers(ticket), can_charge=request.membership.can_approve
    )
    return render(request, "billing/_ticket_timers.html", {"ticket": ticket, "timer_panel": panel})


@tenant_member_required(roles=APPROVER_ROLES)
def timer_charge(request: HttpRequest, ticket_id: int, timer_id: int) -> HttpResponse:
    """Charge one timer entry: the preview on GET (or ``step=preview``), the charge on
    ``step=confirm`` with the preview's signed token. A refused Confirm says why and shows a
    fresh preview when the timer can still be charged."""
    ticket = ticket_or_404(request, ticket_id)
    timer = timer_or_404(request, ticket, timer_id)
    connection = syncro_or_404(request)
    context = {"ticket": ticket, "timer": timer, "error": ""}
    if request.method == "POST" and request.POST.get("step") == "confirm":
        try:
            batch = timers.charge_confirm(
                connection=connection,
                user=request.user,
                ticket=ticket,
                timer=timer,
                token=request.POST.get("token", ""),
            )
            return _charged(request, ticket, batch, context)
        except (ActionError, PlanRefused, NoCredential) as exc:
            context["error"] = str(exc)
    context.update(_preview(request, connection, ticket, timer, context["error"]))
    template = "billing/_timer_charge.html" if request.htmx else "billing/timer_charge_page.html"
    return render(request, template, context)


def _preview(request: HttpRequest, connection, ticket, timer, error: str) -> dict:
    """The preview's context: the row (minutes, amount), the plan, whose key and the token; or
    the sentence saying why this timer cannot be charged."""
    row, _ = timers.timer_row(ticket, timer)
    out = {"row": row, "currency": ticket.tenant.currency}
    try:
        plan = timers.timer_charge_plan(
            connection=connection, user=request.user, ticket=ticket, timer=timer
        )
    except ActionError as exc:
        return {**out, "error": error or str(exc)}
    token = timers.charge_token(plan=plan, user=request.user, ticket=ticket, timer=timer)
    return {**out, "plan": plan, "credential": plan.actor, "token": token}


def _charged(request: HttpRequest, ticket, batch, context: dict) -> HttpResponse:
    """After Confirm: back to the ticket (a message), or the confirmed card for HTMX."""
    if not request.htmx:
        messages.success(request, "Timer charge confirmed, sending to Syncro.")
        return redirect("billing:ticket_detail", ticket_id=ticket.vendor_id)
    context["writes"] = list(batch.writes.select_related("acting_user").order_by("id"))
    response = render(request, "billing/_timer_charge.html", {**context, "done": True})
    return trigger_client_event(response, "ticket-changed")
