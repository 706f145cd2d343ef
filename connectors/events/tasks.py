"""django-q2 entry points of outbound webhooks; they take delivery ids, never secrets. The
``events:webhook-sweep`` schedule (`connectors.schedules`) stores the dotted path of `sweep`:
keep the names."""

from __future__ import annotations

from connectors.events import delivery


def deliver(delivery_id: int) -> str:
    """One attempt of one delivery (enqueued on commit of the event, or by the sweep)."""
    return delivery.deliver(delivery_id)


def sweep() -> int:
    """Every minute: retries whose time has come and deliveries a dead worker left."""
    return delivery.deliver_due()
