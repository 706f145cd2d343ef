"""Read side of the invoice pages: a mirrored Syncro invoice with its lines, the invoices of a
ticket, and the invoice a draft's writes created (no writes, no vendor I/O).

An invoice is addressed by its Syncro id (``SyncroInvoice.vendor_id``), like tickets. It reaches
the mirror with the confirmation of the ``POST /invoices`` write (`connectors.syncro.mirror`)
or with the next sync; until then the portal knows it only as the remote id of a confirmed
invoice write, and the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Tenant
from connectors.outbox.models import VendorWrite
from connectors.syncro.models import SyncroInvoice, SyncroLineItem, SyncroTicket
from connectors.syncro.writes import INVOICE_CREATE


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def invoice_id_of(writes) -> int | None:
    """The Syncro id of the invoice a confirmed ``POST /invoices`` among `writes` created (a
    draft's or a ticket's writes), or None."""
    for w in writes or []:
        if w.operation == INVOICE_CREATE and w.state == VendorWrite.State.CONFIRMED:
            found = _int(w.remote_id)
            if found is not None:
                return found
    return None


@dataclass
class InvoicePage:
    """What the invoice page shows. `invoice` is None while the invoice is known only from the
    write that created it (`write`), not mirrored yet."""

    invoice_id: int
    invoice: SyncroInvoice | None
    lines: list[SyncroLineItem]
    ticket: SyncroTicket | None
    write: VendorWrite | None


def invoice_page(tenant: Tenant, invoice_id: int) -> InvoicePage | None:
    """The tenant's invoice `invoice_id` (Syncro id) with its mirrored lines, its ticket and the
    portal write that created it; None when the tenant has neither the invoice in its mirror
    nor a confirmed write that created it (another tenant's, or unknown)."""
    if not 0 < invoice_id < 2**63:
        return None
    invoice = SyncroInvoice.objects.filter(
        tenant=tenant, vendor_id=invoice_id, is_deleted=False
    ).first()
    write = (
        VendorWrite.objects.filter(
            tenant=tenant,
            operation=INVOICE_CREATE,
            state=VendorWrite.State.CONFIRMED,
            remote_id=str(invoice_id),
        )
        .select_related("batch")
        .order_by("-id")
        .first()
    )
    if invoice is None and write is None:
        return None
    lines = []
    if invoice is not None:
        lines = list(
            SyncroLineItem.objects.filter(
                tenant=tenant,
                connection_id=invoice.connection_id,
                invoice_vendor_id=invoice.vendor_id,
                is_deleted=False,
            ).order_by("position", "vendor_id")
        )
    ticket_id = invoice.ticket_vendor_id if invoice is not None else None
    if ticket_id is None and write is not None:
        ticket_id = _int(write.target.get("ticket_id"))
    ticket = (
        SyncroTicket.objects.filter(tenant=tenant, vendor_id=ticket_id, is_deleted=False).first()
        if ticket_id is not None
        else None
    )
    return InvoicePage(invoice_id, invoice, lines, ticket, write)


@dataclass
class TicketInvoice:
    """One invoice of a ticket on the ticket page: its Syncro id and, once mirrored, the row."""

    invoice_id: int
    invoice: SyncroInvoice | None


def ticket_invoices(ticket: SyncroTicket) -> list[TicketInvoice]:
    """The ticket's invoices: the mirrored ones, and those the portal's confirmed invoice writes
    created that are not mirrored yet; newest first (two queries)."""
    mirrored = {
        inv.vendor_id: inv
        for inv in SyncroInvoice.objects.filter(
            connection_id=ticket.connection_id,
            ticket_vendor_id=ticket.vendor_id,
            is_deleted=False,
        )
    }
    written = VendorWrite.objects.filter(
        tenant_id=ticket.tenant_id,
        operation=INVOICE_CREATE,
        state=VendorWrite.State.CONFIRMED,
        target__ticket_id=ticket.vendor_id,
    ).values_list("remote_id", flat=True)
    ids = set(mirrored) | {i for i in map(_int, written) if i is not None}
    return [TicketInvoice(i, mirrored.get(i)) for i in sorted(ids, reverse=True)]
