"""The outbound event types: name -> what it means and the keys of its ``data``.

Other modules raise events only through `connectors.events.services.emit_event` with one of
these names; an unknown name is a programming error (`UnknownEventType`). Adding a type here
makes it selectable on the endpoints page at once.
"""

from __future__ import annotations

from dataclasses import dataclass

JOB_STATUS_CHANGED = "job.status_changed"
JOB_COMPLETED = "job.completed"
INVOICE_CREATED = "invoice.created"
INVOICE_PAID = "invoice.paid"
STOCK_BELOW_THRESHOLD = "stock.below_threshold"


@dataclass(frozen=True)
class EventType:
    """One event type: its ``name`` (``job.completed``), a ``label`` for the settings page and
    the ``data`` keys receivers can rely on (docs/webhooks.md)."""

    name: str
    label: str
    data_keys: tuple[str, ...]


EVENT_TYPES: dict[str, EventType] = {
    t.name: t
    for t in (
        EventType(
            JOB_STATUS_CHANGED,
            "Job status changed (any Synchroteam job status)",
            ("vendor", "job_id", "num", "my_id", "status", "previous_status", "customer_id"),
        ),
        EventType(
            JOB_COMPLETED,
            "Job completed",
            ("vendor", "job_id", "num", "my_id", "status", "actual_end", "technician_id"),
        ),
        EventType(
            INVOICE_CREATED,
            "Invoice created",
            ("vendor", "invoice_id", "number", "customer_id", "total", "status"),
        ),
        EventType(
            INVOICE_PAID,
            "Invoice paid",
            ("vendor", "invoice_id", "number", "customer_id", "total", "status"),
        ),
        EventType(
            STOCK_BELOW_THRESHOLD,
            "Stock below threshold (a part in a depot or van)",
            ("part_id", "part_reference", "depot_id", "depot_name", "quantity", "threshold"),
        ),
    )
}


class UnknownEventType(ValueError):
    """`emit_event` was called with a name that is not in `EVENT_TYPES`."""


def event_type(name: str) -> EventType:
    """The `EventType` called `name`.

    Raises:
        UnknownEventType: no such type.
    """
    try:
        return EVENT_TYPES[name]
    except KeyError:
        raise UnknownEventType(f"Unknown event type {name!r}.") from None


def choices() -> list[tuple[str, str]]:
    """``[(name, "name — label")]`` for a form's checkboxes, in registry order."""
    return [(t.name, f"{t.name} — {t.label}") for t in EVENT_TYPES.values()]
