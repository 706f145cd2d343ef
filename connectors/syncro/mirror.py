"""Write-through: the Syncro mirror updated from the answers of confirmed outbox writes.

Each function is a handler's `write_through` (`connectors.syncro.writes`): it runs in the
transaction that confirms the write (`connectors.outbox.services.set_state`, in a savepoint, so
a failure here is logged and left to the next sync), reads the record from
``write.mirror_record`` (a targeted GET made by the executor before that transaction, or what
`find` / `after_confirm` already read) or else the write's own answer (``write.response``), and
maps it with the same `connectors.syncro.mapping` functions the sync uses.

=====================  ==============================  =======================================
confirmed write        mirrored from                   rows
=====================  ==============================  =======================================
comment.create         the ``{"comment": …}`` answer,  SyncroTicketComment
                       or the comment `find` matched
line_item.create       the flat answer, or the ticket  SyncroLineItem (``ticket_vendor_id``)
                       line item `find` matched
invoice.create         GET /invoices/{id} (the POST    SyncroInvoice, its lines as SyncroLineItem
                       answer has no line items)       (``invoice_vendor_id`` and the invoice's
                                                       ticket); the ticket line items it pulled
                                                       are marked gone (soft-deleted)
ticket.update          the ``{"ticket": …}`` answer,   SyncroTicket (status, …)
                       else GET /tickets/{id}
=====================  ==============================  =======================================

Why the pulled ticket line items are soft-deleted: the mirror has one line-item table, and the
sync fills it from ``GET /line_items`` (invoice line items) only, so after the next full sweep
a ticket line item is gone from it anyway. ``POST /invoices`` copies each not-yet-invoiced
ticket line item into an invoice line (``name`` = the ticket line item's ``description``,
sandbox and seed ``/syncro``); the invoice line, linked to the ticket, takes its place, and the
ticket is not counted twice ("charges not invoiced" and "invoiced").
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from connectors.outbox.handlers import BaseHandler
from connectors.syncro.mapping import map_comment, map_invoice, map_line_item, map_ticket
from connectors.syncro.models import (
    SyncroInvoice,
    SyncroLineItem,
    SyncroTicket,
    SyncroTicketComment,
)

#: Keys a ticket answer must have to replace the mirror row (a partial answer would blank the
#: other columns).
TICKET_KEYS = ("id", "subject", "status", "customer_id")


def is_full_ticket(record: Any) -> bool:
    """True when `record` is a whole Syncro ticket (the ``PUT /tickets/{id}`` or
    ``GET /tickets/{id}`` body), not a partial answer."""
    return isinstance(record, dict) and all(k in record for k in TICKET_KEYS)


def _with_ticket(record: dict | None, write) -> dict | None:
    """`record` with its ``ticket_id`` filled from the write's target when the answer lacks it."""
    if not isinstance(record, dict):
        return None
    if record.get("ticket_id") is None and write.target.get("ticket_id") is not None:
        return {**record, "ticket_id": write.target["ticket_id"]}
    return record


def comment(write) -> SyncroTicketComment | None:
    """Mirror the comment a confirmed ``POST /tickets/{id}/comment`` created."""
    record = _with_ticket(BaseHandler.answer_of(write), write)
    return BaseHandler.mirror_answer(write, map_comment, SyncroTicketComment, record)


def line_item(write) -> SyncroLineItem | None:
    """Mirror the ticket line item a confirmed ``POST /tickets/{id}/add_line_item`` created
    (price from its ``price_retail``: the product's rate, as Syncro applied it)."""
    record = _with_ticket(BaseHandler.answer_of(write), write)
    return BaseHandler.mirror_answer(write, map_line_item, SyncroLineItem, record)


def ticket(write) -> SyncroTicket | None:
    """Mirror the ticket a confirmed ``PUT /tickets/{id}`` changed, when the record is a whole
    ticket (else nothing: the next sync brings it)."""
    record = BaseHandler.answer_of(write)
    if not is_full_ticket(record):
        return None
    return BaseHandler.mirror_answer(write, map_ticket, SyncroTicket, record)


def invoice(write) -> SyncroInvoice | None:
    """Mirror the invoice a confirmed ``POST /invoices`` created, with its lines when the
    record has them (``GET /invoices/{id}``), and retire the ticket line items it pulled."""
    record = BaseHandler.answer_of(write)
    row = BaseHandler.mirror_answer(write, map_invoice, SyncroInvoice, record)
    lines = record.get("line_items") if row is not None else None
    if not isinstance(lines, list):
        return row
    ticket_id = row.ticket_vendor_id or write.target.get("ticket_id")
    names = set()
    for line in lines:
        if not isinstance(line, dict):
            continue
        names.add(line.get("name") or "")
        values = {
            **line,
            "invoice_id": line.get("invoice_id") or row.vendor_id,
            "ticket_id": line.get("ticket_id") or ticket_id,
        }
        BaseHandler.mirror_answer(write, map_line_item, SyncroLineItem, values)
    if ticket_id is not None:
        _retire_pulled_ticket_lines(write, int(ticket_id), names - {""})
    return row


def _retire_pulled_ticket_lines(write, ticket_id: int, names: set[str]) -> int:
    """Soft-delete the ticket's open ticket line items whose description became an invoice
    line's ``name``; returns how many."""
    pulled = [
        li.pk
        for li in SyncroLineItem.objects.filter(
            connection_id=write.connection_id,
            ticket_vendor_id=ticket_id,
            invoice_vendor_id__isnull=True,
            is_deleted=False,
        ).only("pk", "raw")
        if (li.raw or {}).get("description") in names
    ]
    if not pulled:
        return 0
    return SyncroLineItem.objects.filter(pk__in=pulled).update(
        is_deleted=True, deleted_at=timezone.now()
    )
