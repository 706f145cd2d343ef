"""Connector services: everything that talks to a vendor or runs several steps.

Public API (keyword-only arguments; other apps, billing included, build on these):

* `connection_client(connection, *, user=None, gate=True, transport=None) -> (client, ActorCredential)`
  the vendor client for a connection, with the acting user's credential (or the shared one).
* `connection_verify(connection, *, user=None, by=None, transport=None) -> VerifyResult`
  calls the vendor's cheapest identity route and records the result on the credential.
* `sync_request(connection, *, trigger, mode, resources=None, user=None) -> SyncRequest`
  creates queued runs and enqueues them on commit, or reports "already running".
* `sync_execute(run_ids, *, transport=None, on_page=None) -> list[SyncRun]`
  runs queued runs in order (the worker side; also the `sync` command's foreground path).
* `connection_sync_now(connection, *, mode, resources=None, trigger, transport=None, on_page=None)`
  request + execute in this process (operators, tests, benchmarks).
* `sync_scheduled(*, connection_id, mode)` / `sync_resume_due(*, connection_id)`: what the
  django-q2 schedules run (``connectors.tasks``); the schedules themselves are made in
  `connectors.schedules`.

Which client, limits and streams a connection has comes from its vendor descriptor
(`connectors.vendors`); nothing here depends on the vendor's name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.models import ActorCredential, Credential, NoCredential
from connectors import schedules, usage
from connectors.alerts.services import refresh_on_commit as alerts_refresh
from connectors.errors import AuthError, VendorError
from connectors.models import Connection, SyncRun
from connectors.ratelimit import ConnectionGate
from connectors.signals import mirror_changed
from connectors.sync import ensure_streams, release_stale_runs, run_stream

log = logging.getLogger(__name__)


def connection_credential(connection: Connection, *, user=None) -> ActorCredential:
    """The acting user's own credential for the connection's vendor, else the shared one.

    Raises:
        NoCredential: neither exists.
    """
    return Credential.objects.for_actor(connection.tenant, connection.vendor, user)


@sensitive_variables("secret")
def client_for_secret(
    connection: Connection,
    secret: str,
    *,
    gate: Any = None,
    transport: httpx.BaseTransport | None = None,
):
    """The vendor client for `connection` authenticated with `secret` (no database access):
    the descriptor's client factory (`connectors.vendors.Vendor.client`)."""
    return connection.vendor_descriptor.client(secret, connection, gate, transport)


@sensitive_variables("secret")
def connection_client(
    connection: Connection,
    *,
    user=None,
    gate: bool = True,
    transport: httpx.BaseTransport | None = None,
    batch_usage: bool = False,
):
    """``(client, actor_credential)`` for `connection`.

    The client's gate is the shared rate limiter (`ConnectionGate`) unless ``gate=False``;
    `batch_usage` (the sync engine) counts background reads in memory until the gate's
    ``flush()``.
    Writes made with a shared credential are attributed by the vendor to the shared key's
    owner: callers show ``actor.is_shared`` as a warning (seed ``/syncro`` attribution rule).

    Raises:
        NoCredential: no usable credential.
    """
    actor = connection_credential(connection, user=user)
    secret = actor.credential.secret
    the_gate = ConnectionGate(connection, secret, batch_usage=batch_usage) if gate else None
    return client_for_secret(connection, secret, gate=the_gate, transport=transport), actor


# --- verify ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of `connection_verify`: ``ok``, the sentence shown, the credential checked."""

    ok: bool
    message: str
    credential: Credential | None = None


def connection_verify(
    connection: Connection,
    *,
    user=None,
    by=None,
    transport: httpx.BaseTransport | None = None,
) -> VerifyResult:
    """Check the credential against the vendor and record the outcome on it.

    Syncro: GET /me -> "Authenticated as NAME (user_id=N)" (seed ``/syncro`` "Verify
    attribution"). Synchroteam: one-record ``user/list`` page. FieldCamp: the Google Calendar
    status route (vendor-apis.md §3.5). 401/403 mark the credential failing; other errors leave it
    as it was and are reported.
    """
    try:
        client, actor = connection_client(connection, user=user, transport=transport)
    except NoCredential as exc:
        return VerifyResult(False, str(exc))
    cred = actor.credential
    try:
        identity, vendor_user_id = client.verify()
    except AuthError as exc:
        cred.mark_failed(error=exc.vendor_message, by=by)
        alerts_refresh(connection.tenant_id)
        return VerifyResult(
            False, f"Rejected by {connection.get_vendor_display()}: {exc.vendor_message}", cred
        )
    except VendorError as exc:
        return VerifyResult(False, f"Could not verify: {exc}", cred)
    finally:
        client.close()
    cred.mark_verified(identity=identity, vendor_user_id=vendor_user_id, by=by)
    alerts_refresh(connection.tenant_id)
    return VerifyResult(True, identity, cred)


# --- sync requests ----------------------------------------------------------------------


@dataclass(frozen=True)
class SyncRequest:
    """The outcome of `sync_request`: the queued runs, or ``already_running`` and no runs."""

    runs: list[SyncRun]
    already_running: bool


def active_runs(connection: Connection):
    """The connection's queued or running runs (QuerySet)."""
    return SyncRun.objects.filter(connection=connection, status__in=SyncRun.ACTIVE)


def sync_request(
    connection: Connection,
    *,
    trigger: str = SyncRun.Trigger.MANUAL,
    mode: str = SyncRun.Mode.INCREMENTAL,
    resources: Iterable[str] | None = None,
    user=None,
    enqueue: bool = True,
    modes: dict[str, str] | None = None,
) -> SyncRequest:
    """Queue one run per stream of `connection` (`resources`, default every stream) and enqueue
    them (on commit) as one task. `modes` overrides `mode` per resource (a resume continues
    each stream the way its paused run was going).

    Returns ``already_running=True`` and no runs when the connection has a queued or running
    run (the "Sync now" button says so instead of starting a second run).
    """
    release_stale_runs()
    with transaction.atomic():
        Connection.objects.select_for_update().filter(pk=connection.pk).first()
        if active_runs(connection).exists():
            return SyncRequest([], True)
        runs = [
            SyncRun.objects.create(
                tenant_id=connection.tenant_id,
                connection=connection,
                stream=stream,
                trigger=trigger,
                mode=(modes or {}).get(stream.resource, mode),
                requested_by=user if getattr(user, "pk", None) else None,
            )
            for stream in ensure_streams(connection, resources)
        ]
        if enqueue and runs:
            ids = [r.pk for r in runs]
            transaction.on_commit(lambda: _enqueue_runs(ids))
    return SyncRequest(runs, False)


def _enqueue_runs(run_ids: list[int]) -> None:
    """Hand queued runs to the cluster as one ``connectors.tasks.sync_runs`` task (from
    ``transaction.on_commit``)."""
    from django_q.tasks import async_task

    async_task("connectors.tasks.sync_runs", list(run_ids), task_name=f"sync runs {run_ids[:3]}")


def sync_execute(
    run_ids: Iterable[int],
    *,
    transport: httpx.BaseTransport | None = None,
    on_page: Callable[[SyncRun], None] | None = None,
) -> list[SyncRun]:
    """Run queued runs in order with one client per connection. Runs that are no longer
    queued (a duplicate delivery of the task) are skipped. A credential problem fails the
    remaining runs of that connection."""
    done: list[SyncRun] = []
    clients: dict[int, Any] = {}
    try:
        for run_id in run_ids:
            run = SyncRun.objects.select_related("connection", "stream").filter(pk=run_id).first()
            if run is None or run.status != SyncRun.Status.QUEUED:
                continue
            connection = run.connection
            if connection.pk not in clients:
                try:
                    clients[connection.pk], _ = connection_client(
                        connection, transport=transport, batch_usage=True
                    )
                except NoCredential as exc:
                    SyncRun.objects.filter(pk=run.pk).update(
                        status=SyncRun.Status.FAILED,
                        finished_at=timezone.now(),
                        error_kind="auth",
                        error=str(exc),
                    )
                    continue
            result = run_stream(run, clients[connection.pk], on_page=on_page)
            done.append(result)
            if result.status == SyncRun.Status.FAILED and result.error_kind == "auth":
                _mark_credential_failing(connection, result.error)
                _cancel_rest(run_ids, connection, "The credential was rejected (401).")
            if result.status == SyncRun.Status.PAUSED:
                _pause_rest(run_ids, connection, result)
                schedules.resume_schedule(connection.pk, result.resume_at)
    finally:
        for client in clients.values():
            flush = getattr(getattr(client, "gate", None), "flush", None)
            if flush is not None:
                flush()  # the usage and quota headers the runs counted in memory
            client.close()
        usage.flush()
        for tenant_id in {run.tenant_id for run in done}:
            alerts_refresh(tenant_id)  # a run ended: stream, quota and key alerts may change
        # one signal per (connection, stream) a run wrote: only that stream's watchers scan
        for connection_id, resource in sorted({(r.connection_id, r.stream.resource) for r in done}):
            mirror_changed.send_robust(Connection, connection_id=connection_id, resource=resource)
    return done


def _mark_credential_failing(connection: Connection, error: str) -> None:
    try:
        cred = connection_credential(connection).credential
    except NoCredential:
        return
    cred.mark_failed(error=error[:1000])


def _cancel_rest(run_ids, connection, message: str) -> None:
    SyncRun.objects.filter(
        pk__in=list(run_ids), connection=connection, status=SyncRun.Status.QUEUED
    ).update(
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        error_kind="auth",
        error=message,
    )


def _pause_rest(run_ids, connection, paused: SyncRun) -> None:
    SyncRun.objects.filter(
        pk__in=list(run_ids), connection=connection, status=SyncRun.Status.QUEUED
    ).update(
        status=SyncRun.Status.PAUSED,
        finished_at=timezone.now(),
        resume_at=paused.resume_at,
        error_kind=paused.error_kind,
        error="Waiting for the vendor's limit: " + paused.error[:500],
    )


def resume_plan(connection: Connection) -> dict[str, str]:
    """``{resource: mode}`` a resume after a pause runs, in sync order: every stream whose
    latest run was paused (with that run's mode: a paused nightly sweep goes on as a full
    sweep, including the streams the pause parked before they began), every stream with an
    unfinished checkpoint, and the scheduled incremental's streams (`schedules.
    incremental_resources`); sweep-only streams nobody paused wait for the nightly sweep."""
    wanted = dict.fromkeys(schedules.incremental_resources(connection), SyncRun.Mode.INCREMENTAL)
    for stream in ensure_streams(connection):
        latest = SyncRun.objects.filter(stream=stream).order_by("-created_at", "-id").first()
        if latest is not None and latest.status == SyncRun.Status.PAUSED:
            wanted[stream.resource] = latest.mode
        elif stream.checkpoint:
            wanted[stream.resource] = stream.checkpoint.get("mode", SyncRun.Mode.INCREMENTAL)
    order = [s.resource for s in connection.vendor_descriptor.streams]
    return {r: wanted[r] for r in order if r in wanted}


def sync_resume(connection: Connection) -> SyncRequest:
    """Start again after a pause (`resume_plan`): streams with an unfinished checkpoint
    continue from it; streams the pause parked run as their paused run would have."""
    plan = resume_plan(connection)
    if not plan:
        return SyncRequest([], False)
    return sync_request(
        connection,
        trigger=SyncRun.Trigger.RESUME,
        mode=SyncRun.Mode.INCREMENTAL,
        resources=list(plan),
        modes=plan,
    )


def connection_sync_now(
    connection: Connection,
    *,
    mode: str = SyncRun.Mode.INCREMENTAL,
    resources: Iterable[str] | None = None,
    trigger: str = SyncRun.Trigger.MANUAL,
    user=None,
    transport: httpx.BaseTransport | None = None,
    on_page: Callable[[SyncRun], None] | None = None,
) -> list[SyncRun]:
    """Request and run a sync in this process (no task queue). Returns the finished runs;
    an empty list when another run is active."""
    request = sync_request(
        connection, trigger=trigger, mode=mode, resources=resources, user=user, enqueue=False
    )
    return sync_execute([r.pk for r in request.runs], transport=transport, on_page=on_page)


# --- what the schedules run ---------------------------------------------------------------


def sync_scheduled(*, connection_id: int, mode: str = "incremental") -> str:
    """A schedule's sync of an enabled connection: `mode` "incremental" syncs the streams that
    find changes cheaply, "full" every stream (`schedules.scheduled_resources`). Returns what
    happened, for the task's result."""
    connection = Connection.objects.filter(pk=connection_id, enabled=True).first()
    if connection is None:
        return "connection missing or disabled"
    resources = schedules.scheduled_resources(connection, mode)
    if not resources:
        return "no stream of this connection runs in the incremental"
    request = sync_request(
        connection,
        trigger=SyncRun.Trigger.SCHEDULE,
        mode=SyncRun.Mode.FULL if mode == "full" else SyncRun.Mode.INCREMENTAL,
        resources=resources,
    )
    return "already running" if request.already_running else f"{len(request.runs)} runs queued"


def sync_resume_due(*, connection_id: int) -> str:
    """The one-off resume after a pause (429 ``Retry-After`` or quota reset): `sync_resume`
    of an enabled connection. Returns what happened, for the task's result."""
    connection = Connection.objects.filter(pk=connection_id, enabled=True).first()
    if connection is None:
        return "connection missing or disabled"
    request = sync_resume(connection)
    return "already running" if request.already_running else f"{len(request.runs)} runs queued"


__all__ = [
    "SyncRequest",
    "VerifyResult",
    "active_runs",
    "client_for_secret",
    "connection_client",
    "connection_credential",
    "connection_sync_now",
    "connection_verify",
    "sync_execute",
    "sync_request",
    "resume_plan",
    "sync_resume",
    "sync_resume_due",
    "sync_scheduled",
]
