"""The one owner of django-q2 schedules: every `Schedule` row of the portal is made here.

* Per connection: ``sync:<uuid>:incremental`` (every few minutes) and ``sync:<uuid>:full``
  (nightly), both calling ``connectors.tasks.scheduled_sync`` (`connection_schedules_ensure`,
  from the admin and the demo seed when a connection is saved or created).
* After a pause: the one-off ``sync-resume:<connection id>`` calling
  ``connectors.tasks.resume_sync`` (`resume_schedule`, from the sync service).
* Which streams each kind of run syncs (`scheduled_resources`): the incremental only the
  streams that find changes cheaply (`connectors.mapping.Changes`: a vendor filter or a small
  snapshot, and webhook streams while the connection receives no webhooks); the nightly full
  sweep every stream. A person's "Sync now" is not a schedule: it syncs every stream.
* Global (`GLOBAL_SCHEDULES`): the outbox sweeper, the stale-run sweeper, the batched calendar
  flush, the alerts evaluation, the usage prune and the outbound webhook sweep, created
  idempotently by data migrations (outbox 0002, connectors 0002, fieldcamp 0002, connectors 0004,
  connectors 0007, events 0002)
  through `global_schedules_ensure`; never by a request or by ``seed_demo``.

``func`` values are dotted paths stored in the database: the task functions they name must keep
their names (or a migration must rewrite the rows). Schedules use django-q2's own ``catch_up``
setting (``Q_CLUSTER``: no catch-up of missed runs).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django_q.models import Schedule

from accounts.models import Credential, CredentialPurpose
from connectors.mapping import Changes
from connectors.models import Connection

#: name -> the schedule's fields; `global_schedules_ensure` keeps rows equal to these
GLOBAL_SCHEDULES: dict[str, dict[str, Any]] = {
    "outbox-sweeper": {
        "func": "connectors.outbox.tasks.sweep",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    "sync:release-stale": {
        "func": "connectors.tasks.release_stale",
        "schedule_type": Schedule.MINUTES,
        "minutes": 5,
        "repeats": -1,
    },
    "dispatch:calendar-sync-flush": {
        "func": "connectors.webhooks.tasks.calendar_sync_flush",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    "events:webhook-sweep": {
        "func": "connectors.events.tasks.sweep",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    "alerts:evaluate": {
        "func": "connectors.alerts.tasks.evaluate",
        "schedule_type": Schedule.MINUTES,
        "minutes": 5,
        "repeats": -1,
    },
    "usage:prune": {  # RequestUsage rows older than REQUEST_USAGE_RETENTION_DAYS
        "func": "connectors.tasks.prune_usage",
        "schedule_type": Schedule.MINUTES,
        "minutes": 24 * 60,
        "repeats": -1,
    },
}


def global_schedules_ensure(names: list[str] | None = None, *, schedule_model=None) -> int:
    """Create or update the global schedules `names` (default: all of `GLOBAL_SCHEDULES`).

    Idempotent: one row per name, updated to the table's fields; ``next_run`` is left as it
    is on existing rows. Data migrations pass the historical model as `schedule_model`.
    Returns how many rows were created.

    Raises:
        KeyError: a name that is not in `GLOBAL_SCHEDULES`.
    """
    model = schedule_model or Schedule
    created = 0
    for name in names or list(GLOBAL_SCHEDULES):
        _, made = model.objects.update_or_create(name=name, defaults=GLOBAL_SCHEDULES[name])
        created += int(made)
    return created


def global_schedules_delete(names: list[str], *, schedule_model=None) -> None:
    """Remove the global schedules `names` (the reverse of a data migration)."""
    model = schedule_model or Schedule
    model.objects.filter(name__in=names).delete()


def schedule_name(connection: Connection, kind: str) -> str:
    """``sync:<connection uuid>:<kind>``; `kind` is "incremental" or "full"."""
    return f"sync:{connection.uuid}:{kind}"


def connection_schedules_ensure(connection: Connection) -> None:
    """Create or update the connection's two django-q2 schedules (incremental every
    ``connection.incremental_every`` minutes, full nightly at ``connection.nightly_hour`` UTC),
    or delete them when the connection is disabled. Idempotent."""
    names = {kind: schedule_name(connection, kind) for kind in ("incremental", "full")}
    if not connection.enabled:
        Schedule.objects.filter(name__in=names.values()).delete()
        return
    now = timezone.now()
    minutes = int(connection.incremental_every.total_seconds() // 60) or 1
    nightly = now.replace(hour=connection.nightly_hour, minute=0, second=0, microsecond=0)
    if nightly <= now:
        nightly += dt.timedelta(days=1)
    incremental = {
        "func": "connectors.tasks.scheduled_sync",
        "args": f"{connection.pk},'incremental'",
        "schedule_type": Schedule.MINUTES,
        "minutes": minutes,
        "repeats": -1,
    }
    # A new schedule's first run is one interval away (a connect has just started the first
    # sync); an existing one keeps its next run.
    Schedule.objects.update_or_create(
        name=names["incremental"],
        defaults=incremental,
        create_defaults={**incremental, "next_run": now + dt.timedelta(minutes=minutes)},
    )
    Schedule.objects.update_or_create(
        name=names["full"],
        defaults={
            "func": "connectors.tasks.scheduled_sync",
            "args": f"{connection.pk},'full'",
            "schedule_type": Schedule.DAILY,
            "repeats": -1,
            "next_run": nightly,
        },
    )


def webhooks_configured(connection: Connection) -> bool:
    """True when the vendor pushes webhooks (its descriptor has a `WebhookSpec`) and the
    connection's webhook secret is in the vault (without it every delivery is refused,
    `connectors.webhooks.services.webhook_receive`). One query."""
    if connection.vendor_descriptor.webhook is None:
        return False
    return (
        Credential.objects.usable()
        .filter(
            tenant_id=connection.tenant_id,
            vendor=connection.vendor,
            purpose=CredentialPurpose.WEBHOOK,
            owner__isnull=True,
        )
        .exists()
    )


def incremental_resources(connection: Connection, *, webhooks: bool | None = None) -> list[str]:
    """The streams a scheduled incremental of `connection` syncs, in sync order: vendor-filter
    and snapshot streams, plus webhook streams when the connection receives no webhooks
    (`webhooks` False; None = ask `webhooks_configured`). Sweep-only streams are left to the
    nightly full sweep (`scheduled_resources`)."""
    specs = connection.vendor_descriptor.streams
    if webhooks is None and any(s.changes == Changes.WEBHOOK for s in specs):
        webhooks = webhooks_configured(connection)
    return [
        s.resource
        for s in specs
        if s.in_every_incremental or (s.changes == Changes.WEBHOOK and not webhooks)
    ]


def scheduled_resources(connection: Connection, mode: str) -> list[str]:
    """The streams the schedule `mode` ("incremental" or "full") syncs: `incremental_resources`,
    or every stream of the vendor for the nightly full sweep."""
    if mode == "full":
        return [s.resource for s in connection.vendor_descriptor.streams]
    return incremental_resources(connection)


def resume_schedule(connection_id: int, at: dt.datetime | None) -> None:
    """A one-off schedule that resumes the connection's sync at `at` (default: in a minute).
    One per connection: a later pause moves it."""
    when = at or timezone.now() + dt.timedelta(minutes=1)
    Schedule.objects.update_or_create(
        name=f"sync-resume:{connection_id}",
        defaults={
            "func": "connectors.tasks.resume_sync",
            "args": str(connection_id),
            "schedule_type": Schedule.ONCE,
            "repeats": 1,
            "next_run": when + dt.timedelta(seconds=1),
        },
    )


def next_runs(connection: Connection) -> dict[str, dt.datetime | None]:
    """When the next incremental and full sweeps are due: ``{"incremental", "full"}`` ->
    the schedules' ``next_run`` (None when there is no schedule)."""
    out: dict[str, dt.datetime | None] = {"incremental": None, "full": None}
    for kind in out:
        schedule = Schedule.objects.filter(name=schedule_name(connection, kind)).first()
        out[kind] = schedule.next_run if schedule else None
    return out


__all__ = [
    "GLOBAL_SCHEDULES",
    "connection_schedules_ensure",
    "global_schedules_delete",
    "global_schedules_ensure",
    "incremental_resources",
    "next_runs",
    "resume_schedule",
    "schedule_name",
    "scheduled_resources",
    "webhooks_configured",
]
