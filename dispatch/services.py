"""Dispatch work that writes: Synchroteam job create/schedule plans through the outbox, billing
drafts from a finished job, and FieldCamp "Refresh now".

Public API (keyword-only):

* `job_create_plan(connection=, user=, nonce=, customer=, site=, job_type=, description=,
  technician=, start=, end=) -> WritePlan`: the exact payloads before confirming
* `job_schedule_plan(connection=, user=, job=, technician=, start=, end=) -> WritePlan`
  (reschedule or reassign)
* `job_writes_enqueue(plan=, by=, reason=) -> WriteBatch` / `job_batch(tenant=, batch_uuid=)`
* `job_draft_billing(tenant=, job=, ticket=, labor_type=, by=, confirm_mismatch=False)
  -> BillingDraft` (raises `CustomerMismatch` for another customer's ticket unless confirmed)
* `calendar_sync_request(tenant=, connection=, integration=, mode=, by=) -> str`

Sources: vendor-apis.md §2.3 (``job/send`` upsert, ``job/schedule`` needs both datetimes as
``YYYY-MM-DD HH:MM:SS``), §2.5 (statuses; ``myId`` set at creation), §2.7 (job fields,
``customFieldValues`` as ``{label, value}``). Dates are sent in UTC, the zone the mirror reads
Synchroteam's naive strings in (§4.6, unverified; docs/dispatch.md). FieldCamp: seed 002.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.db import transaction

from accounts.models import NoCredential, Tenant, User
from billing.models import ApprovalEvent, BillingDraft
from billing.services import BillingError, draft_create
from connectors.fieldcamp.services import calendar_sync_mark, integration_sync_trigger
from connectors.models import Connection
from connectors.outbox.models import WriteBatch
from connectors.outbox.plans import WritePlan, plan_actor
from connectors.outbox.services import plan_enqueue
from connectors.synchroteam.models import (
    SynchroteamCustomer,
    SynchroteamJob,
    SynchroteamSite,
    SynchroteamUser,
)
from connectors.synchroteam.vocab import SCHEDULABLE_STATUSES
from connectors.synchroteam.writes import DATE_FMT, JOB_CREATE, JOB_SCHEDULE
from connectors.syncro.models import SyncroTicket
from dispatch.reconciliation import CustomerCheck, customer_check, job_minutes, job_tag


class DispatchError(Exception):
    """The request cannot be turned into a Synchroteam write (shown to the person)."""


class CustomerMismatch(BillingError):
    """The Syncro ticket is another customer's than the job's and nobody confirmed it; `check`
    names both customers (its ``warning`` is the message)."""

    def __init__(self, check: CustomerCheck):
        super().__init__(check.warning)
        self.check = check


# --- create and schedule -------------------------------------------------------------------------


#: `WriteBatch.kind` of a job create/schedule request.
BATCH_KIND = "dispatch.job"


def st_datetime(value: dt.datetime) -> str:
    """An aware datetime as Synchroteam's ``YYYY-MM-DD HH:MM:SS`` in UTC.

    Raises:
        DispatchError: `value` is naive.
    """
    if value.tzinfo is None:
        raise DispatchError("The time must carry a time zone.")
    return value.astimezone(dt.UTC).strftime(DATE_FMT)


def _window(start: dt.datetime | None, end: dt.datetime | None) -> tuple[str, str] | None:
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise DispatchError("Give both the start and the end of the time window, or neither.")
    if end <= start:
        raise DispatchError("The window must end after it starts.")
    return st_datetime(start), st_datetime(end)


def job_create_plan(
    *,
    connection: Connection,
    user,
    nonce: str,
    customer: SynchroteamCustomer,
    site: SynchroteamSite | None,
    job_type: str,
    description: str,
    technician: SynchroteamUser | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> WritePlan:
    """The ``job/send`` create (``myId`` = the marker) and, with a technician and window, the
    ``job/schedule`` that follows it. `nonce` is made on the server at preview and comes back
    inside the signed token, so confirming twice enqueues once and the preview's ``myId`` is
    the one sent.

    Raises:
        DispatchError: the site is another customer's, half a window, a technician without a
            window (or the reverse).
    """
    if site is not None and site.customer_vendor_id not in (None, customer.vendor_id):
        raise DispatchError("That site belongs to another customer.")
    window = _window(start, end)
    if (technician is None) != (window is None):
        raise DispatchError("To schedule, pick both a technician and a time window.")
    payload: dict = {
        "description": description.strip(),
        "customer": {"id": customer.vendor_id},
        "type": {"name": job_type},
    }
    if site is not None:
        payload["site"] = {"id": site.vendor_id}
    plan = WritePlan(
        connection=connection,
        kind=BATCH_KIND,
        key=f"st-job:{nonce}",
        label=f"New {job_type} job for {customer.name}",
        subject={"customer_id": customer.vendor_id},
        actor=plan_actor(connection, user),
    )
    create = plan.add(JOB_CREATE, {"customer_id": customer.vendor_id}, payload, "create")
    if window:
        my_id = create.body["myId"]
        schedule = {
            "myId": my_id,
            "technician": {"id": technician.vendor_id},
            "scheduledStart": window[0],
            "scheduledEnd": window[1],
        }
        plan.add(JOB_SCHEDULE, {"my_id": my_id}, schedule, "schedule", after=create)
    return plan


def job_schedule_plan(
    *,
    connection: Connection,
    user,
    job: SynchroteamJob,
    technician: SynchroteamUser,
    start: dt.datetime,
    end: dt.datetime,
) -> WritePlan:
    """A ``job/schedule`` by ``id`` for an existing job (reschedule or reassign).

    The batch key is the job plus a digest of the exact body, so the same change confirmed
    twice is sent once, while a later different change is a new write.

    Raises:
        DispatchError: the job's status does not allow scheduling (started or later), bad window.
    """
    if job.status and job.status not in SCHEDULABLE_STATUSES:
        raise DispatchError(f"A job in status “{job.status}” cannot be rescheduled in Synchroteam.")
    window = _window(start, end)
    if window is None:
        raise DispatchError("Give both the start and the end of the time window.")
    payload = {
        "id": job.vendor_id,
        "technician": {"id": technician.vendor_id},
        "scheduledStart": window[0],
        "scheduledEnd": window[1],
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
    plan = WritePlan(
        connection=connection,
        kind=BATCH_KIND,
        key=f"st-job:{job.vendor_id}:schedule:{digest}",
        label=f"Schedule job {job.num or job.vendor_id}",
        subject={"job_id": job.vendor_id},
        actor=plan_actor(connection, user),
    )
    plan.add(JOB_SCHEDULE, {"job_id": job.vendor_id}, payload, "schedule")
    return plan


def job_plan_nonce(plan: WritePlan) -> str:
    """The part of the plan's key a signed token carries (the create nonce or the digest)."""
    return plan.key.rsplit(":", 1)[-1]


def job_writes_enqueue(*, plan: WritePlan, by, reason: str) -> WriteBatch:
    """Enqueue a plan's writes and mark the calendar for one batched sync, atomically.

    Raises:
        accounts.models.NoCredential: no Synchroteam key in the vault.
    """

    with transaction.atomic():
        batch = plan_enqueue(plan, by=by)
        if any(w.operation == JOB_SCHEDULE for w in plan.writes):
            calendar_sync_mark(tenant=plan.connection.tenant, reason=reason)
    return batch


def job_batch(*, tenant: Tenant, batch_uuid) -> WriteBatch | None:
    """The tenant's job request batch with this UUID (None for anything else)."""
    return WriteBatch.objects.filter(tenant=tenant, kind=BATCH_KIND, uuid=batch_uuid).first()


def job_draft_billing(
    *,
    tenant: Tenant,
    job: SynchroteamJob,
    ticket: SyncroTicket,
    labor_type: str,
    by: User,
    confirm_mismatch: bool = False,
) -> BillingDraft:
    """Create a billing draft for `job` on Syncro `ticket` via `billing.services.draft_create`:
    the job's worked minutes (`reconciliation.job_minutes`), a hidden comment describing the
    field work, and a line description ending in the job's tag (`reconciliation.job_tag`),
    which takes the job off the unbilled list.

    A ticket of another customer than the job's (`reconciliation.customer_check`) is refused
    unless `confirm_mismatch`; a confirmed mismatch is written on the draft's DRAFTED
    `ApprovalEvent` (``note`` naming both customers and who confirmed, ``after.customer_mismatch``)
    in the draft's transaction.

    Raises:
        CustomerMismatch: another customer's ticket, not confirmed (nothing is created).
        billing.services.BillingError: no minutes, labor type not mapped, no Syncro connection.
    """
    check = customer_check(tenant=tenant, job=job, ticket=ticket)
    if check.differs and not confirm_mismatch:
        raise CustomerMismatch(check)
    minutes = job_minutes(job)
    if minutes <= 0:
        raise BillingError("This job has no recorded work time to bill.")
    tag = job_tag(job)
    summary = f"{job.type_name or 'Field job'} at {job.customer_name}".strip()
    with transaction.atomic():
        draft = draft_create(
            tenant=tenant,
            connection=ticket.connection,
            ticket=ticket,
            by=by,
            minutes=minutes,
            labor_type=labor_type,
            comment_subject=f"Field work: {summary}"[:200],
            comment_body=(job.description or summary)
            + f"\n\nSynchroteam job #{job.num} by {job.technician_name or 'the technician'}.",
            comment_hidden=True,
            comment_do_not_email=True,
            line_description=f"{summary} {tag}"[:500],
        )
        if check.differs:
            _record_mismatch(draft=draft, job=job, ticket=ticket, check=check, by=by)
    return draft


def _record_mismatch(
    *, draft: BillingDraft, job: SynchroteamJob, ticket: SyncroTicket, check: CustomerCheck, by
) -> None:
    """Note the confirmed customer mismatch on the draft's DRAFTED event (same transaction)."""
    event = draft.events.filter(kind=ApprovalEvent.Kind.DRAFTED).order_by("id").first()
    if event is None:  # draft_create always writes one; never leave the mismatch unrecorded
        event = ApprovalEvent(
            tenant=draft.tenant,
            draft=draft,
            ticket_vendor_id=draft.ticket_vendor_id,
            ticket_number=draft.ticket_number,
            kind=ApprovalEvent.Kind.DRAFTED,
            actor=by,
        )
    event.note = (
        f"Customer mismatch confirmed by {by}: Synchroteam job #{job.num or job.vendor_id} is for "
        f"“{check.job_customer}”, billed to ticket #{ticket.number} of Syncro customer "
        f"“{check.ticket_customer}”."
    )
    event.after = {
        **(event.after or {}),
        "customer_mismatch": {
            "synchroteam_job_id": job.vendor_id,
            "synchroteam_customer_id": job.customer_vendor_id,
            "synchroteam_customer": check.job_customer,
            "matched_syncro_customer_id": check.matched.vendor_id if check.matched else None,
            "syncro_customer_id": ticket.customer_vendor_id,
            "syncro_customer": check.ticket_customer,
            "confirmed_by": by.pk,
        },
    }
    event.save()


# --- calendars -----------------------------------------------------------------------------------


def calendar_sync_request(
    *, tenant: Tenant, connection: Connection, integration: str, mode: str, by: User
) -> str:
    """Ask FieldCamp for a sync of `integration` (a slug of
    `connectors.fieldcamp.services.INTEGRATIONS`; `mode` ``incremental`` or ``full``) through
    the outbox, in one transaction. Returns the sentence shown to the person: the trigger's
    outcome, or why no key could be used (NoCredential is not raised)."""
    try:
        with transaction.atomic():
            result = integration_sync_trigger(
                tenant=tenant, connection=connection, integration=integration, mode=mode, by=by
            )
    except NoCredential as exc:
        return str(exc)
    return result.message
