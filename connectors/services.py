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
* `connection_schedules_ensure(connection)`: the django-q2 schedules of a connection.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from django.db import transaction
from django.utils import timezone

from accounts.models import ActorCredential, Credential, NoCredential, Vendor
from connectors.errors import AuthError, VendorError
from connectors.models import Connection, SyncRun, SyncStream
from connectors.ratelimit import ConnectionGate
from connectors.sync import ensure_streams, run_stream

log = logging.getLogger(__name__)


def connection_credential(connection: Connection, *, user=None) -> ActorCredential:
    """The acting user's own credential for the connection's vendor, else the shared one.

    Raises:
        NoCredential: neither exists.
    """
    return Credential.objects.for_actor(connection.tenant, connection.vendor, user)


def client_for_secret(
    connection: Connection,
    secret: str,
    *,
    gate: Any = None,
    transport: httpx.BaseTransport | None = None,
):
    """The vendor client for `connection` authenticated with `secret` (no database access)."""
    base = connection.api_base_url
    if connection.vendor == Vendor.SYNCRO:
        from connectors.syncro.client import SyncroClient

        return SyncroClient.build(
            base, secret, auth_mode=connection.syncro_auth_mode, gate=gate, transport=transport
        )
    if connection.vendor == Vendor.SYNCHROTEAM:
        from connectors.synchroteam.client import SynchroteamClient

        return SynchroteamClient.build(
            base, connection.account, secret, gate=gate, transport=transport
        )
    from connectors.fieldcamp.client import FieldCampClient

    return FieldCampClient.build(base, secret, gate=gate, transport=transport)


def connection_client(
    connection: Connection,
    *,
    user=None,
    gate: bool = True,
    transport: httpx.BaseTransport | None = None,
):
    """``(client, actor_credential)`` for `connection`.

    The client's gate is the shared rate limiter (`ConnectionGate`) unless ``gate=False``.
    Writes made with a shared credential are attributed by the vendor to the shared key's
    owner: callers show ``actor.is_shared`` as a warning (seed ``/syncro`` attribution rule).

    Raises:
        NoCredential: no usable credential.
    """
    actor = connection_credential(connection, user=user)
    secret = actor.credential.secret
    the_gate = ConnectionGate(connection, secret) if gate else None
    return client_for_secret(connection, secret, gate=the_gate, transport=transport), actor


# --- verify ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
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
        return VerifyResult(
            False, f"Rejected by {connection.get_vendor_display()}: {exc.vendor_message}", cred
        )
    except VendorError as exc:
        return VerifyResult(False, f"Could not verify: {exc}", cred)
    finally:
        client.close()
    cred.mark_verified(identity=identity, vendor_user_id=vendor_user_id, by=by)
    return VerifyResult(True, identity, cred)


# --- sync requests ----------------------------------------------------------------------


@dataclass(frozen=True)
class SyncRequest:
    runs: list[SyncRun]
    already_running: bool


def active_runs(connection: Connection):
    return SyncRun.objects.filter(connection=connection, status__in=SyncRun.ACTIVE)


def sync_request(
    connection: Connection,
    *,
    trigger: str = SyncRun.Trigger.MANUAL,
    mode: str = SyncRun.Mode.INCREMENTAL,
    resources: Iterable[str] | None = None,
    user=None,
    enqueue: bool = True,
) -> SyncRequest:
    """Queue one run per stream of `connection` and enqueue them (on commit) as one task.

    Returns ``already_running=True`` and no runs when the connection has a queued or running
    run (the "Sync now" button says so instead of starting a second run).
    """
    from connectors.sync import release_stale_runs

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
                mode=mode,
                requested_by=user if getattr(user, "pk", None) else None,
            )
            for stream in ensure_streams(connection, resources)
        ]
        if enqueue and runs:
            from connectors.tasks import enqueue_sync

            ids = [r.pk for r in runs]
            transaction.on_commit(lambda: enqueue_sync(ids))
    return SyncRequest(runs, False)


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
                    clients[connection.pk], _ = connection_client(connection, transport=transport)
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
                from connectors.tasks import schedule_resume

                schedule_resume(connection.pk, result.resume_at)
    finally:
        for client in clients.values():
            client.close()
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


def sync_resume(connection: Connection) -> SyncRequest:
    """Start again after a pause: streams with an unfinished checkpoint continue from it."""
    return sync_request(connection, trigger=SyncRun.Trigger.RESUME, mode=SyncRun.Mode.INCREMENTAL)


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


# --- status helpers used by views and summary ------------------------------------------


def next_runs(connection: Connection) -> dict[str, dt.datetime | None]:
    """When the next incremental and full sweeps are due (from the django-q2 schedules)."""
    from django_q.models import Schedule

    out: dict[str, dt.datetime | None] = {"incremental": None, "full": None}
    for kind in out:
        schedule = Schedule.objects.filter(name=schedule_name(connection, kind)).first()
        out[kind] = schedule.next_run if schedule else None
    return out


def schedule_name(connection: Connection, kind: str) -> str:
    return f"sync:{connection.uuid}:{kind}"


def connection_schedules_ensure(connection: Connection) -> None:
    """Create or update the connection's two django-q2 schedules (incremental every few
    minutes, full nightly), or delete them when the connection is disabled."""
    from django_q.models import Schedule

    names = {kind: schedule_name(connection, kind) for kind in ("incremental", "full")}
    if not connection.enabled:
        Schedule.objects.filter(name__in=names.values()).delete()
        return
    now = timezone.now()
    minutes = int(connection.incremental_every.total_seconds() // 60) or 1
    nightly = now.replace(hour=connection.nightly_hour, minute=0, second=0, microsecond=0)
    if nightly <= now:
        nightly += dt.timedelta(days=1)
    Schedule.objects.update_or_create(
        name=names["incremental"],
        defaults={
            "func": "connectors.tasks.scheduled_sync",
            "args": f"{connection.pk},'incremental'",
            "schedule_type": Schedule.MINUTES,
            "minutes": minutes,
            "repeats": -1,
        },
    )
    Schedule.objects.get_or_create(
        name=names["incremental"], defaults={"next_run": now + dt.timedelta(minutes=minutes)}
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


def streams_status(connection: Connection) -> list[SyncStream]:
    return list(SyncStream.objects.filter(connection=connection).order_by("resource"))


__all__ = [
    "SyncRequest",
    "VerifyResult",
    "active_runs",
    "client_for_secret",
    "connection_client",
    "connection_credential",
    "connection_schedules_ensure",
    "connection_sync_now",
    "connection_verify",
    "next_runs",
    "sync_execute",
    "sync_request",
    "sync_resume",
]
