"""Read-side queries of the dispatch pages (no writes, no vendor I/O), all from the mirror.

* Jobs board: `jobs_filtered`, `status_counts`, `job_context` (-> `JobContext`),
  `technician_board` (-> `TechnicianRow`), `technicians`, `job_types`, `job_recent_writes`.
* Timesheet: `worked_activities` (the worked-time rule, shared with reconciliation),
  `timesheet_week` (-> `TechWeek`), `timesheet_csv`.
* Calendars panel: `calendar_feed` (-> `CalendarFeed`), `webhook_paths`.

Sources: vendor-apis.md §2.5 (job statuses), §2.7 (job fields, ``customFieldValues`` as
``{label, value}``), seed 000 (activity types: clock in/out, travel, work, unavailability),
seed 002 (FieldCamp calendar change feed). Synchroteam's naive strings are read in UTC (§4.6,
unverified; docs/dispatch.md).

Reconciliation (unbilled jobs, their hours and amounts, the customer check) is in
`dispatch.reconciliation`.

Timesheet rule: worked time = activities with a start and an end, except ``unavailability``,
counted on the day they start, split on/off a job; overtime above the tenant's
``overtime_hours_per_week``.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.fields.json import KT
from django.urls import reverse
from django.utils import timezone

from accounts.downloads import csv_writer
from accounts.localtime import local_day_bounds
from accounts.models import Tenant, Vendor
from accounts.paging import cap_label, capped_counts
from connectors.fieldcamp.models import FieldCampCalendarChange
from connectors.fts import fts_filter
from connectors.models import Connection, SyncRun
from connectors.outbox.models import VendorWrite
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
from connectors.synchroteam.vocab import JOB_STATUSES
from connectors.webhooks.models import CalendarSyncFlag, InboundEvent

DONE_STATUSES = ("completed", "validated")
NOT_WORKED = ("unavailability",)


def synchroteam_connection(tenant: Tenant) -> Connection | None:
    """The tenant's enabled Synchroteam connection (one per tenant), or None when not set up."""
    return Connection.objects.for_tenant(tenant).enabled().of(Vendor.SYNCHROTEAM).first()


# --- jobs board ---------------------------------------------------------------------------------


def jobs_filtered(*, tenant: Tenant, filters: dict) -> QuerySet[SynchroteamJob]:
    """The tenant's live jobs filtered by `filters` keys (all optional): ``status`` (a status),
    ``technician`` / ``customer`` / ``site`` (vendor ids), ``start`` / ``end`` (dates, inclusive,
    on ``scheduled_start``), ``q`` (number, myId or description text). Newest first."""
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
    # local-day bounds as datetimes: the (tenant, -scheduled_start) index answers them, where a
    # ``scheduled_start__date`` cast reads every row
    if filters.get("start"):
        qs = qs.filter(scheduled_start__gte=local_day_bounds(filters["start"])[0])
    if filters.get("end"):
        qs = qs.filter(scheduled_start__lt=local_day_bounds(filters["end"])[1])
    if filters.get("q"):
        qs = _job_search(qs, tenant, filters["q"].strip())
    return (
        qs.only(*LIST_COLUMNS)
        .annotate(site_name=KT("raw__site__name"))
        .order_by("-scheduled_start", "-vendor_id")
    )


#: SQLite's full-text table of the jobs' description and customer name (trigram tokenizer:
#: substrings of 3 characters or more; connectors/synchroteam/migrations/0008_job_search_fts.py)
JOB_FTS = "synchroteam_job_fts"
#: matches past which a search walks the list's date order instead of sorting its matches
JOB_FTS_COMMON = 1000


def _job_search(qs: QuerySet[SynchroteamJob], tenant: Tenant, q: str) -> QuerySet:
    """`qs` narrowed to the jobs whose number or myId is `q`, or whose description or customer
    name holds it (case-insensitive).

    PostgreSQL and searches under 3 characters: ``num = q OR my_id = q OR description ILIKE
    %q% OR customer_name ILIKE %q%`` (trigram GIN indexes on PostgreSQL, migration 0007).
    SQLite, 3 characters or more (`connectors.fts.fts_filter`): the job ids of a UNION of three
    index lookups, (tenant, num), (tenant, my_id) and the `JOB_FTS` phrase match, so nothing
    scans the table for a LIKE. A search matching more than `JOB_FTS_COMMON` jobs (one more,
    capped, query tells) is checked
    against those ids while the list is read in its date order, which stops after a page,
    rather than sorting every match (5 ms for a rare word, 25 ms for one in every job, at
    100 000 jobs; the LIKE scan took 67)."""
    if connection.vendor != "sqlite" or len(q) < 3:
        return qs.filter(
            Q(num=q) | Q(my_id=q) | Q(description__icontains=q) | Q(customer_name__icontains=q)
        )
    return fts_filter(
        qs, fts=JOB_FTS, tenant_id=tenant.pk, q=q, exact=("num", "my_id"), common=JOB_FTS_COMMON
    )


#: The job columns the list and the board show (`.only()`: never the raw JSON).
LIST_COLUMNS = (
    "connection_id",
    "vendor_id",
    "num",
    "my_id",
    "status",
    "type_name",
    "customer_vendor_id",
    "customer_name",
    "site_vendor_id",
    "technician_vendor_id",
    "technician_name",
    "scheduled_start",
    "scheduled_end",
)
#: Customers the job list's customer search answers at most.
CUSTOMER_MATCHES = 20


def job_customer(*, tenant: Tenant, customer_id: int | None) -> SynchroteamCustomer | None:
    """The tenant's customer with Synchroteam id `customer_id` (the job list's customer
    filter), or None (no id, or not one of the tenant's customers)."""
    if not customer_id:
        return None
    qs = SynchroteamCustomer.objects.for_tenant(tenant).filter(vendor_id=customer_id)
    return qs.only("vendor_id", "name").first()


def customer_search(*, tenant: Tenant, text: str) -> list[SynchroteamCustomer]:
    """Up to `CUSTOMER_MATCHES` + 1 of the tenant's live customers whose name contains `text`
    (case-insensitive), names starting with it first, then by name; [] for blank text. The
    extra row tells the caller there are more."""
    text = (text or "").strip()
    if not text:
        return []
    starts = Case(When(name__istartswith=text, then=Value(0)), default=Value(1))
    qs = SynchroteamCustomer.objects.for_tenant(tenant).alive().filter(name__icontains=text)
    return list(
        qs.only("vendor_id", "name")
        .annotate(starts=starts)
        .order_by("starts", "name", "vendor_id")[: CUSTOMER_MATCHES + 1]
    )


@dataclass(frozen=True)
class StatusCount:
    """Jobs in one Synchroteam status among the recent and upcoming ones (`status_counts`):
    ``n`` (cap + 1 past the cap, so bars still order), ``label`` (``"10 000+"`` past the cap,
    else the exact count)."""

    status: str
    n: int
    label: str


#: the job list's status bars count the jobs scheduled from this many days ago on (and the
#: unscheduled ones); setting ``JOB_STATUS_COUNT_DAYS``
STATUS_COUNT_DAYS = 30
#: each bar counts at most this many jobs (setting ``JOB_STATUS_COUNT_CAP``)
STATUS_COUNT_CAP = 10_000


def status_count_since() -> dt.datetime:
    """Where the status bars' window starts: `STATUS_COUNT_DAYS` days before now."""
    days = getattr(settings, "JOB_STATUS_COUNT_DAYS", STATUS_COUNT_DAYS)
    return timezone.now() - dt.timedelta(days=days)


def status_counts(
    *, tenant: Tenant, since: dt.datetime | None = None, cap: int | None = None
) -> list[StatusCount]:
    """A `StatusCount` for every Synchroteam status in lifecycle order (0 included): the live
    jobs scheduled from `since` on (default `status_count_since`) or not scheduled at all, the
    work a dispatcher compares, not a year of history.

    One query whatever the number of jobs: per status two ``COUNT(*)`` of at most `cap` + 1
    rows (default ``JOB_STATUS_COUNT_CAP``), each a range of the (tenant, status,
    -scheduled_start) index (`accounts.paging.capped_count`'s rule), so no request counts
    100 000 jobs."""
    since = since or status_count_since()
    cap = cap if cap is not None else getattr(settings, "JOB_STATUS_COUNT_CAP", STATUS_COUNT_CAP)
    alive = SynchroteamJob.objects.for_tenant(tenant).alive()
    ranges = {}
    for status in JOB_STATUSES:
        ranges[(status, "since")] = alive.filter(status=status, scheduled_start__gte=since)
        ranges[(status, "unscheduled")] = alive.filter(status=status, scheduled_start=None)
    counted = capped_counts(ranges, cap)
    out = []
    for status in JOB_STATUSES:
        n = min(counted[(status, "since")] + counted[(status, "unscheduled")], cap + 1)
        out.append(StatusCount(status, n, cap_label(n, cap)))
    return out


def job_site(*, tenant: Tenant, site_id: int | None) -> SynchroteamSite | None:
    """The tenant's site with Synchroteam id `site_id` (the job list's site filter), or None."""
    if not site_id:
        return None
    return SynchroteamSite.objects.for_tenant(tenant).filter(vendor_id=site_id).first()


@dataclass
class JobContext:
    """What the job detail page shows besides the job: its site, customer and equipment (None
    when not mirrored), ``custom_fields`` as ``[(label, value)]``, live activities by start, the
    job's invoice and quotation, and ``technicians`` as ``{user vendor id: name}`` for the
    activities."""

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


def job_recent_writes(*, tenant: Tenant, job: SynchroteamJob, limit: int = 10) -> list[VendorWrite]:
    """The portal's latest `limit` Synchroteam job writes targeting `job` (by its vendor id)."""
    return list(
        VendorWrite.objects.filter(tenant=tenant, operation__startswith="synchroteam.job.").filter(
            target__job_id=job.vendor_id
        )[:limit]
    )


#: The job columns the board shows.


class BoardJob(NamedTuple):
    """What the board shows of a job, read as a tuple of `BOARD_COLUMNS` (its fields): a week of
    100 000 jobs a year is about 2 000 of them, and model instances cost twice the time."""

    vendor_id: int
    num: str
    status: str
    type_name: str
    customer_name: str
    technician_vendor_id: int
    technician_name: str
    scheduled_start: dt.datetime


#: the job columns the board reads
BOARD_COLUMNS = BoardJob._fields


@dataclass
class TechnicianRow:
    """One technician's line of the board: ``days[i]`` are the jobs (`BoardJob`) scheduled on
    day ``i``."""

    technician_id: int
    name: str
    days: list[list[BoardJob]]

    @property
    def total(self) -> int:
        """Jobs on the row, all days together."""
        return sum(len(d) for d in self.days)


def technician_board(
    *, tenant: Tenant, start: dt.date, days: int, technician: int | None = None
) -> list[TechnicianRow]:
    """Jobs per technician per day for `days` days from `start` (a day or a week view), one row
    per field technician (managers and admins left out unless they have jobs), by name; with
    `technician` (a vendor id) only that one's row."""
    # datetime bounds of the local days (not a ``__date`` cast): the index answers them
    first, _ = local_day_bounds(start)
    _, last = local_day_bounds(start + dt.timedelta(days=days - 1))
    qs = (
        SynchroteamJob.objects.for_tenant(tenant)
        .alive()
        .filter(scheduled_start__gte=first, scheduled_start__lt=last)
        .exclude(technician_vendor_id__isnull=True)
        .order_by("scheduled_start")
    )
    if technician:
        qs = qs.filter(technician_vendor_id=technician)
    rows: dict[int, TechnicianRow] = {}
    techs = SynchroteamUser.objects.for_tenant(tenant).alive()
    if technician:
        techs = techs.filter(vendor_id=technician)
    for user in techs.exclude(profile__in=("manager", "admin")).only("vendor_id", "name"):
        rows[user.vendor_id] = TechnicianRow(user.vendor_id, user.name, [[] for _ in range(days)])
    # each job's day by the local midnights it falls between (the rows come in start order,
    # so the day only moves forward): no time zone conversion per job
    midnights = [local_day_bounds(start + dt.timedelta(days=i))[0] for i in range(1, days)]
    day = 0
    for values in qs.values_list(*BOARD_COLUMNS):
        job = BoardJob._make(values)
        while day < days - 1 and job.scheduled_start >= midnights[day]:
            day += 1
        row = rows.get(job.technician_vendor_id)
        if row is None:
            row = rows[job.technician_vendor_id] = TechnicianRow(
                job.technician_vendor_id, job.technician_name, [[] for _ in range(days)]
            )
        row.days[day].append(job)
    return sorted(rows.values(), key=lambda r: r.name)


def technicians(tenant: Tenant) -> QuerySet[SynchroteamUser]:
    """The tenant's live Synchroteam users who do field work (not managers or admins)."""
    return (
        SynchroteamUser.objects.for_tenant(tenant).alive().exclude(profile__in=("manager", "admin"))
    )


def job_types(tenant: Tenant) -> list[str]:
    """Job type names seen on the tenant's jobs, sorted (Synchroteam resolves ``type`` by name)."""
    names = (
        SynchroteamJob.objects.for_tenant(tenant)
        .exclude(type_name="")
        .values_list("type_name", flat=True)
        .distinct()
    )
    return sorted(set(names))


# --- timesheet -----------------------------------------------------------------------------------


@dataclass
class TechWeek:
    """One technician's week: hours (2 decimals) per day Mon..Sun on a job and off a job, and
    ``overtime`` hours above the tenant's weekly threshold."""

    technician_id: int
    name: str
    on_job: list[Decimal] = field(default_factory=lambda: [Decimal(0)] * 7)
    off_job: list[Decimal] = field(default_factory=lambda: [Decimal(0)] * 7)

    @property
    def days(self) -> list[Decimal]:
        """Hours per day, on and off a job together."""
        return [a + b for a, b in zip(self.on_job, self.off_job, strict=True)]

    @property
    def total(self) -> Decimal:
        """Hours in the week."""
        return sum(self.days, Decimal(0))

    @property
    def total_off_job(self) -> Decimal:
        """Hours in the week not attached to a job."""
        return sum(self.off_job, Decimal(0))

    overtime: Decimal = Decimal(0)


def worked_activities(acts: QuerySet[SynchroteamActivity]) -> QuerySet[SynchroteamActivity]:
    """The timesheet's worked-time rule applied to `acts`: live activities with a start and a
    later end, except ``unavailability`` (clock in/out are instants and drop out). Reconciliation
    counts a job's hours from the same rows."""
    return (
        acts.alive()
        .filter(start__isnull=False, end__isnull=False, end__gt=F("start"))
        .exclude(type__in=NOT_WORKED)
    )


def _hours(seconds: float) -> Decimal:
    return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"))


def timesheet_week(*, tenant: Tenant, week_start: dt.date) -> list[TechWeek]:
    """Hours per technician per day (Mon..Sun from `week_start`, in the portal's time zone),
    split on/off job, with overtime = total above ``tenant.overtime_hours_per_week``. An
    activity counts on the day it starts. Rows by technician name."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(week_start, dt.time.min, tzinfo=tz)
    end = start + dt.timedelta(days=7)
    names = dict(SynchroteamUser.objects.for_tenant(tenant).values_list("vendor_id", "name"))
    rows: dict[int, TechWeek] = {}
    acts = (
        worked_activities(SynchroteamActivity.objects.for_tenant(tenant))
        .filter(start__gte=start, start__lt=end)
        .exclude(user_vendor_id__isnull=True)
    )
    for user_id, job_id, a_start, a_end in acts.values_list(
        "user_vendor_id", "job_vendor_id", "start", "end"
    ):
        row = rows.setdefault(user_id, TechWeek(user_id, names.get(user_id, f"User {user_id}")))
        day = (timezone.localtime(a_start, tz).date() - week_start).days
        hours = _hours((a_end - a_start).total_seconds())
        if job_id:
            row.on_job[day] += hours
        else:
            row.off_job[day] += hours
    threshold = Decimal(tenant.overtime_hours_per_week)
    for row in rows.values():
        row.overtime = max(Decimal(0), row.total - threshold)
    return sorted(rows.values(), key=lambda r: r.name)


def timesheet_csv(*, tenant: Tenant, week_start: dt.date) -> str:
    """The week as CSV text (stdlib ``csv``) for payroll: one row per technician and day, then a
    weekly total row per technician. Columns: technician_id, technician, date, hours_on_jobs,
    hours_not_on_a_job, hours_total, overtime_hours (weekly rows only)."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(
        [
            "technician_id",
            "technician",
            "date",
            "hours_on_jobs",
            "hours_not_on_a_job",
            "hours_total",
            "overtime_hours",
        ]
    )
    for row in timesheet_week(tenant=tenant, week_start=week_start):
        for i in range(7):
            day = week_start + dt.timedelta(days=i)
            writer.writerow(
                [
                    row.technician_id,
                    row.name,
                    day.isoformat(),
                    row.on_job[i],
                    row.off_job[i],
                    row.days[i],
                    "",
                ]
            )
        writer.writerow(
            [
                row.technician_id,
                row.name,
                f"week of {week_start.isoformat()}",
                sum(row.on_job, Decimal(0)),
                row.total_off_job,
                row.total,
                row.overtime,
            ]
        )
    return out.getvalue()


# --- calendars panel -----------------------------------------------------------------------------


@dataclass
class CalendarFeed:
    """The Calendars panel beside the integration rows: batched calendar syncs still waiting
    (``flags``), the 10 latest Google Calendar changes, the 3 latest change pulls and the 10
    latest inbound webhook deliveries of the tenant."""

    flags: QuerySet[CalendarSyncFlag]
    changes: QuerySet[FieldCampCalendarChange]
    change_runs: QuerySet[SyncRun]
    events: QuerySet[InboundEvent]


def calendar_feed(*, tenant: Tenant, connection: Connection) -> CalendarFeed:
    """What the Calendars panel lists for `tenant` and its FieldCamp `connection` (lazy
    querysets)."""
    return CalendarFeed(
        flags=CalendarSyncFlag.objects.filter(connection=connection),
        changes=FieldCampCalendarChange.objects.filter(connection=connection).alive()[:10],
        change_runs=SyncRun.objects.filter(
            connection=connection, stream__resource="calendar_changes"
        )[:3],
        events=InboundEvent.objects.for_tenant(tenant)[:10],
    )


def webhook_paths(*, tenant: Tenant) -> list[tuple[str, str]]:
    """``[(vendor label, path)]`` of the inbound webhook endpoint of each of the tenant's
    FieldCamp and Synchroteam connections (docs/dispatch.md "Webhooks")."""
    return [
        (conn.get_vendor_display(), reverse(f"webhooks:{conn.vendor}", args=[conn.uuid]))
        for conn in Connection.objects.for_tenant(tenant).filter(
            vendor__in=("fieldcamp", "synchroteam")
        )
    ]
