"""Syncro's mirror watcher (`connectors.events.watch`): invoices.

A Syncro invoice appears in the mirror when the portal's ``POST /invoices`` is confirmed (the
outbox writes it through, `connectors.syncro.writes.InvoiceCreate`) or when a sync brings one
made in Syncro: either raises ``invoice.created`` once. ``is_paid`` turning true raises
``invoice.paid`` (seed /syncro; ``GET /invoices`` item ``is_paid``).
"""

from __future__ import annotations

from django.db.models import Case, CharField, Value, When

from connectors.events.watch import Watcher, register
from connectors.events.watch import invoice_events as shared_invoice_events
from connectors.syncro.models import SyncroInvoice

VENDOR = "syncro"
PAYMENT = Case(
    When(is_paid=True, then=Value("paid")), default=Value("unpaid"), output_field=CharField()
)


def invoice_events(
    invoice: SyncroInvoice, previous: str | None, state: str
) -> list[tuple[str, dict]]:
    """``invoice.created`` for a new invoice, ``invoice.paid`` when it becomes paid."""
    data = {
        "vendor": VENDOR,
        "invoice_id": invoice.vendor_id,
        "number": invoice.number,
        "customer_id": invoice.customer_vendor_id,
        "ticket_id": invoice.ticket_vendor_id,
        "total": str(invoice.total) if invoice.total is not None else None,
        "status": state,
    }
    return shared_invoice_events(data, previous, state)


def register_watchers() -> None:
    """Called from `SyncroConfig.ready`."""
    register(Watcher("syncro.invoices", VENDOR, SyncroInvoice, PAYMENT, invoice_events, "invoices"))
