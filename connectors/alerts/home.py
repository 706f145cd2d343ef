"""The morning page's open-alerts card, for ``accounts.home.CARDS["alerts"]``
(``"connectors.alerts.home.alerts_card"``). One query: the open, unsnoozed alerts the member sees
(the same rows as `connectors.alerts.services.open_alerts` and the header bell)."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from accounts.home import Card
from connectors.alerts.services import visible_alerts

ITEMS_SHOWN = 4


def alerts_card(request: HttpRequest) -> Card | None:
    """The count of open, unsnoozed alerts the member may see, the newest few (kind and message,
    each linking where it is fixed), and a link to the alerts list. None without a member."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return None
    alerts = list(visible_alerts(request.tenant, membership.role, request.user).open().unsnoozed())
    items = [
        (f"{a.get_kind_display()}: {a.message[:90]}{'…' if len(a.message) > 90 else ''}",
         a.link or reverse("alerts:list"))
        for a in alerts[:ITEMS_SHOWN]
    ]  # fmt: skip
    count = len(alerts)
    reason = (
        "Each closes itself when the problem is gone; snooze one from the list to quiet it."
        if count
        else "Syncs, keys, quotas and writes look fine."
    )
    return Card(
        key="alerts",
        title="Open alerts",
        count=count,
        reason=reason,
        url=reverse("alerts:list"),
        attention=bool(count),
        items=items,
    )


__all__ = ["alerts_card"]
