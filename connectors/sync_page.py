"""One page of a sync, written in one transaction: map, upsert, quarantine, checkpoint, counters.

`write_page` is what the engine (`connectors.sync.run_stream`) calls for every fetched page:

1. `map_page`: ``spec.map`` on every record; a `MappingError` quarantines the record.
2. `advance_checkpoint`: ``max_seen`` raised to the page's newest ``vendor_updated_at``.
3. In one transaction: the **fence** (``UPDATE`` of the stream's checkpoint and heartbeat
   where the lock is still this run's; no row means another run took the stream over:
   `LostLock`, nothing written), the upsert (`connectors.upsert.upsert_rows`), the quarantined
   records and one ``UPDATE`` of the run's counters (`record_page`).
4. The in-memory run gets the same counters, so the engine reads nothing back per page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from connectors.http import Page
from connectors.mapping import MappingError, StreamSpec
from connectors.models import QuarantinedRecord, SyncRun, SyncStream
from connectors.progress import pages_total_of
from connectors.upsert import UpsertCounts, update_by_pk, upsert_rows


class LostLock(Exception):
    """Another run took this stream over (our heartbeat went stale)."""


def to_iso(value: dt.datetime | None) -> str | None:
    """A checkpoint's datetime as ISO 8601 text (None stays None)."""
    return value.isoformat() if value else None


def from_iso(value: str | None) -> dt.datetime | None:
    """A checkpoint's ISO 8601 text as an aware datetime (None or "" gives None)."""
    return dt.datetime.fromisoformat(value) if value else None


def _engine_values(spec: StreamSpec, record: dict) -> dict:
    values = spec.map(record)
    if "vendor_id" not in values:
        raise MappingError("mapping produced no vendor_id")
    return values


@dataclass
class MappedPage:
    """One page after mapping, before anything is written.

    Attributes:
        good: ``{vendor_id: (values, raw record)}``; a page that repeats an id keeps the last.
        bad: unsaved `QuarantinedRecord` rows, one per record the mapping refused.
    """

    good: dict[Any, tuple[dict, dict]]
    bad: list[QuarantinedRecord]


def map_page(*, stream: SyncStream, run: SyncRun, spec: StreamSpec, page: Page) -> MappedPage:
    """Map every record of `page` with ``spec.map``; a `MappingError` quarantines the record
    with its message as the reason and its raw JSON (no database access)."""
    connection = stream.connection
    good: dict[Any, tuple[dict, dict]] = {}
    bad: list[QuarantinedRecord] = []
    for record in page.records:
        try:
            values = _engine_values(spec, record)
        except MappingError as exc:
            vid = record.get("id") if isinstance(record, dict) else None
            bad.append(
                QuarantinedRecord(
                    tenant_id=connection.tenant_id,
                    connection=connection,
                    resource=spec.resource,
                    run=run,
                    vendor_id=str(vid or "")[:64],
                    reason=str(exc),
                    raw=record if isinstance(record, dict | list) else {"value": repr(record)},
                )
            )
            continue
        good[values["vendor_id"]] = (values, record)  # a page can repeat an id: last wins
    return MappedPage(good, bad)


def advance_checkpoint(checkpoint: dict, mapped: MappedPage) -> dict:
    """`checkpoint` with ``max_seen`` raised to the newest ``vendor_updated_at`` of the page."""
    max_seen = from_iso(checkpoint.get("max_seen"))
    for values, _ in mapped.good.values():
        seen = values.get("vendor_updated_at")
        if seen and (max_seen is None or seen > max_seen):
            max_seen = seen
    return {**checkpoint, "max_seen": to_iso(max_seen)}


def record_page(
    *,
    run: SyncRun,
    spec: StreamSpec,
    page: Page,
    mapped: MappedPage,
    counts: UpsertCounts,
    requests: int,
    throttled: int,
    quota_remaining: int | None,
    now: dt.datetime,
    checkpoint: dict | None = None,
    waited: float = 0.0,
) -> Callable[[], None]:
    """Store the page's quarantined records and add its counts to the run (heartbeat, totals
    for the progress bar, the sweep's progress from `checkpoint` (``done``, ``total``), gate
    counters, `waited` seconds for budget) in one UPDATE (``pages = pages + 1`` …, so the
    database adds to what it holds). Call inside the page's transaction.

    Returns a function that applies the same changes to the in-memory `run` (call it once the
    transaction committed: the engine reads no run back from the database per page).
    """
    if mapped.bad:
        QuarantinedRecord.objects.bulk_create(mapped.bad)
    pages_total = pages_total_of(spec, page)
    checkpoint = checkpoint or {}
    added = {
        "pages": 1,
        "records_seen": len(page.records),
        "created": counts.created,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "quarantined": len(mapped.bad),
    }
    assigned: dict[str, Any] = {
        "requests": requests,
        "throttled": throttled,
        "wait_seconds": waited,
        "heartbeat_at": now,
        "progress_done": checkpoint.get("done", 0),
    }
    if checkpoint.get("total") is not None:
        assigned["progress_total"] = checkpoint["total"]
    if spec.parents is None:
        if pages_total is not None:
            assigned["pages_total"] = pages_total
        if page.total_records is not None:
            assigned["records_total"] = page.total_records
    if quota_remaining is not None:
        assigned["quota_remaining"] = quota_remaining
    update_by_pk(SyncRun, run.pk, add=added, assign=assigned)

    def apply() -> None:
        for name, n in added.items():
            setattr(run, name, getattr(run, name) + n)
        for name, value in assigned.items():
            setattr(run, name, value)

    return apply


def write_page(
    *,
    stream: SyncStream,
    run: SyncRun,
    spec: StreamSpec,
    page: Page,
    checkpoint: dict,
    full: bool,
    requests: int,
    throttled: int,
    quota_remaining: int | None,
    waited: float = 0.0,
) -> tuple[dict, dict]:
    """Map one page, then upsert it, quarantine its bad records and advance the checkpoint in
    one transaction (`map_page`, `advance_checkpoint`, `upsert_rows`, `record_page`).

    Returns ``({"created", "updated", "unchanged", "quarantined"}, checkpoint)``: this page's
    counts and the checkpoint as stored (with ``max_seen`` advanced).
    Raises LostLock (nothing written) when the stream's lock is no longer ours.
    """
    now = timezone.now()
    mapped = map_page(stream=stream, run=run, spec=spec, page=page)
    checkpoint = advance_checkpoint(checkpoint, mapped)
    with transaction.atomic():
        fenced = update_by_pk(
            SyncStream,
            stream.pk,
            assign={"checkpoint": checkpoint, "lock_heartbeat_at": now},
            where={"lock_run": run.pk},
        )
        if not fenced:
            raise LostLock(str(stream))
        counts = upsert_rows(
            spec=spec,
            connection=stream.connection,
            mapped=mapped,
            generation=checkpoint["generation"],
            full=full,
            now=now,
        )
        apply_to_run = record_page(
            run=run,
            spec=spec,
            page=page,
            mapped=mapped,
            counts=counts,
            requests=requests,
            throttled=throttled,
            quota_remaining=quota_remaining,
            now=now,
            checkpoint=checkpoint,
            waited=waited,
        )
    apply_to_run()
    summary = {
        "created": counts.created,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "quarantined": len(mapped.bad),
    }
    return summary, checkpoint


__all__ = [
    "LostLock",
    "MappedPage",
    "advance_checkpoint",
    "from_iso",
    "map_page",
    "record_page",
    "to_iso",
    "write_page",
]
