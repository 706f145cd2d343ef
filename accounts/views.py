"""Tenant switching and company settings (the home page is `accounts.home`)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import access
from accounts.forms import TenantSettingsForm
from accounts.models import MANAGER_ROLES


@login_required
def tenant_list(request: HttpRequest) -> HttpResponse:
    """Every company the person belongs to, to switch between them."""
    memberships = access.memberships_for(request.user)
    return render(request, "accounts/tenant_list.html", {"memberships": memberships})


@login_required
@require_POST
def tenant_switch(request: HttpRequest, tenant_uuid: str) -> HttpResponse:
    return access.switch_tenant(request, tenant_uuid)


@access.tenant_member_required(roles=MANAGER_ROLES)
def tenant_settings(request: HttpRequest) -> HttpResponse:
    """Company settings and members (owners and admins only)."""
    tenant = request.tenant
    form = TenantSettingsForm(request.POST or None, instance=tenant)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Company settings saved.")
        return redirect("tenant_settings")
    members = tenant.memberships.select_related("user").order_by("role", "user__email")
    return render(request, "accounts/tenant_settings.html", {"form": form, "members": members})
