"""Outbound webhook pages, for owners and admins (`MANAGER_ROLES`).

* Endpoints: list, add (the secret is shown once, on the answer to the add form, and never
  again: later pages show its last 4 characters), edit/disable, rotate the secret.
* Deliveries: every delivery of the company, newest first, filterable by state and endpoint;
  one delivery with its attempts (status, the answer's first characters, duration) and the
  exact body sent; re-send (a POST carrying a token made by the server for this delivery and
  person, `services.resend_token`).

Endpoints and deliveries are addressed by uuid within the active tenant
(`get_for_tenant_or_404`: another company's is a 404).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.access import get_for_tenant_or_404, tenant_member_required
from accounts.inputs import query_problems
from accounts.models import MANAGER_ROLES
from accounts.paging import CappedPaginator
from connectors.events import services
from connectors.events.delivery import envelope_bytes
from connectors.events.forms import DeliveryFilterForm, EndpointForm
from connectors.events.models import WebhookDelivery, WebhookEndpoint
from connectors.events.registry import EVENT_TYPES
from connectors.events.urlcheck import RefusedURL

PAGE_SIZE = 50


def _endpoint(request: HttpRequest, endpoint_uuid) -> WebhookEndpoint:
    return get_for_tenant_or_404(request, WebhookEndpoint, uuid=endpoint_uuid)


@tenant_member_required(MANAGER_ROLES)
def endpoint_list(request: HttpRequest) -> HttpResponse:
    """The company's endpoints with their latest delivery state."""
    endpoints = WebhookEndpoint.objects.for_tenant(request.tenant).defer("secret")
    return render(
        request,
        "events/endpoints.html",
        {"endpoints": endpoints, "event_types": EVENT_TYPES.values()},
    )


@tenant_member_required(MANAGER_ROLES)
def endpoint_new(request: HttpRequest) -> HttpResponse:
    """Add an endpoint; the answer shows its secret once."""
    form = EndpointForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            endpoint, secret = services.endpoint_create(
                request.tenant,
                url=data["url"],
                event_types=data["event_types"],
                description=data["description"],
                by=request.user,
            )
        except RefusedURL as exc:
            form.add_error("url", str(exc))
        else:
            response = render(
                request, "events/endpoint_secret.html", {"endpoint": endpoint, "secret": secret}
            )
            response["Cache-Control"] = "no-store, private"
            return response
    return render(request, "events/endpoint_form.html", {"form": form, "endpoint": None})


@tenant_member_required(MANAGER_ROLES)
def endpoint_edit(request: HttpRequest, endpoint_uuid) -> HttpResponse:
    """Change an endpoint's URL, events and description, or disable it."""
    endpoint = _endpoint(request, endpoint_uuid)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "is_active": endpoint.is_active,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.endpoint_update(
                endpoint,
                url=data["url"],
                event_types=data["event_types"],
                description=data["description"],
                is_active=data["is_active"],
            )
        except RefusedURL as exc:
            form.add_error("url", str(exc))
        else:
            messages.success(request, f"Saved {endpoint.url}.")
            return redirect("events:endpoints")
    return render(request, "events/endpoint_form.html", {"form": form, "endpoint": endpoint})


@require_POST
@tenant_member_required(MANAGER_ROLES)
def endpoint_rotate(request: HttpRequest, endpoint_uuid) -> HttpResponse:
    """A new secret for the endpoint, shown once."""
    endpoint = _endpoint(request, endpoint_uuid)
    secret = services.endpoint_rotate_secret(endpoint)
    response = render(
        request,
        "events/endpoint_secret.html",
        {"endpoint": endpoint, "secret": secret, "rotated": True},
    )
    response["Cache-Control"] = "no-store, private"
    return response


@tenant_member_required(MANAGER_ROLES)
def delivery_list(request: HttpRequest) -> HttpResponse:
    """Deliveries, newest first; ``?state=`` and ``?endpoint=<uuid>`` filter (values that do
    not parse, or an endpoint of another company, are named on the page and not applied)."""
    qs = (
        WebhookDelivery.objects.for_tenant(request.tenant)
        .select_related("event", "endpoint")
        .defer("endpoint__secret")
    )
    form = DeliveryFilterForm(request.GET)
    form.is_valid()
    problems = query_problems(form)
    state = form.cleaned_data.get("state") or ""
    if state:
        qs = qs.filter(state=state)
    endpoint = None
    if form.cleaned_data.get("endpoint"):
        endpoint = (
            WebhookEndpoint.objects.for_tenant(request.tenant)
            .defer("secret")
            .filter(uuid=form.cleaned_data["endpoint"])
            .first()
        )
        if endpoint is None:
            problems.append("No such endpoint: showing every endpoint's deliveries.")
        else:
            qs = qs.filter(endpoint=endpoint)
    context = {
        "page": CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page")),
        "states": WebhookDelivery.State.choices,
        "state": state,
        "endpoint": endpoint,
        "problems": problems,
    }
    return render(request, "events/deliveries.html", context)


@tenant_member_required(MANAGER_ROLES)
def delivery_detail(request: HttpRequest, delivery_uuid) -> HttpResponse:
    """One delivery: its attempts, the body sent, re-sends, and the re-send button."""
    delivery = get_for_tenant_or_404(
        request,
        WebhookDelivery.objects.select_related("event__tenant", "endpoint", "resent_from").defer(
            "endpoint__secret"
        ),
        uuid=delivery_uuid,
    )
    context = {
        "delivery": delivery,
        "attempts": delivery.tries.all(),
        "body": envelope_bytes(delivery.event).decode(),
        "siblings": WebhookDelivery.objects.filter(event=delivery.event)
        .exclude(pk=delivery.pk)
        .select_related("endpoint")
        .defer("endpoint__secret"),
        "token": services.resend_token(delivery, request.user),
    }
    return render(request, "events/delivery.html", context)


@require_POST
@tenant_member_required(MANAGER_ROLES)
def delivery_resend(request: HttpRequest, delivery_uuid) -> HttpResponse:
    """Queue a new delivery of the same event to the same endpoint."""
    delivery = get_for_tenant_or_404(request, WebhookDelivery, uuid=delivery_uuid)
    try:
        new = services.delivery_resend(
            delivery, token=request.POST.get("token", ""), by=request.user
        )
    except services.ResendRefused as exc:
        messages.error(request, str(exc))
        return redirect("events:delivery", delivery_uuid=delivery.uuid)
    messages.success(request, f"Re-send queued (same event id {delivery.event.uuid}).")
    return redirect("events:delivery", delivery_uuid=new.uuid)
