"""django-q2 tasks: they take ids, load, and call one service.

Enqueue only through `enqueue_sync` inside ``transaction.on_commit`` (services do this). Cluster
settings that avoid duplicate runs live in ``config/settings.py`` (``Q_CLUSTER``: ``retry`` >
``timeout``, bounded ``max_attempts``, ``catch_up=False``); the engine's single-flight lock
makes a duplicate delivery harmless anyway (it finds its runs no longer queued).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

log = logging.getLogger(__name__)


def enqueue_sync(run_ids: list[int]) -> None:
    """Hand queued runs to the cluster (call from ``transaction.on_commit``)."""
    from django_q.tasks import async_task

    async_task("connectors.tasks.sync_runs", list(run_ids), task_name=f"sync runs {run_ids[:3]}")


def sync_runs(run_ids: list[int]) -> int:
    """Worker: run the queued runs in order. Returns how many ran."""
    from connectors.services import sync_execute

    return len(sync_execute(run_ids))


def scheduled_sync(connection_id: int, mode: str = "incremental") -> str:
    """Schedule entry point: request a sync of every stream of the connection."""
    from connectors.models import Connection, SyncRun
    from connectors.services import sync_request

    connection = Connection.objects.filter(pk=connection_id, enabled=True).first()
    if connection is None:
        return "connection missing or disabled"
    request = sync_request(
        connection,
        trigger=SyncRun.Trigger.SCHEDULE,
        mode=SyncRun.Mode.FULL if mode == "full" else SyncRun.Mode.INCREMENTAL,
    )
    return "already running" if request.already_running else f"{len(request.runs)} runs queued"


def resume_sync(connection_id: int) -> str:
    """One-off schedule after a pause (429 Retry-After or quota reset)."""
    from connectors.models import Connection
    from connectors.services import sync_resume

    connection = Connection.objects.filter(pk=connection_id, enabled=True).first()
    if connection is None:
        return "connection missing or disabled"
    request = sync_resume(connection)
    return "already running" if request.already_running else f"{len(request.runs)} runs queued"


def release_stale() -> int:
    """Periodic sweeper: mark runs without heartbeat as stale and free their streams."""
    from connectors.sync import release_stale_runs

    return release_stale_runs()


def schedule_resume(connection_id: int, at: dt.datetime | None) -> None:
    """A one-off django-q2 schedule that resumes the connection's sync at `at` (one per
    connection: a later pause moves it)."""
    from django_q.models import Schedule

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


def ensure_global_schedules() -> None:
    """The stale-run sweeper (every 5 minutes)."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name="sync:release-stale",
        defaults={
            "func": "connectors.tasks.release_stale",
            "schedule_type": Schedule.MINUTES,
            "minutes": 5,
            "repeats": -1,
        },
    )
