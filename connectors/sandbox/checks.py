"""Did a vendor write take effect, and how many times? (for benchmarks, chaos runs and tests)

Reads the sandbox's own records (``Sandbox.syncro.ticket_records(ticket_id)``), never our rows.
"""

from __future__ import annotations

from typing import Any


def _line_item_markers(write) -> list[str]:
    markers = []
    step = write.depends_on
    while step is not None:
        if step.operation == "syncro.line_item.create":
            markers.append(step.marker)
        step = step.depends_on
    return markers


def vendor_copies(write, records: dict[str, Any]) -> int:
    """How many vendor records carry `write`'s effect on its ticket (1 = exactly once).

    Comments, line items and invoices are recognised by the write's marker. An invoice write
    confirmed against an invoice another draft created (its line item was pulled there) counts
    once when that invoice holds the line item's marker. Other operations (ticket updates, timer
    charges) count once when confirmed.
    """
    op, marker = write.operation, write.marker
    if op == "syncro.comment.create":
        return sum(1 for c in records["comments"] if marker in (c.get("body") or ""))
    if op == "syncro.line_item.create":
        return sum(1 for li in records["line_items"] if marker in (li.get("description") or ""))
    if op == "syncro.invoice.create":
        own = sum(1 for inv in records["invoices"] if marker in (inv.get("note") or ""))
        if own or write.state != "confirmed" or not write.remote_id:
            return own
        lines = [
            line
            for line in records["invoice_line_items"]
            if str(line.get("invoice_id")) == write.remote_id
        ]
        markers = _line_item_markers(write)
        held = markers and all(
            any(m in (line.get("name") or "") for line in lines) for m in markers
        )
        return 1 if held else 0
    return 1 if write.state == "confirmed" else 0


def timer_charge_line_items(ledger, *, vendor: str = "syncro") -> dict[int, int]:
    """``{timer id: line items the vendor created by charging it}`` from the sandbox's ledger
    (every committed ``POST /tickets/{id}/charge_timer_entry`` makes one; 2 = charged twice).

    Args:
        ledger: the sandbox's `connectors.sandbox.ledger.Ledger`.
    """
    counts: dict[int, int] = {}
    for entry in ledger.writes(vendor=vendor, method="POST"):
        if not entry.path.endswith("/charge_timer_entry") or not isinstance(entry.body, dict):
            continue
        made = len(entry.created("syncro.ticket_line_item"))
        if made:
            timer_id = int(entry.body.get("timer_entry_id") or 0)
            counts[timer_id] = counts.get(timer_id, 0) + made
    return counts
