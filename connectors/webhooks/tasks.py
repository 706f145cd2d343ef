"""django-q2 task entry points of the webhooks and the calendar flush: ids in, one service call."""

from __future__ import annotations


def process_inbound_event(event_id: int) -> str:
    """Worker: refresh what an accepted inbound event names."""
    from connectors.webhooks.services import inbound_event_process

    return inbound_event_process(event_id=event_id)


def calendar_sync_flush() -> int:
    """Schedule entry point (``dispatch:calendar-sync-flush``, every minute): batched calendar
    syncs whose changes went quiet. Returns how many sync writes were enqueued."""
    from connectors.fieldcamp.services import calendar_sync_flush as flush

    return len(flush())
