"""The billing audit trail: a person's decisions (`ApprovalEvent`) and every request the outbox
made for their writes (`VendorWriteAttempt`), merged by time for the draft page's timeline, the
audit page and the CSV download.

* `draft_timeline(draft) -> list[AuditEntry]`, newest first
* `audit_entries(tenant=, start=, end=) -> Iterator[AuditEntry]`, oldest first, streamed
* `events_csv(tenant=, start=, end=) -> Iterator[str]`: CSV lines (stdlib `csv`), header first
"""

from __future__ import annotations

import datetime as dt
import heapq
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils import timezone

from accounts.downloads import csv_writer
from accounts.models import Tenant
from billing.models import ApprovalEvent, BillingDraft
from connectors.outbox.models import VendorWriteAttempt

CSV_COLUMNS = [
    "at",
    "kind",
    "actor",
    "ticket_number",
    "ticket_id",
    "draft",
    "operation",
    "write",
    "note",
    "before",
    "after",
]


@dataclass(frozen=True)
class AuditEntry:
    """One line of a draft's or the tenant's audit trail: a person's decision (`ApprovalEvent`)
    or one request the outbox made for a write (`VendorWriteAttempt`).

    `kind` is the event kind ("approved") or ``write.<attempt kind>`` ("write.send").
    """

    at: dt.datetime
    kind: str
    label: str
    actor: object
    ticket_number: str
    ticket_vendor_id: int | None
    draft_uuid: str
    operation: str
    write_uuid: str
    note: str
    before: dict
    after: dict

    def get_kind_display(self) -> str:
        """The kind in words (the same call as on an `ApprovalEvent`, for shared templates)."""
        return self.label


def _entry_from_event(e: ApprovalEvent) -> AuditEntry:
    return AuditEntry(
        e.at,
        e.kind,
        e.get_kind_display(),
        e.actor,
        e.ticket_number,
        e.ticket_vendor_id,
        str(e.draft.uuid) if e.draft_id else "",
        e.operation,
        str(e.write_uuid or ""),
        e.note,
        e.before,
        e.after,
    )


def _entry_from_attempt(a: VendorWriteAttempt) -> AuditEntry:
    w = a.write
    draft = getattr(w.batch, "draft", None) if w.batch_id else None
    subject = w.batch.subject if w.batch_id else {}
    after = {"outcome": a.outcome, "http_status": a.http_status, "state": w.state}
    if a.outcome == VendorWriteAttempt.Outcome.REJECTED and w.vendor_message:
        after["vendor_message"] = w.vendor_message
    return AuditEntry(
        a.at,
        f"write.{a.kind}",
        f"{a.get_kind_display()}: {a.get_outcome_display()}",
        a.actor,
        subject.get("ticket_number", ""),
        w.target.get("ticket_id"),
        str(draft.uuid) if draft else "",
        w.operation,
        str(w.uuid),
        a.detail,
        {},
        after,
    )


def _attempts(**filters):
    return VendorWriteAttempt.objects.filter(**filters).select_related(
        "actor", "write", "write__batch", "write__batch__draft"
    )


def draft_timeline(draft: BillingDraft) -> list[AuditEntry]:
    """The draft's audit trail, newest first: its events and every outbox request for its
    writes (sends, looks for the marker, resolutions by a person)."""
    entries = [_entry_from_event(e) for e in draft.events.select_related("actor", "draft")]
    if draft.batch_id:
        entries += [_entry_from_attempt(a) for a in _attempts(write__batch_id=draft.batch_id)]
    return sorted(entries, key=lambda e: e.at, reverse=True)


def audit_entries(*, tenant: Tenant, start: dt.date, end: dt.date) -> Iterator[AuditEntry]:
    """The tenant's audit trail from `start` to `end` (inclusive local days of the active
    zone), oldest first, streamed from the database in chunks (events and write attempts
    merged by time)."""
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    events = (
        ApprovalEvent.objects.filter(tenant=tenant, at__gte=lo, at__lt=hi)
        .select_related("actor", "draft")
        .order_by("at", "id")
    )
    attempts = _attempts(write__tenant=tenant, at__gte=lo, at__lt=hi).order_by("at", "id")
    yield from heapq.merge(
        (_entry_from_event(e) for e in events.iterator(chunk_size=1000)),
        (_entry_from_attempt(a) for a in attempts.iterator(chunk_size=1000)),
        key=lambda e: e.at,
    )


def events_csv(*, tenant: Tenant, start: dt.date, end: dt.date) -> Iterator[str]:
    """`audit_entries` as CSV lines (stdlib `csv`), header first. JSON columns are compact JSON."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return value

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for e in audit_entries(tenant=tenant, start=start, end=end):
        writer.writerow(
            [
                e.at.isoformat(),
                e.kind,
                e.actor.email if e.actor else "system",
                e.ticket_number,
                e.ticket_vendor_id or "",
                e.draft_uuid,
                e.operation,
                e.write_uuid,
                e.note,
                json.dumps(e.before, sort_keys=True, default=str),
                json.dumps(e.after, sort_keys=True, default=str),
            ]
        )
        yield flush()
