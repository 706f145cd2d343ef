"""The Syncro account's pick-lists: ticket statuses, technicians, priorities and problem types.

Syncro answers these from ``GET /tickets/settings`` (``ticket_status_list``, ``users``) and
``GET /users`` (``[[id, name], …]``), vendor-apis.md §1.6. Statuses are configurable per account,
so they are never hard-coded: when the connectors mirror those lists (a model with `statuses` /
`users`) we read them; until then we fall back to the seed's list merged with the statuses and
assignees present in the mirrored tickets. "Not Closed" is a filter value, not a stored status.

Each list costs one query and is cached per tenant for `LIST_CACHE_SECONDS`, so the ticket list
stays at a fixed number of queries.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.cache import cache

from accounts.models import Credential, Tenant

#: seed /syncro "Ticket statuses" (used only to order and complete what the account shows)
SEED_STATUSES = [
    "New",
    "In Progress",
    "Waiting on Customer",
    "Waiting on Vendor",
    "Scheduled",
    "Resolved",
    "Invoiced",
    "Closed",
]
#: statuses the "Not Closed" filter leaves out (Syncro calls a resolved ticket closed)
CLOSED_STATUSES = ("Resolved", "Closed")
NOT_CLOSED = "Not Closed"
SEED_PRIORITIES = ["Urgent", "High", "Normal", "Low"]


def _ttl() -> int:
    return getattr(settings, "BILLING_LIST_CACHE_SECONDS", 300)


def _settings_model():
    """The connectors' mirror of ``/tickets/settings`` if they provide one (else None)."""
    for name in ("SyncroTicketSettings",):
        try:
            return apps.get_model("syncro", name)
        except LookupError:
            continue
    return None


def _user_model():
    try:
        return apps.get_model("syncro", "SyncroUser")
    except LookupError:
        return None


def _ticket_model():
    return apps.get_model("syncro", "SyncroTicket")


def ticket_statuses(tenant: Tenant) -> list[str]:
    """The account's ticket statuses, in the account's order (seed order for the fallback)."""
    key = f"billing:statuses:{tenant.pk}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    statuses: list[str] = []
    model = _settings_model()
    if model is not None:
        row = model.objects.filter(tenant=tenant).order_by("-pk").first()
        statuses = list(getattr(row, "statuses", None) or getattr(row, "ticket_status_list", []))
    if not statuses:
        seen = set(
            _ticket_model()
            .objects.filter(tenant=tenant, is_deleted=False)
            .order_by()
            .values_list("status", flat=True)
            .distinct()
        )
        statuses = [s for s in SEED_STATUSES] + sorted(
            s for s in seen if s and s not in SEED_STATUSES
        )
    cache.set(key, statuses, _ttl())
    return statuses


def technicians(tenant: Tenant) -> dict[int, str]:
    """Syncro user id -> name, for the technician filter and the assignee column.

    Sources, best first: the connectors' Syncro users mirror; the names the portal's verified
    Syncro keys reported (GET /me); the ``user`` object of mirrored tickets; else
    "Syncro user <id>" for every assignee seen.
    """
    key = f"billing:techs:{tenant.pk}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    names: dict[int, str] = {}
    model = _user_model()
    if model is not None:
        for vid, name in model.objects.filter(tenant=tenant).values_list("vendor_id", "name"):
            names[int(vid)] = name
    for vid, identity, owner_first, owner_last in (
        Credential.objects.filter(tenant=tenant, vendor="syncro")
        .exclude(verified_vendor_user_id="")
        .values_list(
            "verified_vendor_user_id", "verified_identity", "owner__first_name", "owner__last_name"
        )
    ):
        if vid.isdigit():
            names.setdefault(int(vid), identity or f"{owner_first} {owner_last}".strip())
    tickets = _ticket_model().objects.filter(tenant=tenant, is_deleted=False)
    assignees = (
        tickets.filter(user_vendor_id__isnull=False)
        .order_by()
        .values_list("user_vendor_id", flat=True)
        .distinct()[:200]
    )
    for vid in assignees:
        if int(vid) in names:
            continue
        # one indexed lookup per assignee (tenant, user_vendor_id): the ticket's ``user`` object
        user = (
            tickets.filter(user_vendor_id=vid)
            .order_by("-vendor_created_at")
            .values_list("raw__user", flat=True)
            .first()
        )
        name = user.get("full_name") if isinstance(user, dict) else ""
        names[int(vid)] = name or f"Syncro user {vid}"
    cache.set(key, names, _ttl())
    return names


def priorities(tenant: Tenant) -> list[str]:
    """Priorities seen on the account's tickets (Syncro has no settings list for them)."""
    key = f"billing:priorities:{tenant.pk}"
    cached = cache.get(key)
    if cached is None:
        seen = (
            _ticket_model()
            .objects.filter(tenant=tenant, is_deleted=False)
            .exclude(priority="")
            .order_by()
            .values_list("priority", flat=True)
            .distinct()[:50]
        )
        cached = sorted(set(seen)) or list(SEED_PRIORITIES)
        cache.set(key, cached, _ttl())
    return cached


def problem_types(tenant: Tenant) -> list[str]:
    """Problem types seen on the account's tickets (free text at Syncro; offered as suggestions)."""
    key = f"billing:problem_types:{tenant.pk}"
    cached = cache.get(key)
    if cached is None:
        seen = (
            _ticket_model()
            .objects.filter(tenant=tenant, is_deleted=False)
            .exclude(problem_type="")
            .order_by()
            .values_list("problem_type", flat=True)
            .distinct()[:100]
        )
        cached = sorted(set(seen))
        cache.set(key, cached, _ttl())
    return cached
