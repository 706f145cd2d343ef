"""Tenant access: the one helper every view uses to load tenant-scoped objects.

The active tenant is kept in the session (`tenant_id`) and resolved by `TenantMiddleware` into
``request.tenant`` and ``request.membership``. Views are guarded with `tenant_member_required`,
and load objects with `get_for_tenant_or_404`, which answers 404 (never 403) for another
tenant's object so the existence of foreign ids is not revealed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import redirect

from accounts.models import Membership, Tenant

SESSION_KEY = "tenant_id"
M = TypeVar("M", bound=Model)


def memberships_for(user) -> QuerySet[Membership]:
    return Membership.objects.for_user(user)


def resolve_membership(request: HttpRequest) -> Membership | None:
    """The user's active membership: the session's tenant if still valid, else their first one.

    Also leaves every active membership of the user on ``request.memberships`` (one query, tenants
    joined), for the page's company switcher.
    """
    request.memberships = []
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = request.memberships = list(memberships_for(user))
    if not memberships:
        return None
    wanted = request.session.get(SESSION_KEY)
    for m in memberships:
        if m.tenant_id == wanted:
            return m
    first = memberships[0]
    request.session[SESSION_KEY] = first.tenant_id
    return first


def tenant_member_required(roles: Iterable[str] | None = None) -> Callable:
    """View decorator: the user is signed in and a member of the active tenant.

    Args:
        roles: when given, the member's role must be one of these, else 403.
    Anonymous users are sent to the login page; a signed-in person with no membership gets 403.
    """
    allowed = set(roles) if roles else None

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = request.membership
            if membership is None:
                raise PermissionDenied("You are not a member of any company in this portal.")
            if allowed is not None and membership.role not in allowed:
                raise PermissionDenied("Your role does not allow this page.")
            return view(request, *args, **kwargs)

        wrapped.tenant_roles = allowed  # read by the URL access-matrix test
        return wrapped

    return decorator


def tenant_queryset(request: HttpRequest, model_or_qs: type[M] | QuerySet[M]) -> QuerySet[M]:
    """`model_or_qs` restricted to the active tenant (by its `tenant` foreign key)."""
    qs = model_or_qs if isinstance(model_or_qs, QuerySet) else model_or_qs._default_manager.all()
    tenant: Tenant | None = getattr(request, "tenant", None)
    if tenant is None:
        return qs.none()
    return qs.filter(tenant=tenant)


def get_for_tenant_or_404(request: HttpRequest, model_or_qs: type[M] | QuerySet[M], **lookup) -> M:
    """Load one object of the active tenant, or raise Http404 (also for another tenant's object)."""
    try:
        return tenant_queryset(request, model_or_qs).get(**lookup)
    except (ObjectDoesNotExist, ValidationError, ValueError):
        # missing, another tenant's, or a malformed id (e.g. not a UUID): all the same 404
        raise Http404("Not found.") from None


def switch_tenant(request: HttpRequest, tenant_uuid: str):
    """Make `tenant_uuid` the active tenant if the user is a member; 404 otherwise."""
    membership = memberships_for(request.user).filter(tenant__uuid=tenant_uuid).first()
    if membership is None:
        raise Http404("Not found.")
    request.session[SESSION_KEY] = membership.tenant_id
    return redirect("home")
