"""django-q2 tasks of the dispatch side: ids in, one service call."""

from __future__ import annotations


def process_inbound_event(event_id: int) -> str:
    from connectors.webhooks.services import inbound_event_process

    return inbound_event_process(event_id=event_id)


def calendar_sync_flush() -> int:
    """Schedule entry point (every minute): batched calendar syncs whose changes went quiet."""
    from connectors.fieldcamp.services import calendar_sync_flush as flush

    return len(flush())
