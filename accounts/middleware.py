"""Attach the active tenant and membership to each request, and activate its time zone."""

from __future__ import annotations

from django.utils import timezone

from accounts.access import resolve_membership
from accounts.localtime import zone_for


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
        elif "attachment" in response.get("Content-Disposition", ""):
            # A download (CSV, Markdown) is a copy of company data: never stored by a cache.
            response.setdefault("Cache-Control", "no-store, private")
        return response


class LocalTimeMiddleware:
    """Activates the request's time zone (`accounts.localtime.zone_for`: the person's, else the
    company's) for the view and its templates, and deactivates it afterwards.

    Must come after `TenantMiddleware` (it reads ``request.membership``); costs no query.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timezone.activate(zone_for(getattr(request, "membership", None)))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
