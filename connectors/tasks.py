"""django-q2 task entry points of the sync: ids in, one service call, nothing else.

Runs are enqueued by `connectors.services.sync_request` inside ``transaction.on_commit``; the
schedules that call these functions are made by `connectors.schedules` (their ``func`` values
are these dotted paths: keep the names). Cluster settings that avoid duplicate runs live in
``config/settings.py`` (``Q_CLUSTER``: ``retry`` > ``timeout``, bounded ``max_attempts``,
``catch_up=False``); the engine's single-flight lock makes a duplicate delivery harmless anyway
(it finds its runs no longer queued).
"""

from __future__ import annotations

from connectors import services, usage
from connectors.sync import release_stale_runs


def sync_runs(run_ids: list[int]) -> int:
    """Worker: run the queued runs in order. Returns how many ran."""
    return len(services.sync_execute(run_ids))


def scheduled_sync(connection_id: int, mode: str = "incremental") -> str:
    """Schedule entry point (``sync:<uuid>:incremental|full``): sync every stream."""
    return services.sync_scheduled(connection_id=connection_id, mode=mode)


def resume_sync(connection_id: int) -> str:
    """One-off schedule entry point (``sync-resume:<id>``) after a pause."""
    return services.sync_resume_due(connection_id=connection_id)


def release_stale() -> int:
    """Periodic sweeper (``sync:release-stale``): runs without heartbeat become stale."""
    return release_stale_runs()


def prune_usage() -> int:
    """Nightly (``usage:prune``): delete `RequestUsage` rows older than
    ``REQUEST_USAGE_RETENTION_DAYS``. Returns how many were deleted."""
    return usage.prune_usage()
