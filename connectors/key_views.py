"""My vendor keys (``/integrations/keys/``): every member adds, verifies, rotates and revokes
their own key for each vendor that attributes writes to a key's user (Syncro); owners and
admins also see whose key is missing.

A key is loaded only among the signed-in person's own live keys of the active company
(`_own_key`), so another person's or company's key is a 404, whatever the role. A new or
rotated key is checked with the vendor before it is saved (`connectors.connect`); the secret
is never rendered.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts import access
from accounts.models import Credential, CredentialPurpose
from connectors.connect import credential_verify, key_overview, personal_key_save
from connectors.connect_forms import KeyForm
from connectors.connect_views import connectable
from connectors.models import Connection
from connectors.vendors import all_vendors


def _rows(request: HttpRequest) -> list[dict]:
    """One row per vendor with personal keys: descriptor, connection (or None), own key."""
    connections = {c.vendor: c for c in access.tenant_queryset(request, Connection)}
    own = {
        c.vendor: c
        for c in access.tenant_queryset(request, Credential.objects.usable()).filter(
            owner=request.user, purpose=CredentialPurpose.API
        )
    }
    return [
        {"vendor": v, "connection": connections.get(v.name), "key": own.get(v.name)}
        for v in all_vendors()
        if v.connect is not None and v.connect.personal_keys
    ]


def _page(request: HttpRequest, *, failed: str = "", form: KeyForm | None = None) -> HttpResponse:
    rows = _rows(request)
    vendors = [r["vendor"].name for r in rows if r["connection"]]
    team = key_overview(request.tenant, vendors) if request.membership.is_manager else None
    context = {"rows": rows, "failed": failed, "form": form, "blank": KeyForm(), "team": team}
    context["team_vendors"] = [r["vendor"] for r in rows if r["connection"]]
    return render(request, "connectors/my_keys.html", context, status=400 if failed else 200)


def _own_key(request: HttpRequest, key_uuid: str) -> Credential:
    mine = Credential.objects.usable().filter(owner=request.user, purpose=CredentialPurpose.API)
    return access.get_for_tenant_or_404(request, mine.select_related("tenant"), uuid=key_uuid)


def _connection(request: HttpRequest, vendor: str) -> Connection:
    return access.get_for_tenant_or_404(request, Connection, vendor=vendor)


def _saved(request: HttpRequest, form: KeyForm, connection: Connection, key=None):
    """Check and save the typed key; the page again with the vendor's answer when refused."""
    if not form.is_valid():
        return _page(request, failed=connection.vendor, form=form)
    check = personal_key_save(
        connection=connection,
        user=request.user,
        secret=form.cleaned_data["secret"],
        by=request.user,
        credential=key,
    )
    if not check.ok:
        form.add_error("secret", check.message)
        return _page(request, failed=connection.vendor, form=form)
    prefix = connection.vendor_descriptor.connect.identity_prefix
    messages.success(request, f"Key saved and verified. {prefix}{check.message}.")
    return redirect("connectors:my_keys")


@access.tenant_member_required()
def my_keys(request: HttpRequest) -> HttpResponse:
    """GET: the person's own keys, and (owners, admins) the team's."""
    return _page(request)


@sensitive_post_parameters("secret")
@access.tenant_member_required()
@require_POST
def key_add(request: HttpRequest, vendor: str) -> HttpResponse:
    """POST: add my own key for `vendor` (rotates it if I have one already)."""
    descriptor = connectable(vendor)
    if not descriptor.connect.personal_keys:
        raise Http404("This vendor has no personal keys.")
    connection = _connection(request, descriptor.name)
    key = next((r["key"] for r in _rows(request) if r["vendor"].name == descriptor.name), None)
    return _saved(request, KeyForm(request.POST), connection, key)


@sensitive_post_parameters("secret")
@access.tenant_member_required()
@require_POST
def key_rotate(request: HttpRequest, key_uuid: str) -> HttpResponse:
    """POST: replace my key with a new one the vendor accepts."""
    key = _own_key(request, key_uuid)
    return _saved(request, KeyForm(request.POST), _connection(request, key.vendor), key)


@access.tenant_member_required()
@require_POST
def key_verify(request: HttpRequest, key_uuid: str) -> HttpResponse:
    """POST: ask the vendor again who my key belongs to."""
    key = _own_key(request, key_uuid)
    check = credential_verify(
        connection=_connection(request, key.vendor), credential=key, by=request.user
    )
    (messages.success if check.ok else messages.error)(request, check.message)
    return redirect("connectors:my_keys")


@access.tenant_member_required()
@require_POST
def key_revoke(request: HttpRequest, key_uuid: str) -> HttpResponse:
    """POST: revoke my key; my writes then use the company key (and say so)."""
    key = _own_key(request, key_uuid)
    key.revoke(by=request.user)
    messages.success(request, f"Revoked your key …{key.fingerprint}.")
    return redirect("connectors:my_keys")
