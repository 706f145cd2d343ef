"""Syncro write operations for the outbox: how each is sent once and found again.

Syncro has no idempotency on any endpoint ("one POST always creates one record"; an
``Idempotency-Key`` header is silently ignored: seed ``/syncro``, vendor-apis.md §1.9), so each
write carries a marker (``FL-XXXXXXXXXX``) in a field Syncro returns, and `find` looks for it:

=====================  =============================  ==========================================
operation              marker goes in                 found again through
=====================  =============================  ==========================================
comment.create         the end of ``body``            GET /tickets/{id}/comments (all pages)
line_item.create       the end of ``description``     GET /tickets/{id} → ``line_items``
invoice.create         ``note``                       GET /invoices?ticket_id= → ``note``; checked
                                                      first: a line item already invoiced (by
                                                      another draft's invoice) means no new one
ticket.create          a hidden first comment         GET /tickets?customer_id= + the comment
ticket.update          (a PUT of fields: idempotent)  GET /tickets/{id}: the fields have the values
timer.charge           (none: Syncro marks the timer  GET /tickets/{id} → ``ticket_timers[]``
                       ``recorded``)                  ``recorded`` / ``ticket_line_item_id``
=====================  =============================  ==========================================

After ``POST /invoices`` the response has no line items, so `after_confirm` reads
``GET /invoices/{id}`` and checks the ticket's line items arrived (seed ``/syncro`` billing
workflow step 7). Line items are never removed after invoicing.

Every confirmed write updates the mirror in the confirming transaction (`write_through`, see
`connectors.syncro.mirror`): from the answer, or from what `find` / `precheck` /
`after_confirm` already read (left on ``write.mirror_record``), or from one targeted GET
(`mirror_read`) where the answer is partial.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.errors import AmbiguousError
from connectors.outbox.handlers import BaseHandler, SendResult, register

#: Operation names (the outbox's `VendorWrite.operation`); import these, never spell them.
COMMENT_CREATE = "syncro.comment.create"
LINE_ITEM_CREATE = "syncro.line_item.create"
INVOICE_CREATE = "syncro.invoice.create"
TICKET_UPDATE = "syncro.ticket.update"
TICKET_CREATE = "syncro.ticket.create"
TIMER_CHARGE = "syncro.timer.charge"

COMMENT_REF = "\n\nRef: {marker}"
LINE_ITEM_REF = " [{marker}]"


def _id(record: Any, what: str) -> str:
    """The id of a created record; a 2xx without one is an ambiguous answer (it probably exists)."""
    if isinstance(record, dict) and record.get("id") is not None:
        return str(record["id"])
    raise AmbiguousError(f"Syncro answered 2xx but the {what} has no id", vendor="syncro")


def _qty(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.001"))
    except (InvalidOperation, TypeError, ValueError):
        return None


def _keep_for_mirror(write, found: list[dict]) -> None:
    """Leave the record `find` matched on the write for the mirror (no second read)."""
    if found:
        write.mirror_record = found[0]


class _Base(BaseHandler):
    vendor = "syncro"


class CommentCreate(_Base):
    """POST /tickets/{id}/comment with a flat body (a ``{"comment": …}`` wrapper gets 422)."""

    operation = COMMENT_CREATE
    mirrors = "ticket_comments"
    method = "POST"
    path = "/tickets/{ticket_id}/comment"
    label = "Comment"

    def apply_marker(self, payload: dict, marker: str) -> dict:
        body = dict(payload)
        body["body"] = f"{payload.get('body', '')}{COMMENT_REF.format(marker=marker)}"
        return body

    def describe(self, target: dict, payload: dict) -> str:
        return f"comment “{payload.get('subject', '')}” on ticket {target.get('ticket_id')}"

    def send(self, client, write) -> SendResult:
        p = write.payload
        comment = client.create_comment(
            int(write.target["ticket_id"]),
            subject=p["subject"],
            body=p["body"],
            hidden=bool(p.get("hidden", True)),
            do_not_email=bool(p.get("do_not_email", True)),
            tech=p.get("tech"),
        )
        return SendResult(_id(comment, "comment"), comment)

    def find(self, client, write) -> list[str]:
        comments = client.list_ticket_comments(int(write.target["ticket_id"]))
        found = [c for c in comments if write.marker in (c.get("body") or "")]
        _keep_for_mirror(write, found)
        return [str(c["id"]) for c in found]

    def write_through(self, write) -> None:
        """Mirror the comment (`connectors.syncro.mirror.comment`)."""
        from connectors.syncro import mirror

        mirror.comment(write)


class LineItemCreate(_Base):
    """POST /tickets/{id}/add_line_item: ``name`` and ``description`` required, ``taxable`` sent
    explicitly (Syncro taxes when it is omitted), ``price_retail`` omitted so the product's price
    applies (seed ``/syncro``)."""

    operation = LINE_ITEM_CREATE
    mirrors = "line_items"
    method = "POST"
    path = "/tickets/{ticket_id}/add_line_item"
    label = "Line item"

    def apply_marker(self, payload: dict, marker: str) -> dict:
        body = dict(payload)
        body["description"] = (
            f"{payload.get('description', '')}{LINE_ITEM_REF.format(marker=marker)}"
        )
        return body

    def describe(self, target: dict, payload: dict) -> str:
        return f"line item “{payload.get('name', '')}” × {payload.get('quantity')} on ticket {target.get('ticket_id')}"

    def send(self, client, write) -> SendResult:
        item = client.add_line_item(int(write.target["ticket_id"]), dict(write.payload))
        return SendResult(_id(item, "line item"), item)

    def find(self, client, write) -> list[str]:
        ticket = client.get_ticket(int(write.target["ticket_id"]))
        found = [
            li
            for li in ticket.get("line_items") or []
            if write.marker in (li.get("description") or "")
        ]
        _keep_for_mirror(write, found)
        return [str(li["id"]) for li in found]

    def write_through(self, write) -> None:
        """Mirror the ticket line item (`connectors.syncro.mirror.line_item`)."""
        from connectors.syncro import mirror

        mirror.line_item(write)


class InvoiceCreate(_Base):
    """POST /invoices with ``ticket_id``: Syncro pulls the ticket's line items (not its timers)."""

    operation = INVOICE_CREATE
    mirrors = "invoices"
    method = "POST"
    path = "/invoices"
    label = "Invoice"

    def apply_marker(self, payload: dict, marker: str) -> dict:
        body = dict(payload)
        note = payload.get("note")
        body["note"] = f"{note} {marker}" if note else marker
        return body

    def describe(self, target: dict, payload: dict) -> str:
        return f"invoice for ticket {target.get('ticket_id')}"

    def precheck(self, client, write) -> str | None:
        """Was this draft's line item already invoiced (by another draft's invoice on the same
        ticket)? ``POST /invoices`` pulls every not-yet-invoiced line item of the ticket, so a
        second invoice would come out empty: answer with the invoice that holds our line."""
        markers = _line_item_markers(write)
        if not markers:
            return None
        ticket = client.get_ticket(int(write.target["ticket_id"]))
        ours = [
            li
            for li in ticket.get("line_items") or []
            if any(m in (li.get("description") or "") for m in markers)
        ]
        if not ours or not all(li.get("converted") for li in ours):
            return None
        page = client.list_page("invoices", params={"ticket_id": int(write.target["ticket_id"])})
        for invoice in sorted(page.records, key=lambda i: int(i.get("id") or 0), reverse=True):
            detail = client.get_invoice(invoice["id"])
            names = " ".join((line.get("name") or "") for line in detail.get("line_items") or [])
            if all(m in names for m in markers):
                write.mirror_record = detail
                return str(invoice["id"])
        return None

    def send(self, client, write) -> SendResult:
        invoice = client.create_invoice(dict(write.payload))
        return SendResult(_id(invoice, "invoice"), invoice)

    def find(self, client, write) -> list[str]:
        page = client.list_page("invoices", params={"ticket_id": int(write.target["ticket_id"])})
        return [str(inv["id"]) for inv in page.records if write.marker in (inv.get("note") or "")]

    def mirror_read(self, client, write, remote_id: str, response) -> dict:
        """GET /invoices/{id}: the ``POST`` answer has no line items, and a write confirmed by
        `find` has no answer at all."""
        return client.get_invoice(remote_id)

    def write_through(self, write) -> None:
        """Mirror the invoice and its lines (`connectors.syncro.mirror.invoice`)."""
        from connectors.syncro import mirror

        mirror.invoice(write)

    def after_confirm(self, client, write, remote_id: str) -> str:
        invoice = client.get_invoice(remote_id)
        write.mirror_record = invoice  # the mirror reuses this read (no second GET)
        lines = invoice.get("line_items") or []
        if not lines:
            return (
                f"Invoice {invoice.get('number') or remote_id} was created but has no line items."
            )
        expected = _expected_lines(write)
        have = [(str(li.get("product_id")), _qty(li.get("quantity"))) for li in lines]
        missing = list((Counter(expected) - Counter(have)).elements())
        if missing:
            return (
                f"Invoice {invoice.get('number') or remote_id} was created but {len(missing)} approved line "
                "item(s) are not on it."
            )
        return ""


def _line_item_writes(write) -> list:
    """The line-item writes an invoice write must carry: those it follows in its chain (a
    draft invoiced at once) and those its target names (``lines``: business keys, a ticket's
    invoice approved on its own, `billing.invoicing`)."""
    out = []
    step = write.depends_on
    while step is not None:
        if step.operation == LineItemCreate.operation:
            out.append(step)
        step = step.depends_on
    keys = (write.target or {}).get("lines") or []
    if keys:
        from connectors.outbox.models import VendorWrite

        seen = {step.pk for step in out}
        out += [
            step
            for step in VendorWrite.objects.filter(
                tenant_id=write.tenant_id,
                business_key__in=[str(k) for k in keys],
                operation=LineItemCreate.operation,
            ).order_by("id")
            if step.pk not in seen
        ]
    return out


def _line_item_markers(write) -> list[str]:
    """Markers of the line-item writes this invoice write carries."""
    return [step.marker for step in _line_item_writes(write)]


def _expected_lines(write) -> list[tuple[str, Decimal | None]]:
    """(product_id, quantity) of the line-item writes this invoice write carries."""
    return [
        (str(step.payload.get("product_id")), _qty(step.payload.get("quantity")))
        for step in _line_item_writes(write)
    ]


class TicketUpdate(_Base):
    """PUT /tickets/{id} with only the changed fields (status, priority, user_id, …)."""

    operation = TICKET_UPDATE
    mirrors = "tickets"
    method = "PUT"
    path = "/tickets/{ticket_id}"
    label = "Ticket update"
    idempotent = True

    def describe(self, target: dict, payload: dict) -> str:
        fields = ", ".join(f"{k} → {v}" for k, v in payload.items())
        return f"ticket {target.get('ticket_id')}: {fields}"

    def send(self, client, write) -> SendResult:
        ticket = client.update_ticket(int(write.target["ticket_id"]), dict(write.payload))
        return SendResult(str(ticket.get("id") or write.target["ticket_id"]), ticket)

    def find(self, client, write) -> list[str]:
        ticket = client.get_ticket(int(write.target["ticket_id"]))
        same = all(str(ticket.get(k)) == str(v) for k, v in write.payload.items())
        if same:
            write.mirror_record = ticket
        return [str(ticket.get("id") or write.target["ticket_id"])] if same else []

    def mirror_read(self, client, write, remote_id: str, response) -> dict | None:
        """GET /tickets/{id} unless the answer is already the whole ticket."""
        from connectors.syncro.mirror import is_full_ticket

        if is_full_ticket(response):
            return None
        return client.get_ticket(int(write.target["ticket_id"]))

    def write_through(self, write) -> None:
        """Mirror the changed ticket (`connectors.syncro.mirror.ticket`)."""
        from connectors.syncro import mirror

        mirror.ticket(write)


class TicketCreate(_Base):
    """POST /tickets; the marker rides in a hidden first comment (``comments_attributes``)."""

    operation = TICKET_CREATE
    mirrors = "tickets"
    method = "POST"
    path = "/tickets"
    label = "New ticket"

    def apply_marker(self, payload: dict, marker: str) -> dict:
        body = dict(payload)
        body["comments_attributes"] = [
            {
                "subject": "Opened from Fieldline",
                "body": f"Ticket opened from the Fieldline portal.{COMMENT_REF.format(marker=marker)}",
                "hidden": True,
                "do_not_email": True,
            }
        ]
        return body

    def describe(self, target: dict, payload: dict) -> str:
        return (
            f"new ticket “{payload.get('subject', '')}” for customer {payload.get('customer_id')}"
        )

    def send(self, client, write) -> SendResult:
        ticket = client.create_ticket(dict(write.payload))
        return SendResult(_id(ticket, "ticket"), ticket)

    def write_through(self, write) -> None:
        """Upsert the new ticket into the mirror from Syncro's own answer (``POST /tickets``
        returns the ticket), so it can be picked at once instead of after the next sync
        (`BaseHandler.mirror_answer`)."""
        from connectors.syncro.mapping import map_ticket
        from connectors.syncro.models import SyncroTicket

        self.mirror_answer(write, map_ticket, SyncroTicket)

    def find(self, client, write) -> list[str]:
        since = (write.first_sent_at or write.created_at) - dt.timedelta(minutes=10)
        page = client.list_page(
            "tickets",
            params={
                "customer_id": write.payload["customer_id"],
                "created_after": since.isoformat(),
            },
        )
        found = []
        for ticket in page.records:
            if ticket.get("subject") != write.payload.get("subject"):
                continue
            comments = client.list_ticket_comments(int(ticket["id"]))
            if any(write.marker in (c.get("body") or "") for c in comments):
                found.append(str(ticket["id"]))
        return found


class TimerCharge(_Base):
    """POST /tickets/{id}/charge_timer_entry: charging twice makes two line items, so the timer is
    checked first (``recorded`` / ``ticket_line_item_id``; vendor-apis.md §1.9)."""

    operation = TIMER_CHARGE
    mirrors = "ticket_timers"
    method = "POST"
    path = "/tickets/{ticket_id}/charge_timer_entry"
    label = "Charge timer"

    def describe(self, target: dict, payload: dict) -> str:
        return f"charge timer {target.get('timer_entry_id')} on ticket {target.get('ticket_id')}"

    def _recorded(self, client, write) -> list[str]:
        ticket = client.get_ticket(int(write.target["ticket_id"]))
        timer_id = int(write.target["timer_entry_id"])
        for timer in ticket.get("ticket_timers") or []:
            if int(timer.get("id", -1)) == timer_id and timer.get("recorded"):
                return [str(timer.get("ticket_line_item_id") or timer_id)]
        return []

    def precheck(self, client, write) -> str | None:
        found = self._recorded(client, write)
        return found[0] if found else None

    def send(self, client, write) -> SendResult:
        timer = client.charge_timer_entry(
            int(write.target["ticket_id"]), int(write.target["timer_entry_id"])
        )
        if not isinstance(timer, dict) or not timer.get("recorded"):
            raise AmbiguousError(
                "Syncro answered but the timer is not marked recorded", vendor="syncro"
            )
        return SendResult(str(timer.get("ticket_line_item_id") or timer.get("id")), timer)

    def find(self, client, write) -> list[str]:
        return self._recorded(client, write)

    def write_through(self, write) -> None:
        """Mark the mirrored timer charged at once, so the ticket page stops offering it.

        Syncro's answer is the timer with ``recorded: true`` and its ``ticket_line_item_id``
        (vendor-apis.md §1.9): it is mirrored as it is (`BaseHandler.mirror_answer`). A charge
        confirmed by a look instead (the answer was lost after Syncro committed, or the precheck
        found the timer already recorded) has no answer: the mirrored row is marked
        ``recorded`` with the line item id the look found."""
        from connectors.syncro.mapping import map_timer
        from connectors.syncro.models import SyncroTimerEntry

        timer_id = str(write.target.get("timer_entry_id"))
        answer = write.response if isinstance(write.response, dict) else {}
        if str(answer.get("id")) == timer_id and answer.get("recorded"):
            self.mirror_answer(write, map_timer, SyncroTimerEntry)
            return
        if not timer_id.isdigit():
            return
        fields = {"recorded": True}
        if write.remote_id and write.remote_id != timer_id and write.remote_id.isdigit():
            fields["ticket_line_item_vendor_id"] = int(write.remote_id)
        SyncroTimerEntry.objects.filter(
            connection_id=write.connection_id, vendor_id=int(timer_id)
        ).update(**fields)


#: the outbox handlers of Syncro writes (exposed on the vendor descriptor)
HANDLERS = (
    CommentCreate(),
    LineItemCreate(),
    InvoiceCreate(),
    TicketUpdate(),
    TicketCreate(),
    TimerCharge(),
)
for _handler in HANDLERS:
    register(_handler)
