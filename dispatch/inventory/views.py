"""Inventory pages (under ``/inventory/``): depots and vans, one depot, one part with its levels
everywhere and its movements drawn, the below-threshold list, and replenishment.

Every member may look; dispatch roles (owner, admin, dispatcher) set minimums and send part
requests. Depots and parts are addressed by their Synchroteam id within the active tenant and
loaded with `accounts.access.get_for_tenant_or_404` (another company's is a 404). A part
request is previewed with its exact body and whose key sends it, bound to the person, depot and
part by a signed token (`connectors.outbox.plans`), and sent through the outbox once.
"""

from __future__ import annotations

import math

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import get_for_tenant_or_404, tenant_member_required
from accounts.models import DISPATCH_ROLES, NoCredential
from connectors.outbox import plans
from connectors.synchroteam.models import SynchroteamDepot, SynchroteamPart, SynchroteamUser
from dispatch import selectors as dispatch_selectors
from dispatch.inventory import charts, forms, selectors, services

ACTION = "inventory.replenish"


def _can_dispatch(request: HttpRequest) -> bool:
    return request.membership.role in DISPATCH_ROLES


def _depot(request: HttpRequest, depot_id: int) -> SynchroteamDepot:
    return get_for_tenant_or_404(
        request, SynchroteamDepot.objects.filter(is_deleted=False), vendor_id=depot_id
    )


def _part(request: HttpRequest, part_id: int) -> SynchroteamPart:
    return get_for_tenant_or_404(
        request, SynchroteamPart.objects.filter(is_deleted=False, type="part"), vendor_id=part_id
    )


@tenant_member_required()
def inventory(request: HttpRequest) -> HttpResponse:
    """Warehouses and vans with what they hold and how many levels are below minimum."""
    overview = selectors.depot_overview(request.tenant)
    context = {
        **overview,
        "parts": selectors.tracked_parts(request.tenant),
        "below": sum(d.below for rows in overview.values() for d in rows),
        "has_connection": dispatch_selectors.synchroteam_connection(request.tenant) is not None,
    }
    return render(request, "dispatch/inventory/index.html", context)


def _depot_page(request, depot, form, status=200) -> HttpResponse:
    rows = selectors.depot_levels(request.tenant, depot)
    technician = (
        SynchroteamUser.objects.for_tenant(request.tenant)
        .filter(vendor_id=depot.user_vendor_id)
        .first()
        if depot.user_vendor_id
        else None
    )
    peak = max([r.quantity for r in rows] + [r.minimum or 0 for r in rows] + [1])
    context = {
        "depot": depot,
        "technician": technician,
        "rows": rows,
        "peak": peak,
        "form": form,
        "can_dispatch": _can_dispatch(request),
    }
    return render(request, "dispatch/inventory/depot.html", context, status=status)


@tenant_member_required()
def depot_detail(request: HttpRequest, depot_id: int) -> HttpResponse:
    """One depot's parts, quantities and minimums (with the form to set one)."""
    depot = _depot(request, depot_id)
    form = forms.MinimumForm(parts=selectors.tracked_parts(request.tenant))
    return _depot_page(request, depot, form)


@require_POST
@tenant_member_required(roles=DISPATCH_ROLES)
def minimum_set(request: HttpRequest, depot_id: int) -> HttpResponse:
    """Save a minimum for a part in this depot; a rejected form keeps what was typed."""
    depot = _depot(request, depot_id)
    form = forms.MinimumForm(request.POST, parts=selectors.tracked_parts(request.tenant))
    if not form.is_valid():
        return _depot_page(request, depot, form, status=400)
    part = _part(request, form.cleaned_data["part"])
    services.minimum_save(
        tenant=request.tenant,
        connection=depot.connection,
        depot=depot,
        part=part,
        minimum=form.cleaned_data["minimum"],
        by=request.user,
    )
    messages.success(request, f"Minimum of {part.reference} in {depot.name} saved.")
    return redirect("dispatch:inventory_depot", depot_id=depot.vendor_id)


@tenant_member_required()
def part_detail(request: HttpRequest, part_id: int) -> HttpResponse:
    """One part: its level in every depot and van, and its movements over 26 weeks, drawn."""
    part = _part(request, part_id)
    rows = selectors.part_levels(request.tenant, part)
    today = timezone.localdate()
    context = {
        "part": part,
        "rows": rows,
        "peak": max([r.quantity for r in rows] + [r.minimum or 0 for r in rows] + [1]),
        "chart": charts.part_history(request.tenant, part, today=today),
        "movements": selectors.part_movements(request.tenant, part),
        "depots": {d.vendor_id: d for d in selectors.depots(request.tenant)},
    }
    return render(request, "dispatch/inventory/part.html", context)


@tenant_member_required()
def below(request: HttpRequest) -> HttpResponse:
    """Levels under their minimum; vans whose technician works tomorrow come first."""
    now = timezone.now()
    start, _ = selectors.tomorrow(request.tenant, now)
    context = {
        "rows": selectors.below_threshold(request.tenant, now),
        "tomorrow": start,
        "can_dispatch": _can_dispatch(request),
    }
    return render(request, "dispatch/inventory/below.html", context)


def _sources(request, depot, part) -> list:
    rows = selectors.part_levels(request.tenant, part)
    return [
        (r.depot, r.quantity)
        for r in rows
        if r.depot is not None and r.depot.vendor_id != depot.vendor_id and r.quantity > 0
    ]


@tenant_member_required(roles=DISPATCH_ROLES)
def replenish(request: HttpRequest, depot_id: int, part_id: int) -> HttpResponse:
    """GET: the form (quantity = the shortfall). POST ``action=preview``: the exact body and
    whose key, with a signed token. POST ``action=confirm``: enqueued once, then followed."""
    depot, part = _depot(request, depot_id), _part(request, part_id)
    connection = dispatch_selectors.synchroteam_connection(request.tenant)
    if connection is None or connection.pk != depot.connection_id:
        raise Http404("This company has no Synchroteam connection for this depot.")
    level = next(
        (r for r in selectors.depot_levels(request.tenant, depot) if r.part_vendor_id == part_id),
        None,
    )
    shortfall = math.ceil(level.shortfall) if level and level.below else 1
    sources = _sources(request, depot, part)
    wanted = max(shortfall, 1)
    offered_from, offered = selectors.default_source(sources, wanted)
    initial = {"quantity": offered}
    if offered_from is not None:
        initial["source"] = offered_from.vendor_id
    form = forms.ReplenishForm(request.POST or None, sources=sources, initial=initial)
    plan, token = None, ""
    bind = {
        "tenant": request.tenant,
        "user": request.user,
        "action": ACTION,
        "obj": f"{depot.vendor_id}:{part.vendor_id}",
    }
    if request.method == "POST" and form.is_valid():
        confirming = request.POST.get("action") == "confirm"
        d = form.cleaned_data
        source = get_for_tenant_or_404(request, SynchroteamDepot, vendor_id=d["source"])
        try:
            nonce = (
                plans.token_nonce(request.POST.get("token", ""), **bind)
                if confirming
                else plans.new_nonce()
            )
            plan = services.replenish_plan(
                connection=connection,
                user=request.user,
                depot=depot,
                part=part,
                source=source,
                quantity=d["quantity"],
                urgent=d["urgent"],
                nonce=nonce,
            )
            if confirming:
                plans.plan_token_check(request.POST.get("token", ""), plan=plan, **bind)
                return _confirm(request, plan)
            token = plans.plan_token(
                nonce=services.plan_nonce(plan), fingerprint=plan.fingerprint, **bind
            )
        except (plans.PlanRefused, services.InventoryError) as exc:
            form.add_error(None, str(exc))
            plan = None
    context = {
        "depot": depot,
        "part": part,
        "level": level,
        "form": form,
        "plan": plan,
        "token": token,
        "has_sources": bool(sources),
        "wanted": wanted,
        "short_offer": offered_from is not None and offered < wanted,
        "action_url": reverse(
            "dispatch:inventory_replenish", args=[depot.vendor_id, part.vendor_id]
        ),
    }
    return render(request, "dispatch/inventory/replenish.html", context)


def _confirm(request: HttpRequest, plan) -> HttpResponse:
    try:
        batch = services.replenish_enqueue(plan=plan, by=request.user)
    except NoCredential as exc:
        messages.error(request, str(exc))
        return redirect("dispatch:inventory_below")
    messages.success(request, "Sent to Synchroteam through the outbox. This page follows it.")
    return redirect("dispatch:inventory_request", batch_uuid=batch.uuid)


@tenant_member_required()
def replenish_request(request: HttpRequest, batch_uuid) -> HttpResponse:
    """The part request's write and its state (HTMX polls until settled)."""
    batch = services.replenish_batch(tenant=request.tenant, batch_uuid=batch_uuid)
    if batch is None:
        raise Http404("Not found.")
    writes = list(batch.writes.order_by("id"))
    context = {
        "batch": batch,
        "writes": writes,
        "settled": all(w.is_terminal or w.is_waiting_for_person for w in writes),
        "subject": batch.subject or {},
    }
    template = (
        "dispatch/inventory/_request.html" if request.htmx else "dispatch/inventory/request.html"
    )
    return render(request, template, context)
