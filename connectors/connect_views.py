"""Connect a vendor from the portal (owners and admins): ``/integrations/connect/<vendor>/``.

GET shows the vendor's form (prefilled with the connected account, never a secret); POST
checks the key with the vendor before anything is saved (`connectors.connect.vendor_connect`).
A refused key re-renders the form with what was typed (not the secrets) and the vendor's
answer; success goes to the Integrations page, where the first sync is already running.
Other roles get 403; an unknown vendor, or one without a portal form, 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from accounts import access
from accounts.models import MANAGER_ROLES
from connectors.connect import Connected, vendor_connect
from connectors.connect_forms import ConnectForm
from connectors.models import Connection
from connectors.vendors import UnknownVendor, Vendor, vendor_for


def connectable(name: str) -> Vendor:
    """The descriptor of `name` if it has a portal connect form, else Http404."""
    try:
        descriptor = vendor_for(name)
    except UnknownVendor:
        raise Http404("No such vendor.") from None
    if descriptor.connect is None:
        raise Http404("This vendor is connected by an operator.")
    return descriptor


def _initial(connection: Connection | None) -> dict:
    if connection is None:
        return {}
    return {"account": connection.base_url or connection.account}


def _connected(descriptor: Vendor, result: Connected) -> str:
    """What the Integrations page says after a connect: the verified identity, and whether the
    first sync was queued ("Syncro: Authenticated as NAME (user_id=N). Key saved; first sync
    started (10 streams).")."""
    started = f"first sync started ({result.runs} streams)" if result.runs else "a sync was running"
    prefix = descriptor.connect.identity_prefix
    return f"{descriptor.label}: {prefix}{result.check.identity}. Key saved; {started}."


@sensitive_post_parameters("secret", "webhook_secret")
@access.tenant_member_required(roles=MANAGER_ROLES)
@sensitive_variables("data")
def vendor_connect_view(request: HttpRequest, vendor: str) -> HttpResponse:
    """GET: the "Connect <vendor>" form. POST: verify, then save and start the first sync."""
    descriptor = connectable(vendor)
    existing = Connection.objects.for_tenant(request.tenant).of(descriptor.name).first()
    form = ConnectForm(descriptor.connect, request.POST or None, initial=_initial(existing))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = vendor_connect(
            tenant=request.tenant,
            vendor=descriptor.name,
            account_text=data["account"],
            secret=data["secret"],
            webhook_secret=data.get("webhook_secret") or "",
            by=request.user,
        )
        if result.connection is not None:
            messages.success(request, _connected(descriptor, result))
            return redirect("connectors:integrations")
        form.add_error(result.check.field or None, result.check.message)
    context = {"form": form, "vendor": descriptor, "existing": existing}
    return render(request, "connectors/connect.html", context)
