"""``{% alerts_bell_count %}``: the header bell's number (``templates/connectors/_alerts_bell.html``)."""

from __future__ import annotations

from django import template

from connectors.alerts.services import visible_alerts

register = template.Library()

#: The bell shows at most this many ("99+" past it), so it never counts every alert row.
BELL_CAP = 99


@register.simple_tag(takes_context=True)
def alerts_bell_count(context) -> int | None:
    """Open, unsnoozed alerts the signed-in member sees in the active company, counted up to
    `BELL_CAP` + 1 (a bounded ``COUNT(*)`` of a ``LIMIT`` subquery); None when the page has no
    member (signed out, no company)."""
    request = context.get("request")
    membership = getattr(request, "membership", None)
    if membership is None:
        return None
    alerts = visible_alerts(membership.tenant, membership.role, request.user).open().unsnoozed()
    return alerts.order_by().values("pk")[: BELL_CAP + 1].count()
