"""Synchroteam dispatch: the jobs board queries, job creation and scheduling through the outbox.

Public API (keyword-only):

* `jobs_filtered(tenant=, filters=) -> QuerySet[SynchroteamJob]`
* `job_context(job=) -> JobContext` (site, equipment, custom fields, activities, invoice, quotation)
* `technician_board(tenant=, start=, days=, technician=None) -> list[TechnicianRow]`
* `job_create_plan(connection=, user=, nonce=, ...) -> WritePlan`: the exact payloads first
* `job_schedule_plan(connection=, user=, job=, technician=, start=, end=) -> WritePlan`
* `job_writes_enqueue(plan=, by=, reason=) -> WriteBatch`

Sources: vendor-apis.md §2.3 (``job/send`` upsert, ``job/schedule`` needs both datetimes as
``YYYY-MM-DD HH:MM:SS``), §2.5 (statuses; ``myId`` set at creation), §2.7 (job fields,
``customFieldValues`` as ``{label, value}``). Dates are sent in UTC, the zone the mirror reads
Synchroteam's naive strings in (§4.6, unverified; docs/dispatch.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q, QuerySet

from accounts.models import Tenant, Vendor
from connectors.models import Connection
from connectors.outbox.models import WriteBatch
from connectors.outbox.plans import WritePlan, plan_actor
from connectors.outbox.services import plan_enqueue
from connectors.synchroteam.models import (
    SynchroteamActivity,
    SynchroteamCustomer,
    SynchroteamEquipment,
    SynchroteamInvoice,
    SynchroteamJob,
    SynchroteamQuotation,
    SynchroteamSite,
    SynchroteamUser,
)
from connectors.synchroteam.vocab import JOB_STATUSES, SCHEDULABLE_STATUSES
from connectors.synchroteam.writes import DATE_FMT, JOB_CREATE, JOB_SCHEDULE

STATUSES = JOB_STATUSES
SCHEDULABLE = SCHEDULABLE_STATUSES


class DispatchError(Exception):
    """The request cannot be turned into a Synchroteam write (shown to the person)."""


def synchroteam_connection(tenant: Tenant) -> Connection | None:
    return Connection.objects.for_tenant(tenant).enabled().of(Vendor.SYNCHROTEAM).first()


# --- board ----------------------------------------------------------------------------------


def jobs_filtered(*, tenant: Tenant, filters: dict) -> QuerySet[SynchroteamJob]:
    """The tenant's live jobs filtered by `filters` keys (all optional): ``status`` (a status),
    ``technician`` / ``customer`` / ``site`` (vendor ids), ``start`` / ``end`` (dates, inclusive,
    on ``scheduled_start``), ``q`` (number, myId or description text)."""
    qs = SynchroteamJob.objects.for_tenant(tenant).alive()
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    for key, col in (
        ("technician", "technician_vendor_id"),
        ("customer", "customer_vendor_id"),
        ("site", "site_vendor_id"),
    ):
        if filters.get(key):
            qs = qs.filter(**{col: filters[key]})
    if filters.get("start"):
        qs = qs.filter(scheduled_start__date__gte=filters["start"])
    if filters.get("end"):
        qs = qs.filter(scheduled_start__date__lte=filters["end"])
    if filters.get("q"):
        q = filters["q"].strip()
        qs = qs.filter(
            Q(num=q) | Q(my_id=q) | Q(description__icontains=q) | Q(customer_name__icontains=q)
        )
    return qs.order_by("-scheduled_start", "-vendor_id")


def status_counts(*, tenant: Tenant) -> list[tuple[str, int]]:
    """``[(status, jobs)]`` in lifecycle order, for the board's bar strip."""
    from django.db.models import Count

    counts = dict(
        SynchroteamJob.objects.for_tenant(tenant)
        .alive()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return [(s, counts.get(s, 0)) for s in STATUSES]


@dataclass
class JobContext:
    site: SynchroteamSite | None
    customer: SynchroteamCustomer | None
    equipment: SynchroteamEquipment | None
    custom_fields: list[tuple[str, object]]
    activities: list[SynchroteamActivity]
    invoice: SynchroteamInvoice | None
    quotation: SynchroteamQuotation | None
    technicians: dict[int, str] = field(default_factory=dict)


def job_context(*, job: SynchroteamJob) -> JobContext:
    """What the job detail page shows besides the job itself (all from the mirror).

    Custom fields keep the account's own labels (``customFieldValues[].label``), in the order the
    vendor sent them. The quotation is the job's own, else the latest of its customer.
    """
    conn = job.connection_id
    site = SynchroteamSite.objects.filter(connection_id=conn, vendor_id=job.site_vendor_id).first()
    customer = SynchroteamCustomer.objects.filter(
        connection_id=conn, vendor_id=job.customer_vendor_id
    ).first()
    eq_ref = (job.raw or {}).get("equipment") or {}
    equipment = None
    if isinstance(eq_ref, dict) and eq_ref.get("id"):
        equipment = SynchroteamEquipment.objects.filter(
            connection_id=conn, vendor_id=eq_ref["id"]
        ).first()
    raw_custom = (job.raw or {}).get("customFieldValues") or []
    if isinstance(raw_custom, list) and raw_custom:
        custom = [
            (str(c.get("label") or c.get("id")), c.get("value"))
            for c in raw_custom
            if isinstance(c, dict)
        ]
    else:
        custom = list((job.custom_fields or {}).items())
    activities = list(
        SynchroteamActivity.objects.filter(connection_id=conn, job_vendor_id=job.vendor_id)
        .alive()
        .order_by("start")
    )
    users = dict(
        SynchroteamUser.objects.filter(
            connection_id=conn, vendor_id__in={a.user_vendor_id for a in activities}
        ).values_list("vendor_id", "name")
    )
    invoice = (
        SynchroteamInvoice.objects.filter(connection_id=conn, job_vendor_id=job.vendor_id)
        .alive()
        .first()
    )
    quotation = (
        SynchroteamQuotation.objects.filter(connection_id=conn, job_vendor_id=job.vendor_id)
        .alive()
        .first()
    )
    return JobContext(site, customer, equipment, custom, activities, invoice, quotation, users)


@dataclass
class TechnicianRow:
    technician_id: int
    name: str
    days: list[list[SynchroteamJob]]

    @property
    def total(self) -> int:
        return sum(len(d) for d in self.days)


def technician_board(
    *, tenant: Tenant, start: dt.date, days: int, technician: int | None = None
) -> list[TechnicianRow]:
    """Jobs per technician per day for `days` days from `start` (a day or a week view)."""
    end = start + dt.timedelta(days=days)
    qs = (
        SynchroteamJob.objects.for_tenant(tenant)
        .alive()
        .filter(scheduled_start__date__gte=start, scheduled_start__date__lt=end)
        .exclude(technician_vendor_id__isnull=True)
        .order_by("scheduled_start")
    )
    if technician:
        qs = qs.filter(technician_vendor_id=technician)
    rows: dict[int, TechnicianRow] = {}
    techs = SynchroteamUser.objects.for_tenant(tenant).alive()
    if technician:
        techs = techs.filter(vendor_id=technician)
    for user in techs.exclude(profile__in=("manager", "admin")):
        rows[user.vendor_id] = TechnicianRow(user.vendor_id, user.name, [[] for _ in range(days)])
    for job in qs:
        row = rows.get(job.technician_vendor_id)
        if row is None:
            row = rows[job.technician_vendor_id] = TechnicianRow(
                job.technician_vendor_id, job.technician_name, [[] for _ in range(days)]
            )
        row.days[(job.scheduled_start.date() - start).days].append(job)
    return sorted(rows.values(), key=lambda r: r.name)


# --- create and schedule ----------------------------------------------------------------------


#: `WriteBatch.kind` of a job create/schedule request.
BATCH_KIND = "dispatch.job"


def st_datetime(value: dt.datetime) -> str:
    """An aware datetime as Synchroteam's ``YYYY-MM-DD HH:MM:SS`` in UTC."""
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
    if job.status and job.status not in SCHEDULABLE:
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
    from connectors.fieldcamp.services import calendar_sync_mark

    with transaction.atomic():
        batch = plan_enqueue(plan, by=by)
        if any(w.operation == JOB_SCHEDULE for w in plan.writes):
            calendar_sync_mark(tenant=plan.connection.tenant, reason=reason)
    return batch


def job_batch(*, tenant: Tenant, batch_uuid) -> WriteBatch | None:
    """The tenant's job request batch with this UUID (None for anything else)."""
    return WriteBatch.objects.filter(tenant=tenant, kind=BATCH_KIND, uuid=batch_uuid).first()


def technicians(tenant: Tenant) -> QuerySet[SynchroteamUser]:
    return (
        SynchroteamUser.objects.for_tenant(tenant).alive().exclude(profile__in=("manager", "admin"))
    )


def job_types(tenant: Tenant) -> list[str]:
    """Job type names seen on the tenant's jobs (Synchroteam resolves ``type`` by name)."""
    names = (
        SynchroteamJob.objects.for_tenant(tenant)
        .exclude(type_name="")
        .values_list("type_name", flat=True)
        .distinct()
    )
    return sorted(set(names))
