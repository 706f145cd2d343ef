"""FieldCamp integrations: status, "Refresh now" through the outbox, job polling, batched
calendar syncs and the incremental Google Calendar pull.

Sources: seed 002 (the integration routes, 409 "a sync is already running", the status route's
``connected``/``last_synced_at``/``next_scheduled_sync_at``/``active_job_id``/``errors``,
"Batch related changes", "Log job IDs and counts"), vendor-apis.md §3.5.

Public API (keyword-only):

* `integration_panel(connection=, user=) -> list[IntegrationState]`
* `integration_sync_trigger(tenant=, connection=, integration=, mode=, by=) -> TriggerResult`
* `calendar_sync_mark(tenant=, reason=, integration=)` / `calendar_sync_flush(now=)`
* `calendar_changes_pull(connection=, user=) -> list[SyncRun]`
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import NoCredential, Tenant, Vendor
from connectors.errors import VendorError
from connectors.fieldcamp.models import FieldCampSyncJob
from connectors.fieldcamp.writes import (
    INTEGRATION_KEYS,
    NOT_CONNECTED,
    SYNC_TRIGGER,
    integration_status,
    recent_jobs,
    sync_body,
)
from connectors.models import Connection, SyncRun
from connectors.outbox.models import VendorWrite
from connectors.outbox.plans import WritePlan, new_nonce, plan_actor
from connectors.outbox.services import plan_enqueue
from connectors.webhooks.models import CalendarSyncFlag

log = logging.getLogger(__name__)

OPERATION = SYNC_TRIGGER
#: `WriteBatch.kind` of a "Refresh now".
BATCH_KIND = "fieldcamp.integration"
INTEGRATIONS = {
    "google-calendar": "Google Calendar",
    "outlook-calendar": "Outlook",
    "quickbooks": "QuickBooks Online",
}
FINISHED = ("succeeded", "failed", "completed", "cancelled", "canceled", "error")
RECONNECT_HELP = {
    "google-calendar": "In FieldCamp, open Settings → Integrations → Google Calendar and connect "
    "(or disconnect and reconnect) with the Google account that owns the calendar. Then come back "
    "and press Refresh now.",
    "outlook-calendar": "In FieldCamp, open Settings → Integrations → Outlook and connect with the "
    "Microsoft 365 account that owns the calendar. Then come back and press Refresh now.",
    "quickbooks": "In FieldCamp, open Settings → Integrations → QuickBooks and connect your "
    "QuickBooks Online company (an Intuit admin must approve it). Then come back and press "
    "Refresh now.",
}


def fieldcamp_connection(tenant: Tenant) -> Connection | None:
    """The tenant's enabled FieldCamp connection, or None."""
    return Connection.objects.for_tenant(tenant).enabled().of(Vendor.FIELDCAMP).first()


# --- panel ----------------------------------------------------------------------------------


@dataclass
class IntegrationState:
    """One row of the panel.

    `status` is the vendor's status route answer (``{}`` when unknown); `write` the latest
    "Refresh now" of this integration; `job` the followed sync job (``{"job_id", "status",
    ...}``) when known; `error` a sentence when the vendor could not be asked.
    """

    slug: str
    label: str
    status: dict = field(default_factory=dict)
    write: VendorWrite | None = None
    job: dict | None = None
    error: str = ""

    @property
    def connected(self) -> bool | None:
        if "connected" in self.status:
            return bool(self.status["connected"])
        if self.write is not None and NOT_CONNECTED in (self.write.vendor_message or ""):
            return False
        return None

    @property
    def last_synced(self) -> dt.datetime | None:
        return parse_datetime(str(self.status.get("last_synced_at") or ""))

    @property
    def next_scheduled(self) -> dt.datetime | None:
        return parse_datetime(str(self.status.get("next_scheduled_sync_at") or ""))

    @property
    def not_connected(self) -> bool:
        return self.connected is False

    @property
    def reconnect_help(self) -> str:
        return RECONNECT_HELP[self.slug]

    @property
    def followed(self) -> bool:
        return bool(self.write and (self.write.response or {}).get("followed"))

    @property
    def job_id(self) -> str:
        if self.write is not None and self.write.remote_id:
            return self.write.remote_id
        return str(self.status.get("active_job_id") or "")

    @property
    def job_status(self) -> str:
        """The followed job's status: from the job list when FieldCamp has one, else derived
        from the status route (still ``active_job_id`` -> running; named in ``errors`` ->
        failed; otherwise finished -> succeeded)."""
        if self.job and self.job.get("status"):
            return str(self.job["status"])
        if not self.job_id:
            return ""
        if str(self.status.get("active_job_id") or "") == self.job_id:
            return "running"
        if any(
            isinstance(e, dict) and str(e.get("job_id")) == self.job_id
            for e in self.status.get("errors") or []
        ):
            return "failed"
        if self.status and self.write is not None and self.write.is_terminal:
            return "succeeded"
        return ""

    @property
    def errors(self) -> list[str]:
        return [
            str(e.get("message") or e.get("code") or e) if isinstance(e, dict) else str(e)
            for e in self.status.get("errors") or []
        ]

    @property
    def is_running(self) -> bool:
        """Poll while our trigger is on its way or the followed job has not finished."""
        if self.write is not None and self.write.is_in_progress:
            return True
        return self.job_status in ("queued", "running")

    @property
    def counts(self) -> dict:
        return job_counts(self.job or {})


def job_counts(job: dict) -> dict:
    """Records pulled, pushed and skipped of a sync job, whatever keys the vendor used."""
    out = {}
    nested = job.get("counts") if isinstance(job.get("counts"), dict) else {}
    for name in ("pulled", "pushed", "skipped", "failed"):
        for key in (name, f"records_{name}", f"{name}_count"):
            value = nested.get(key, job.get(key))
            if value is not None:
                out[name] = value
                break
    return out


def latest_trigger(connection: Connection, integration: str) -> VendorWrite | None:
    return (
        VendorWrite.objects.filter(
            connection=connection, operation=OPERATION, target__integration=integration
        )
        .order_by("-created_at", "-id")
        .first()
    )


def integration_panel(
    *, connection: Connection, user=None, only: str | None = None
) -> list[IntegrationState]:
    """Read each integration's status route (one request each; `only` one) and our latest
    trigger, and the followed job from the sync-job list.

    Vendor errors are caught per integration and shown as `error`; never raises for them.
    """
    from connectors.services import connection_client

    states = [
        IntegrationState(slug, label, write=latest_trigger(connection, slug))
        for slug, label in INTEGRATIONS.items()
        if only in (None, slug)
    ]
    try:
        client, _ = connection_client(connection, user=user)
    except NoCredential as exc:
        for s in states:
            s.error = str(exc)
        return states
    try:
        for state in states:
            try:
                state.status = integration_status(client, state.slug)
                if state.job_id:
                    state.job = _find_job(client, state.slug, state.job_id)
                    _record_job(connection, state)
            except VendorError as exc:
                state.error = exc.vendor_message
    finally:
        client.close()
    return states


def _find_job(client, integration: str, job_id: str) -> dict | None:
    for job in recent_jobs(client, integration):
        if str(job.get("job_id") or job.get("id")) == str(job_id):
            return job
    return None


def _record_job(connection: Connection, state: IntegrationState) -> None:
    """Upsert the followed job into the sync-job mirror; log its id and counts once when it
    finishes (seed 002: "Log job IDs and counts")."""
    from connectors.fieldcamp.mapping import map_sync_job

    response = (
        state.write.response if state.write and isinstance(state.write.response, dict) else {}
    )
    job = {
        "job_id": state.job_id,
        "integration": INTEGRATION_KEYS[state.slug],
        "mode": response.get("mode") or (state.write.payload.get("mode") if state.write else ""),
        "created_at": response.get("created_at"),
        **(state.job or {}),
        "status": state.job_status,
    }
    try:
        values = map_sync_job(job)
    except Exception:  # a malformed job must not break the panel
        log.warning("fieldcamp: could not read sync job %r", state.job_id)
        return
    vendor_id = values.pop("vendor_id")
    before = (
        FieldCampSyncJob.objects.filter(connection=connection, vendor_id=vendor_id)
        .values_list("status", flat=True)
        .first()
    )
    FieldCampSyncJob.objects.update_or_create(
        connection=connection,
        vendor_id=vendor_id,
        defaults={**values, "tenant_id": connection.tenant_id, "raw": job},
    )
    status = values.get("status") or ""
    if status in FINISHED and before != status:
        log.info(
            "fieldcamp sync job %s (%s) finished %s: %s",
            vendor_id,
            values.get("integration"),
            status,
            job_counts(job) or "no counts reported",
        )


# --- refresh now ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TriggerResult:
    write: VendorWrite
    already: bool
    message: str


def integration_sync_trigger(
    *, tenant: Tenant, connection: Connection, integration: str, mode: str = "incremental", by=None
) -> TriggerResult:
    """Ask FieldCamp to sync `integration` now, through the outbox.

    A second click while our own trigger is still on its way returns that write (``already``);
    once sent, a second trigger that meets FieldCamp's 409 follows the running job (see
    connectors.fieldcamp.writes). Must be called inside a transaction (the write is enqueued on
    commit).

    Raises:
        ValueError: unknown integration or mode; the connection is not the tenant's FieldCamp one.
        NoCredential: no FieldCamp API key in the vault.
    """
    if integration not in INTEGRATIONS:
        raise ValueError(f"Unknown integration {integration!r}.")
    if connection.tenant_id != tenant.id or connection.vendor != Vendor.FIELDCAMP:
        raise ValueError("Not this tenant's FieldCamp connection.")
    body = sync_body(integration, mode)
    pending = (
        VendorWrite.objects.filter(
            connection=connection, operation=OPERATION, target__integration=integration
        )
        .exclude(state__in=VendorWrite.TERMINAL_STATES + VendorWrite.PERSON_STATES)
        .first()
    )
    if pending is not None:
        return TriggerResult(
            pending, True, f"A {INTEGRATIONS[integration]} sync was just requested; following it."
        )
    plan = WritePlan(
        connection=connection,
        kind=BATCH_KIND,
        key=f"fieldcamp:sync:{integration}:{new_nonce()}",
        label=f"{INTEGRATIONS[integration]} sync ({mode})",
        subject={"integration": integration},
        actor=plan_actor(connection, by),
    )
    plan.add(OPERATION, {"integration": integration}, body, "trigger")
    write = plan_enqueue(plan, by=by).writes.get()
    return TriggerResult(write, False, f"{INTEGRATIONS[integration]} sync requested.")


def trigger_message(write: VendorWrite) -> str:
    """What the person reads about a trigger write once the vendor answered."""
    label = INTEGRATIONS.get((write.target or {}).get("integration", ""), "The")
    response = write.response if isinstance(write.response, dict) else {}
    if write.state == VendorWrite.State.CONFIRMED and response.get("followed"):
        job = write.remote_id or "an unnamed job"
        return f"A {label} sync is already running (job {job}); following it instead of starting another."
    if write.state == VendorWrite.State.CONFIRMED:
        return f"{label} sync started (job {write.remote_id})."
    if write.state == VendorWrite.State.REJECTED and NOT_CONNECTED in write.vendor_message:
        return f"{label} is not connected in FieldCamp."
    if write.is_waiting_for_person:
        return f"FieldCamp refused the {label} sync: {write.vendor_message}"
    return f"{label} sync requested; waiting for FieldCamp's answer."


# --- batched calendar syncs ----------------------------------------------------------------


def calendar_sync_mark(
    *, tenant: Tenant, reason: str, integration: str = "google-calendar"
) -> CalendarSyncFlag | None:
    """Note that a portal change must reach the calendar. Many marks -> one sync (flush).

    Returns the flag, or None when the tenant has no FieldCamp connection. Call inside the
    transaction that makes the change.
    """
    connection = fieldcamp_connection(tenant)
    if connection is None:
        return None
    now = timezone.now()
    flag, created = CalendarSyncFlag.objects.get_or_create(
        connection=connection,
        integration=integration,
        defaults={
            "tenant": tenant,
            "changes": 1,
            "first_change_at": now,
            "last_change_at": now,
            "reasons": [reason[:120]],
        },
    )
    if not created:
        CalendarSyncFlag.objects.filter(pk=flag.pk).update(
            changes=F("changes") + 1, last_change_at=now
        )
        flag.refresh_from_db()
        flag.reasons = (flag.reasons + [reason[:120]])[-10:]
        flag.save(update_fields=["reasons"])
    return flag


def calendar_sync_flush(*, now: dt.datetime | None = None) -> list[VendorWrite]:
    """Turn every flag quiet for the debounce window into one sync trigger write.

    A flag whose tenant still has a Synchroteam schedule write on its way waits for it (the
    calendar should see the final state). Returns the writes enqueued.
    """
    now = now or timezone.now()
    quiet = now - dt.timedelta(seconds=settings.DISPATCH_CALENDAR_SYNC_DEBOUNCE_SECONDS)
    out = []
    for flag in CalendarSyncFlag.objects.filter(last_change_at__lte=quiet).select_related(
        "connection", "tenant"
    ):
        busy = (
            VendorWrite.objects.filter(tenant=flag.tenant, operation__startswith="synchroteam.job.")
            .exclude(state__in=VendorWrite.TERMINAL_STATES + VendorWrite.PERSON_STATES)
            .exists()
        )
        if busy:
            continue
        with transaction.atomic():
            locked = CalendarSyncFlag.objects.select_for_update().filter(pk=flag.pk).first()
            if locked is None or locked.last_change_at > quiet:
                continue
            try:
                result = integration_sync_trigger(
                    tenant=flag.tenant,
                    connection=flag.connection,
                    integration=flag.integration,
                    mode="incremental",
                )
            except NoCredential:
                log.warning("calendar sync flag %s: no FieldCamp key; kept", flag.pk)
                continue
            log.info(
                "calendar sync: %d portal change(s) batched into write %s",
                locked.changes,
                result.write.pk,
            )
            locked.delete()
            out.append(result.write)
    return out


# --- incremental Google Calendar changes ----------------------------------------------------


def calendar_changes_pull(*, connection: Connection, user=None, now: bool = False) -> list[SyncRun]:
    """Pull Google Calendar change records (``GET …/google-calendar/sync?since=`` with
    ``next_cursor``) into the mirror through the connectors' ``calendar_changes`` stream.

    ``now=True`` runs in this process (tests, the command line); otherwise the run is queued.
    """
    from connectors.services import connection_sync_now, sync_request

    if now:
        return connection_sync_now(
            connection, resources=["calendar_changes"], trigger=SyncRun.Trigger.MANUAL, user=user
        )
    return sync_request(
        connection, resources=["calendar_changes"], trigger=SyncRun.Trigger.MANUAL, user=user
    ).runs


__all__ = [
    "INTEGRATIONS",
    "INTEGRATION_KEYS",
    "IntegrationState",
    "TriggerResult",
    "calendar_changes_pull",
    "calendar_sync_flush",
    "calendar_sync_mark",
    "fieldcamp_connection",
    "integration_panel",
    "integration_sync_trigger",
    "trigger_message",
]
