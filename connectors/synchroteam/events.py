"""Synchroteam's mirror watchers (`connectors.events.watch`): job status changes and invoices.

* Jobs (``job/list`` ``status``: created, scheduled, synchronized, started, paused, completed,
  validated, cancelled; vendor-apis.md §2.5): every change raises ``job.status_changed``; a
  change to ``completed`` also raises ``job.completed`` (a job validated straight from an
  earlier status counts as completed too).
* Invoices (``invoice/list`` ``status``: draft, sent, paid, as the sandbox emulates it): a new
  invoice raises ``invoice.created``; a change to ``paid`` raises ``invoice.paid``.
"""

from __future__ import annotations

from django.db.models import F

from connectors.events.registry import JOB_COMPLETED, JOB_STATUS_CHANGED
from connectors.events.watch import Watcher, register
from connectors.events.watch import invoice_events as shared_invoice_events
from connectors.synchroteam.models import SynchroteamInvoice, SynchroteamJob

VENDOR = "synchroteam"
DONE = ("completed", "validated")


def _iso(value):
    return value.isoformat() if value else None


def job_events(job: SynchroteamJob, previous: str | None, status: str) -> list[tuple[str, dict]]:
    """``job.status_changed`` always; ``job.completed`` when the job reaches completed (or
    validated without having been completed before)."""
    data = {
        "vendor": VENDOR,
        "job_id": job.vendor_id,
        "num": job.num,
        "my_id": job.my_id,
        "status": status,
        "previous_status": previous,
        "customer_id": job.customer_vendor_id,
        "technician_id": job.technician_vendor_id,
        "scheduled_start": _iso(job.scheduled_start),
        "actual_start": _iso(job.actual_start),
        "actual_end": _iso(job.actual_end),
    }
    events = [(JOB_STATUS_CHANGED, data)]
    if status in DONE and previous not in DONE:
        events.append((JOB_COMPLETED, data))
    return events


def invoice_events(
    invoice: SynchroteamInvoice, previous: str | None, status: str
) -> list[tuple[str, dict]]:
    """``invoice.created`` for a new invoice, ``invoice.paid`` when its status becomes paid."""
    data = {
        "vendor": VENDOR,
        "invoice_id": invoice.vendor_id,
        "number": invoice.num,
        "customer_id": invoice.customer_vendor_id,
        "job_id": invoice.job_vendor_id,
        "total": str(invoice.total) if invoice.total is not None else None,
        "status": status,
    }
    return shared_invoice_events(data, previous, status)


def register_watchers() -> None:
    """Called from `SynchroteamConfig.ready`."""
    register(Watcher("synchroteam.jobs", VENDOR, SynchroteamJob, F("status"), job_events, "jobs"))
    register(
        Watcher(
            "synchroteam.invoices",
            VENDOR,
            SynchroteamInvoice,
            F("status"),
            invoice_events,
            "invoices",
        )
    )
