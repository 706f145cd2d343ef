"""Syncro's mirror watcher (`connectors.events.watch`): invoices.

A Syncro invoice appears in the mirror when the portal's ``POST /invoices`` is confirmed (the
outbox writes it through, `connectors.syncro.writes.InvoiceCreate`) or when a sync brings one
made in Syncro: either raises ``invoice.created`` once. ``is_paid`` turning true raises
``invoice.paid`` (seed /syncro; ``GET /invoices`` item ``is_paid``).
"""

from __future__ import annotations

from django.db.models import Case, CharField, Value, When

from connectors.events.registry import INVOICE_CREATED, INVOICE_PAID
from connectors.events.watch import Watcher, register
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
    events = []
    if previous is None:
        events.append((INVOICE_CREATED, data))
    if state == "paid" and previous != "paid":
        events.append((INVOICE_PAID, data))
    return events


def register_watchers() -> None:
    """Called from `SyncroConfig.ready`."""
    register(Watcher("syncro.invoices", VENDOR, SyncroInvoice, PAYMENT, invoice_events, "invoices"))
