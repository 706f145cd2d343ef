"""Attach the active tenant and membership to each request."""

from __future__ import annotations

from accounts.access import resolve_membership


class TenantMiddleware:
    """Sets ``request.membership`` and ``request.tenant`` (both None for anonymous users).

    Costs one query (memberships with their tenants) per signed-in request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = resolve_membership(request)
        request.tenant = request.membership.tenant if request.membership else None
        response = self.get_response(request)
        if request.user.is_authenticated and "text/html" in response.get("Content-Type", ""):
            # Pages of a signed-in person hold tenant data: never keep them in shared caches.
            response.setdefault("Cache-Control", "no-store, private")
        return response
