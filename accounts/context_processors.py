"""Template context shared by every page: navigation, tenant, memberships."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from accounts.localtime import zone_label
from accounts.models import MANAGER_ROLES

# (label, URL name, roles allowed or None for every member). Entries whose URL is not
# installed yet are left out, so the bar only links to pages that exist.
NAVIGATION = [
    ("Home", "home", None),
    ("Tickets", "billing:ticket_list", None),
    ("Billing", "billing:queue", None),
    ("Jobs", "dispatch:job_list", None),
    ("Reconciliation", "dispatch:unbilled", None),
    ("Timesheet", "dispatch:timesheet", None),
    ("Calendars", "dispatch:calendars", None),
    ("Inventory", "dispatch:inventory", None),
    ("Integrations", "connectors:integrations", None),
    ("Company", "tenant_settings", MANAGER_ROLES),
]


def portal(request: HttpRequest) -> dict:
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"nav_items": []}
    items = []
    path = request.path
    for label, url_name, roles in NAVIGATION:
        if roles is not None and membership.role not in roles:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        active = path == url if url == "/" else path.startswith(url)
        items.append({"label": label, "url": url, "active": active})
    # only the most specific entry is active (/reconciliation/timesheet/ is Timesheet's)
    longest = max((len(i["url"]) for i in items if i["active"]), default=0)
    for item in items:
        item["active"] = item["active"] and len(item["url"]) == longest
    user = request.user
    return {
        "local_zone_label": zone_label(),  # e.g. "PST (America/Los_Angeles)", in the header
        "nav_items": items,
        "current_tenant": membership.tenant,
        "current_membership": membership,
        "show_admin_link": user.is_staff
        and (user.is_superuser or membership.role in MANAGER_ROLES),
        "other_memberships": [
            m for m in getattr(request, "memberships", []) if m.tenant_id != membership.tenant_id
        ],
    }
