"""The sync engine: one for all vendors.

A stream is (connection, resource). Each vendor's ``mapping.py`` declares its streams as
`StreamSpec` objects: how to fetch one page for a cursor, and how to map one vendor record to
row values. The engine does the rest, the same way for every vendor:

1. **Single flight.** `run_stream` claims the stream's lock (row lock on PostgreSQL; SQLite
   serialises writers with ``BEGIN IMMEDIATE``). A lock whose heartbeat is older than
   ``SYNC_HEARTBEAT_STALE_SECONDS`` (or whose owner process is gone, on this host) is stale: its
   run is marked ``stale`` and the lock is taken over. Every page re-checks the lock (fencing),
   so a run that lost it stops without writing.
2. **Resume.** An unfinished checkpoint is always continued first, whatever the new run asked.
3. **One transaction per page** (`connectors.sync_page.write_page`): the fixed upsert of the
   page's rows (`connectors.upsert`: one ``INSERT … ON CONFLICT DO UPDATE … WHERE`` changed,
   no per-row queries), quarantined records, the next checkpoint, heartbeat and run counters.
   At-least-once fetching plus idempotent upserts make a replayed page harmless
   (reliability.md §2.1 Airbyte/Nango).
4. **Incremental** streams use the vendor's filter with ``since = high_water - overlap``
   (``SYNC_OVERLAP_MINUTES``); streams without one list everything and only write records whose
   vendor timestamp changed ("compare").
5. **Full sweeps** stamp ``seen_generation = G`` on every row they see; only after the sweep
   completes are rows with an older generation soft-deleted, and only when they are at most
   ``SYNC_DELETE_MAX_FRACTION`` of the live rows: above that the run is ``refused`` and nothing
   is deleted (reliability.md §2.2 rule 4; nango deletion-detection).
6. **Rate limits and quota.** `RateLimited` / `QuotaExhausted` pause the run (status
   ``paused``, ``resume_at``), keep the checkpoint, and the task layer schedules the resume.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from connectors.errors import QuotaExhausted, RateLimited, VendorError
from connectors.mapping import StreamSpec
from connectors.models import Connection, SyncRun, SyncStream
from connectors.progress import pages_total_of, record_sweep_start
from connectors.sync_page import LostLock, write_page
from connectors.sync_page import from_iso as _from_iso
from connectors.sync_page import to_iso as _iso

log = logging.getLogger(__name__)

OWNER = f"{socket.gethostname()}:{os.getpid()}"


# --- the engine -----------------------------------------------------------------------


def _owner_is_dead(owner: str) -> bool:
    """True when `owner` ("host:pid") is a process of this host that no longer exists."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim_stream(run: SyncRun) -> bool:
    """Take the stream's single-flight lock for `run`. False (run marked ``skipped``) when
    another live run holds it; a stale holder is marked ``stale`` and replaced."""
    now = timezone.now()
    with transaction.atomic():
        stream = SyncStream.objects.select_for_update().get(pk=run.stream_id)
        if stream.lock_run_id and stream.lock_run_id != run.pk:
            holder_alive = not stream.lock_is_stale(now) and not _owner_is_dead(stream.lock_owner)
            holder_active = SyncRun.objects.filter(
                pk=stream.lock_run_id, status__in=SyncRun.ACTIVE
            ).exists()
            if holder_alive and holder_active:
                SyncRun.objects.filter(pk=run.pk).update(
                    status=SyncRun.Status.SKIPPED,
                    finished_at=now,
                    error="Another run of this stream is in progress.",
                )
                run.status = SyncRun.Status.SKIPPED
                return False
            SyncRun.objects.filter(pk=stream.lock_run_id, status__in=SyncRun.ACTIVE).update(
                status=SyncRun.Status.STALE,
                finished_at=now,
                error_kind="stale",
                error="The worker stopped sending heartbeats; released.",
            )
        SyncStream.objects.filter(pk=stream.pk).update(
            lock_run=run, lock_owner=OWNER, lock_heartbeat_at=now
        )
        SyncRun.objects.filter(pk=run.pk).update(
            status=SyncRun.Status.RUNNING, started_at=now, heartbeat_at=now
        )
    run.refresh_from_db()
    return True


def release_stream(run: SyncRun, **stream_updates: Any) -> None:
    """Free the stream's lock if `run` still holds it, applying `stream_updates` with it."""
    SyncStream.objects.filter(pk=run.stream_id, lock_run=run).update(
        lock_run=None, lock_owner="", lock_heartbeat_at=None, **stream_updates
    )


def release_stale_runs() -> int:
    """Mark runs whose heartbeat stopped as ``stale`` and free their streams (periodic task).

    Queued runs older than the same cutoff on a connection with nothing running are orphans of
    a task that died between two streams: they are marked stale too (the next schedule or
    "Sync now" starts afresh; unfinished checkpoints are resumed).
    """
    cutoff = timezone.now() - dt.timedelta(seconds=settings.SYNC_HEARTBEAT_STALE_SECONDS)
    stale = SyncStream.objects.filter(lock_run__isnull=False, lock_heartbeat_at__lt=cutoff)
    count = 0
    for stream in stale:
        with transaction.atomic():
            n = SyncStream.objects.filter(
                pk=stream.pk, lock_run_id=stream.lock_run_id, lock_heartbeat_at__lt=cutoff
            ).update(lock_run=None, lock_owner="", lock_heartbeat_at=None)
            if n:
                count += SyncRun.objects.filter(
                    pk=stream.lock_run_id, status__in=SyncRun.ACTIVE
                ).update(
                    status=SyncRun.Status.STALE,
                    finished_at=timezone.now(),
                    error_kind="stale",
                    error="The worker stopped sending heartbeats; released.",
                )
    busy = SyncRun.objects.filter(status=SyncRun.Status.RUNNING).values("connection_id")
    count += (
        SyncRun.objects.filter(status=SyncRun.Status.QUEUED, created_at__lt=cutoff)
        .exclude(connection_id__in=busy)
        .update(
            status=SyncRun.Status.STALE,
            finished_at=timezone.now(),
            error_kind="stale",
            error="Queued but never started (its worker stopped).",
        )
    )
    return count


def new_checkpoint(stream: SyncStream, spec: StreamSpec, mode: str) -> dict:
    """The starting position of a sweep (see SyncStream.checkpoint for the shape)."""
    now = timezone.now()
    if mode == SyncRun.Mode.FULL or spec.incremental == "full" or stream.high_water is None:
        mode = SyncRun.Mode.FULL
    since = None
    if mode == SyncRun.Mode.INCREMENTAL and spec.incremental == "filter":
        since = stream.high_water - dt.timedelta(minutes=settings.SYNC_OVERLAP_MINUTES)
    parents_since = None
    window = getattr(settings, spec.full_window_setting, 0) if spec.full_window_setting else 0
    if (
        mode == SyncRun.Mode.FULL
        and spec.parents is not None
        and window
        and stream.last_full_sweep_at
    ):
        # One request per parent makes a sweep of every parent too costly at scale (100 000
        # Syncro tickets = 100 000 requests): revisit the recently active ones only.
        parents_since = now - dt.timedelta(days=window)
    return {
        "mode": str(mode),
        "page": 1,
        "cursor": None,
        "since": _iso(since),
        "max_seen": None,
        "generation": stream.generation + 1 if mode == SyncRun.Mode.FULL else stream.generation,
        "parent": None,
        "parents_since": _iso(parents_since),
        "started_at": _iso(now),
        "done": 0,
    }


def _first_parent(spec: StreamSpec, stream: SyncStream, cp: dict, after: int | None):
    since = _from_iso(cp.get("since")) or _from_iso(cp.get("parents_since"))
    qs = spec.parents(stream.connection, since)
    if after is not None:
        qs = qs.filter(vendor_id__gt=after)
    return qs.values_list("vendor_id", flat=True).first()


def run_stream(run: SyncRun, client: Any, *, on_page: Callable[[SyncRun], None] | None = None):
    """Run one stream to completion (or pause/failure). Returns the final SyncRun.

    Args:
        run: a queued SyncRun (its ``mode`` is a request: an unfinished checkpoint wins).
        client: the vendor client the stream's ``fetch`` expects, with a gate whose
            ``requests``/``throttled``/``quota_remaining`` the engine copies into the run.
        on_page: called after each committed page (progress bars, tests that "kill" a run).
    """
    if not claim_stream(run):
        return run
    stream = SyncStream.objects.select_related("connection").get(pk=run.stream_id)
    spec = stream.connection.vendor_descriptor.stream(stream.resource)
    gate = getattr(client, "gate", None)
    base = (getattr(gate, "requests", 0), getattr(gate, "throttled", 0), _waited(gate))
    cp = dict(stream.checkpoint) if stream.checkpoint else new_checkpoint(stream, spec, run.mode)
    if run.mode == SyncRun.Mode.FULL and cp.get("carried"):
        # parents an incremental carried over are among those the full sweep visits anyway
        cp = new_checkpoint(stream, spec, run.mode)
    if cp["mode"] != run.mode:
        SyncRun.objects.filter(pk=run.pk).update(mode=cp["mode"])
        run.mode = cp["mode"]
    record_sweep_start(run, stream, spec, cp)
    run.refresh_from_db()  # once per run: pages then keep the in-memory run current
    full = cp["mode"] == SyncRun.Mode.FULL
    try:
        if spec.parents is not None and cp.get("parent") is None:
            cp["parent"] = _first_parent(spec, stream, cp, None)
            if cp["parent"] is None:
                cp["page"] = None
        pages_this_run = 0
        cap, done_before = parents_per_run(spec, cp), cp.get("done", 0)
        while cp.get("page") is not None or cp.get("cursor"):
            if cap is not None and cp.get("done", 0) - done_before >= cap:
                return carry_over(stream, run, cp, f"{cap} {spec.parent_noun}s")
            if pages_this_run >= settings.SYNC_MAX_PAGES_PER_RUN:
                raise VendorError("SYNC_MAX_PAGES_PER_RUN reached; the next run continues.")
            fetch_cp = {**cp, "since": _from_iso(cp.get("since"))}
            page = spec.fetch(client, fetch_cp)
            next_cp = dict(cp)
            next_cp["page"], next_cp["cursor"] = page.next_page, page.next_cursor
            if page.is_last and spec.parents is not None:
                nxt = _first_parent(spec, stream, cp, cp["parent"])
                next_cp["parent"] = nxt
                next_cp["page"] = 1 if nxt is not None else None
                next_cp["cursor"] = None
            next_cp["done"] = cp.get("done", 0) + int(spec.parents is None or page.is_last)
            if spec.parents is None and pages_total_of(spec, page) is not None:
                next_cp["total"] = pages_total_of(spec, page)
            counters, next_cp = write_page(
                stream=stream,
                run=run,
                spec=spec,
                page=page,
                checkpoint=next_cp,
                full=full,
                requests=getattr(gate, "requests", 0) - base[0],
                throttled=getattr(gate, "throttled", 0) - base[1],
                quota_remaining=getattr(gate, "quota_remaining", None),
                waited=_waited(gate) - base[2],
            )
            cp = next_cp
            pages_this_run += 1
            if on_page:
                on_page(run)
            log.debug("%s page done: %s", stream, counters)
        return finish_sweep(stream=stream, run=run, spec=spec, checkpoint=cp)
    except LostLock:
        run.refresh_from_db()
        return run
    except QuotaExhausted as exc:
        return _pause(run, exc, exc.resume_at)
    except RateLimited as exc:
        return _pause(run, exc, timezone.now() + dt.timedelta(seconds=max(exc.retry_after, 1)))
    except VendorError as exc:
        return _fail(run, exc.kind, str(exc))
    except Exception as exc:
        log.exception("sync %s failed", stream)
        _fail(run, "bug", f"{exc.__class__.__name__}: {exc}")
        raise
    finally:
        _copy_gate(run, gate, base)
        run.refresh_from_db()  # every exit returns this same object


def parents_per_run(spec: StreamSpec, checkpoint: dict) -> int | None:
    """How many parents an incremental run of a fan-out stream may visit
    (``spec.parents_per_run_setting``, e.g. ``CONNECTORS_COMMENT_TICKETS_PER_RUN``); None =
    no bound (full sweeps, streams without the setting, a setting of 0)."""
    if not spec.parents_per_run_setting or checkpoint.get("mode") == SyncRun.Mode.FULL:
        return None
    return int(getattr(settings, spec.parents_per_run_setting, 0) or 0) or None


def carry_over(stream: SyncStream, run: SyncRun, checkpoint: dict, visited: str) -> SyncRun:
    """End an incremental run that reached its parents bound: the checkpoint (already stored
    with the last page) is kept, marked ``carried``, and the next run continues from it; the
    run succeeds with a note (``error_kind`` "carried")."""
    now = timezone.now()
    with transaction.atomic():
        kept = SyncStream.objects.filter(pk=stream.pk, lock_run=run).update(
            checkpoint={**checkpoint, "carried": True},
            lock_run=None,
            lock_owner="",
            lock_heartbeat_at=None,
        )
        if not kept:
            raise LostLock(str(stream))
        SyncRun.objects.filter(pk=run.pk).update(
            status=SyncRun.Status.SUCCEEDED,
            finished_at=now,
            error_kind="carried",
            error=f"{visited} this run (the bound per run); the rest carried to the next run.",
        )
    run.refresh_from_db()
    return run


def _waited(gate: Any) -> float:
    return float(getattr(gate, "waited", 0.0) or 0.0)


def _copy_gate(run: SyncRun, gate: Any, base: tuple[int, int, float]) -> None:
    if gate is None:
        return
    updates = {
        "requests": getattr(gate, "requests", 0) - base[0],
        "throttled": getattr(gate, "throttled", 0) - base[1],
        "wait_seconds": _waited(gate) - base[2],
    }
    if getattr(gate, "quota_remaining", None) is not None:
        updates["quota_remaining"] = gate.quota_remaining
    SyncRun.objects.filter(pk=run.pk).update(**updates)


def _pause(run: SyncRun, exc: Exception, resume_at: dt.datetime) -> SyncRun:
    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncRun.Status.PAUSED,
        finished_at=timezone.now(),
        resume_at=resume_at,
        error_kind=getattr(exc, "kind", "rate_limited"),
        error=str(exc)[:2000],
    )
    release_stream(run)
    run.refresh_from_db()
    return run


def _fail(run: SyncRun, kind: str, message: str) -> SyncRun:
    SyncRun.objects.filter(pk=run.pk).update(
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        error_kind=kind,
        error=message[:4000],
    )
    release_stream(run)
    run.refresh_from_db()
    return run


def deletion_candidates(
    spec: StreamSpec, connection: Connection, generation: int, parents_since: dt.datetime | None
) -> tuple[models.QuerySet, models.QuerySet]:
    """``(alive, missing)`` querysets of a completed full sweep of generation `generation`:
    the live rows, and those of them the sweep did not see (``seen_generation`` older).

    A windowed sweep of a fan-out stream (`parents_since` set) did not visit live parents
    outside the window: their children were not seen but are not gone, so they are not judged;
    children of deleted parents still are. Both filters are correlated ``NOT EXISTS``
    (anti-joins), not ``NOT IN``: PostgreSQL hashes a ``NOT IN`` subquery only while it fits
    in ``work_mem`` and is quadratic beyond (1 000 000 tickets: over 30 s).
    """
    alive = spec.model.objects.filter(connection=connection, is_deleted=False)
    judged = alive
    if parents_since is not None and spec.parent_field:
        visited = spec.parents(connection, parents_since)
        skipped = spec.parents(connection, None).filter(
            ~Exists(visited.filter(vendor_id=OuterRef("vendor_id")))
        )
        judged = alive.filter(~Exists(skipped.filter(vendor_id=OuterRef(spec.parent_field))))
    return alive, judged.filter(seen_generation__lt=generation)


def finish_sweep(*, stream: SyncStream, run: SyncRun, spec: StreamSpec, checkpoint: dict):
    """Close a completed sweep: deletion detection (full only), high-water mark, release."""
    now = timezone.now()
    full = checkpoint["mode"] == SyncRun.Mode.FULL
    connection = stream.connection
    max_seen = _from_iso(checkpoint.get("max_seen"))
    started = _from_iso(checkpoint.get("started_at")) or now
    stream_updates: dict[str, Any] = {
        "checkpoint": {},
        "last_success_at": now,
    }
    status = SyncRun.Status.SUCCEEDED
    error = ""
    deleted = 0
    with transaction.atomic():
        if full and not spec.detect_deletions:
            stream_updates["generation"] = checkpoint["generation"]
            stream_updates["last_full_sweep_at"] = now
            hw = min(max_seen, started) if max_seen else started
        elif full:
            generation = checkpoint["generation"]
            alive, missing = deletion_candidates(
                spec, connection, generation, _from_iso(checkpoint.get("parents_since"))
            )
            n_alive, n_missing = alive.count(), missing.count()
            if n_missing and n_missing > settings.SYNC_DELETE_MAX_FRACTION * n_alive:
                status = SyncRun.Status.REFUSED
                error = (
                    f"The full sweep did not see {n_missing} of {n_alive} {spec.resource} "
                    f"({100 * n_missing / n_alive:.0f}%), more than the "
                    f"{100 * settings.SYNC_DELETE_MAX_FRACTION:.0f}% allowed: nothing was "
                    "deleted. Check the vendor account, then run a full sync again."
                )
            else:
                deleted = missing.update(is_deleted=True, deleted_at=now)
                stream_updates["generation"] = generation
            stream_updates["last_full_sweep_at"] = now
            # records changed while the sweep ran are newer than its start: the next
            # incremental picks them up
            hw = min(max_seen, started) if max_seen else started
        elif spec.parents is not None:
            # fan-out streams pick parents by the parent's timestamp: advance to this run's start
            hw = started
        else:
            hw = max_seen or stream.high_water
        if (
            (spec.incremental == "filter" or full)
            and hw
            and (stream.high_water is None or hw > stream.high_water or full)
        ):
            stream_updates["high_water"] = hw
        updated = SyncStream.objects.filter(pk=stream.pk, lock_run=run).update(
            lock_run=None, lock_owner="", lock_heartbeat_at=None, **stream_updates
        )
        if not updated:
            raise LostLock(str(stream))
        SyncRun.objects.filter(pk=run.pk).update(
            status=status,
            finished_at=now,
            deleted=deleted,
            error_kind="deletions" if status == SyncRun.Status.REFUSED else "",
            error=error,
        )
    run.refresh_from_db()
    return run


def ensure_streams(connection: Connection, resources: Iterable[str] | None = None):
    """The connection's SyncStream rows (created on first use) in sync order."""
    specs = list(connection.vendor_descriptor.streams)
    if resources:
        wanted = set(resources)
        unknown = wanted - {s.resource for s in specs}
        if unknown:
            raise KeyError(f"unknown {connection.vendor} streams: {', '.join(sorted(unknown))}")
        specs = [s for s in specs if s.resource in wanted]
    out = []
    for spec in specs:
        stream, _ = SyncStream.objects.get_or_create(connection=connection, resource=spec.resource)
        out.append(stream)
    return out
