"""Mirror watchers: a mirrored record's state changed -> one event.

A vendor module registers a `Watcher` per mirror model it wants watched (Synchroteam jobs and
invoices, Syncro invoices; ``connectors/<vendor>/events.py``). When rows of a connection's
mirror were written (`connectors.signals.mirror_changed`, after commit), `scan` compares each
row's state (the watcher's ``state`` expression) with the state recorded in `WatchedState`,
asks the watcher which events the change means, emits them (`services.emit_event`) and
records the new state, in one transaction. Whichever path wrote the row (a sync page, an
inbound webhook's refresh, an outbox write-through), a change is seen once.

Until the baseline is taken, a scan records every row's state and raises nothing (a first full
sync of 10 000 jobs is history, not news); the baseline is taken by the first scan after the
watcher's stream completed a full sweep. Rows that appear later raise events with ``previous``
None.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Exists, Expression, OuterRef

from connectors.events.models import WatchBaseline, WatchedState, WebhookEndpoint
from connectors.models import Connection, SyncStream

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Watcher:
    """One watched mirror model.

    Attributes:
        name: unique key (``synchroteam.jobs``), stored on `WatchedState` rows.
        vendor: the connection vendor whose mirror holds the model.
        model: the mirror model.
        state: a query expression giving the row's state as text (``F("status")``).
        events: ``events(row, previous_state, state) -> [(event_type, payload)]``; called only
            when the state differs from the recorded one (`previous_state` None: a new row).
        stream: the sync stream that mirrors the model (``jobs``): a `mirror_changed` for
            another stream does not scan it, and until that stream has completed a full sweep
            the scan only records states (the baseline is taken from a whole mirror, so a
            first sync paused half-way does not later raise the rest of the history as news).
    """

    name: str
    vendor: str
    model: Any
    state: Expression
    events: Callable[[Any, str | None, str], list[tuple[str, dict]]]
    stream: str = ""


_WATCHERS: dict[str, list[Watcher]] = {}


def invoice_events(data: dict, previous: str | None, state: str) -> list[tuple[str, dict]]:
    """The invoice rule every vendor's watcher shares: ``invoice.created`` when the invoice is
    new to the mirror (`previous` None), ``invoice.paid`` when `state` becomes ``"paid"``.
    `data` is the event payload (the registry's invoice keys)."""
    from connectors.events.registry import INVOICE_CREATED, INVOICE_PAID

    events = []
    if previous is None:
        events.append((INVOICE_CREATED, data))
    if state == "paid" and previous != "paid":
        events.append((INVOICE_PAID, data))
    return events


def register(watcher: Watcher) -> Watcher:
    """Add `watcher` (called once per watcher from its vendor app's ``ready``)."""
    found = _WATCHERS.setdefault(watcher.vendor, [])
    found[:] = [w for w in found if w.name != watcher.name] + [watcher]
    return watcher


def watchers_for(connection: Connection, resource: str = "") -> list[Watcher]:
    """The watchers of `connection`'s vendor that `resource` may concern ("" = all)."""
    return [
        w
        for w in _WATCHERS.get(connection.vendor, [])
        if not resource or not w.stream or resource == w.stream
    ]


def _mirror_complete(connection: Connection, watcher: Watcher) -> bool:
    """Whether the watcher's stream has completed a full sweep (or the watcher names none)."""
    if not watcher.stream:
        return True
    return SyncStream.objects.filter(
        connection=connection, resource=watcher.stream, generation__gt=0
    ).exists()


def scan(connection: Connection, watcher: Watcher) -> int:
    """Compare `watcher`'s rows of `connection` with their recorded states; emit an event for
    each change. Returns how many events were emitted (0 while no baseline is taken).

    The baseline (`WatchBaseline`) is taken by the first scan after the watcher's stream
    completed a full sweep (`SyncStream.generation` > 0); scans before it only record states,
    so a first sync paused half-way and resumed later raises nothing for the rows it found."""
    from connectors.events.services import emit_event

    recorded = WatchedState.objects.filter(
        connection=connection, watch=watcher.name, vendor_id=OuterRef("vendor_id")
    )
    rows = (
        watcher.model.objects.filter(connection=connection, is_deleted=False)
        .defer("raw")  # the vendor's JSON is never part of a state or a payload
        .annotate(watch_state=watcher.state)
        .exclude(Exists(recorded.filter(state=OuterRef("watch_state"))))
    )
    emitted = 0
    # no active endpoint: states are still recorded, but no event is built row by row
    listening = WebhookEndpoint.objects.filter(
        tenant_id=connection.tenant_id, is_active=True
    ).exists()
    with transaction.atomic():
        if WatchBaseline.objects.filter(connection=connection, watch=watcher.name).exists():
            first = False
        elif _mirror_complete(connection, watcher):
            # the first scan of a whole mirror takes the baseline (get_or_create: a concurrent
            # scan may take it first); later scans report
            WatchBaseline.objects.get_or_create(connection=connection, watch=watcher.name)
            first = True
        else:
            first = True  # a first sweep still under way: record what is there, take no baseline
        changed = list(rows.iterator(chunk_size=1000))
        previous = dict(
            WatchedState.objects.filter(
                connection=connection,
                watch=watcher.name,
                vendor_id__in=[r.vendor_id for r in changed],
            ).values_list("vendor_id", "state")
        )
        seen = []
        for row in changed:
            state = str(row.watch_state or "")[:60]
            if listening and not first:
                for event_type, payload in watcher.events(row, previous.get(row.vendor_id), state):
                    emitted += int(
                        emit_event(connection.tenant_id, event_type, payload) is not None
                    )
            seen.append(
                WatchedState(
                    connection=connection, watch=watcher.name, vendor_id=row.vendor_id, state=state
                )
            )
        WatchedState.objects.bulk_create(
            seen,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["connection", "watch", "vendor_id"],
            update_fields=["state"],
        )
    return emitted


def scan_connection(connection_id: int, resource: str = "") -> int:
    """`scan` every watcher of the connection that `resource` concerns; a failing watcher is
    logged and skipped (the next change scans again). Returns the events emitted."""
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return 0
    total = 0
    for watcher in watchers_for(connection, resource):
        try:
            total += scan(connection, watcher)
        except Exception:
            log.exception("events: watcher %s failed on connection %s", watcher.name, connection_id)
    return total


def on_mirror_changed(sender=None, *, connection_id: int, resource: str = "", **kwargs) -> None:
    """`connectors.signals.mirror_changed` receiver: scan once the writing transaction
    commits (at once outside one)."""
    transaction.on_commit(lambda: scan_connection(connection_id, resource))
