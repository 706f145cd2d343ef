"""Reconciliation, the read side: which finished jobs nobody billed, their hours and amount, and
whether a Syncro ticket belongs to the job's customer. No writes, no vendor I/O: all from the
mirror.

* `job_tag`, `job_tag_sql`, `unbilled_jobs`: the unbilled rule.
* `jobs_time` / `times_of` (-> `JobTime`), `job_minutes`, `priced_amounts`: the hours a draft
  made from a job bills and what they come to at each priced labor type.
* `unbilled_snapshot` (cached, `dispatch.snapshots`), `worklist` (-> `Worklist` of
  `WorklistRows` of `UnbilledRow`, with `TechnicianHours`), `worklist_technicians`,
  `worklist_has_customer`: the reconciliation page.
* `syncro_customer_for`, `customer_check` (-> `CustomerCheck`), `new_ticket_url`: matching the
  job's Synchroteam customer to a Syncro customer.

Unbilled rule: jobs ``completed`` or ``validated`` with no Synchroteam invoice (mirror,
``invoice.job.id``) and no billed Syncro line item carrying the job's tag ``[ST-JOB <num>]`` (the
tag every draft made from a job puts in the line item description). Jobs with a pending billing
draft are "drafted", not unbilled.

Hours rule: the job's activities under the timesheet's rule
(`dispatch.selectors.worked_activities`); the ``work`` ones are billed (whole minutes per
activity), ``travel`` is shown beside them and not billed (Syncro bills travel as its own
product, seed /syncro "Labor product IDs"). A job with no work activity falls back to its actual
end minus start. The amount is `billing.money.amount` of those minutes at the mapped labor
type's Syncro product rate (``price_retail``), None when that labor type is not mapped or priced.

Customer rule: the two vendors share no customer id, so a job's customer (Synchroteam
``customer.name`` on the job) is the Syncro customer whose name is the same (case-insensitive),
else the first whose name contains it (the rule the prefilled New ticket page always used).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple
from urllib.parse import urlencode

from django.db.models import CharField, DateTimeField, Exists, F, OuterRef, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, Concat, NullIf
from django.urls import reverse

from accounts.localtime import local_day_bounds
from accounts.models import Tenant
from billing.models import BillingDraft, minutes_to_hours
from billing.money import Rate, amount, labor_rates
from connectors.job_tags import TAG_OPEN, job_tag_for
from connectors.synchroteam.models import (
    SynchroteamActivity,
    SynchroteamInvoice,
    SynchroteamJob,
    SynchroteamUser,
)
from connectors.syncro.models import SyncroCustomer, SyncroLineItem, SyncroTicket
from dispatch import snapshots
from dispatch.selectors import DONE_STATUSES, worked_activities

# --- the unbilled rule ---------------------------------------------------------------------------


def job_tag(job: SynchroteamJob) -> str:
    """The reference a Syncro line item carries for a Synchroteam job: ``[ST-JOB 10023]``
    (`connectors.job_tags.job_tag_for`)."""
    return job_tag_for(job.num, job.vendor_id)


def job_tag_sql() -> Concat:
    """`job_tag` as a SQL expression of a `SynchroteamJob` row (the unbilled query compares
    it with the tags extracted into ``SyncroLineItem.job_tag`` and ``BillingDraft.job_tag``)."""
    number = Coalesce(NullIf("num", Value("")), Cast("vendor_id", CharField()))
    return Concat(Value(TAG_OPEN), number, Value("]"), output_field=CharField())


def unbilled_jobs(*, tenant: Tenant, include_drafted: bool = False) -> QuerySet[SynchroteamJob]:
    """Completed or validated live jobs with no Synchroteam invoice and no tagged Syncro line
    item; without `include_drafted`, jobs with a live (not rejected) billing draft are left out
    too. Latest finished first.

    One query, plus one of the rare rows naming several jobs: each job's tag (`job_tag_sql`)
    is looked up by index in the tags extracted when the line item or draft was written
    (`connectors.job_tags`: ``job_tag`` as ``NOT EXISTS``, ``job_tags_more`` read in Python).
    """
    invoiced = SynchroteamInvoice.objects.filter(
        connection_id=OuterRef("connection_id"),
        job_vendor_id=OuterRef("vendor_id"),
        is_deleted=False,
    )
    lines = SyncroLineItem.objects.filter(
        tenant_id=OuterRef("tenant_id"), job_tag=OuterRef("tag"), is_deleted=False
    )
    qs = (
        SynchroteamJob.objects.for_tenant(tenant)
        .alive()
        .filter(status__in=DONE_STATUSES)
        .alias(tag=job_tag_sql())
        .filter(~Exists(invoiced))  # in WHERE only: one index probe per job, none selected
        .filter(~Exists(lines))
    )
    more = (
        SyncroLineItem.objects.for_tenant(tenant)
        .alive()
        .exclude(job_tags_more="")
        .order_by()
        .values_list("job_tags_more", flat=True)
    )
    if not include_drafted:
        drafts = BillingDraft.objects.filter(
            tenant_id=OuterRef("tenant_id"), job_tag=OuterRef("tag")
        )
        qs = qs.filter(~Exists(drafts.exclude(decision=BillingDraft.Status.REJECTED)))
        more = more.union(
            BillingDraft.objects.filter(tenant=tenant)
            .exclude(job_tags_more="")
            .exclude(decision=BillingDraft.Status.REJECTED)
            .order_by()
            .values_list("job_tags_more", flat=True),
            all=True,
        )
    named = {tag for blob in more for tag in blob.split("\n")}
    if named:
        qs = qs.exclude(tag__in=named)
    return qs.order_by("-actual_end", "-vendor_id")


# --- hours ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobTime:
    """A job's time in whole minutes: ``minutes`` billed (work activities, else the actual
    times), ``travel`` (travel activities, not billed here) and ``source`` of ``minutes``:
    ``"activities"``, ``"actual times"`` or ``""`` (nothing recorded)."""

    minutes: int
    travel: int = 0
    source: str = ""


#: what `times_of` needs of a job: (pk, connection id, Synchroteam id, actual start, actual end)
JobKey = tuple[int, int, int, "dt.datetime | None", "dt.datetime | None"]


def jobs_time(jobs: Iterable[SynchroteamJob]) -> dict[int, JobTime]:
    """``{job pk: JobTime}`` for `jobs` (one query of their activities; `times_of`)."""
    return times_of(
        [(j.pk, j.connection_id, j.vendor_id, j.actual_start, j.actual_end) for j in jobs]
    )


def times_of(keys: list[JobKey]) -> dict[int, JobTime]:
    """``{job pk: JobTime}`` for the jobs `keys` name (`JobKey` tuples, no model instances:
    the worklist totals thousands of jobs), from one query of their work and travel
    activities."""
    work: dict[tuple[int, int], int] = {}
    travel: dict[tuple[int, int], int] = {}
    if keys:
        acts = worked_activities(
            SynchroteamActivity.objects.filter(
                connection_id__in={k[1] for k in keys},
                job_vendor_id__in={k[2] for k in keys},
                type__in=("work", "travel"),
            )
        )
        for conn, job_id, kind, start, end in acts.values_list(
            "connection_id", "job_vendor_id", "type", "start", "end"
        ).order_by():
            into = work if kind == "work" else travel
            key = (conn, job_id)
            into[key] = into.get(key, 0) + int((end - start).total_seconds() // 60)
    out = {}
    for pk, conn, vendor_id, actual_start, actual_end in keys:
        minutes, source = work.get((conn, vendor_id), 0), "activities"
        if not minutes:
            minutes, source = _actual_minutes(actual_start, actual_end), "actual times"
        out[pk] = JobTime(minutes, travel.get((conn, vendor_id), 0), source if minutes else "")
    return out


def _actual_minutes(start: dt.datetime | None, end: dt.datetime | None) -> int:
    if start and end and end > start:
        return int((end - start).total_seconds() // 60)
    return 0


def job_minutes(job: SynchroteamJob) -> int:
    """Worked minutes on the job (`jobs_time`): what a draft made from it bills."""
    return jobs_time([job])[job.pk].minutes


def priced_amounts(*, tenant: Tenant, minutes: int) -> list[tuple[Rate, Decimal | None]]:
    """``[(rate, amount of `minutes` at it)]`` for each labor type mapped to a priced Syncro
    product (the draft page's "depends on the labor type")."""
    rates = labor_rates(tenant).values()
    return [(r, amount(minutes, r.per_hour)) for r in rates if r.per_hour is not None]


# --- the worklist --------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnbilledRow:
    """One job of the worklist: its `JobTime`, ``hours`` (Syncro's decimal quantity of the
    minutes) and ``amount`` at the page's rate (None: rate not mapped or not priced)."""

    job: SynchroteamJob
    time: JobTime
    hours: Decimal
    amount: Decimal | None

    @property
    def day(self) -> dt.datetime | None:
        """When the job was done: its actual end, else start, else the scheduled start."""
        return self.job.actual_end or self.job.actual_start or self.job.scheduled_start


@dataclass
class TechnicianHours:
    """A technician's share of the selected jobs (for the bars): jobs, hours and amount."""

    technician_id: int | None
    name: str
    jobs: int = 0
    hours: Decimal = Decimal(0)
    amount: Decimal | None = Decimal(0)


class WorklistRows(Sequence):
    """The worklist's rows in order, built on demand: ``len`` and the totals need no job row,
    and a slice (the page the paginator asks for) loads just its jobs, in one query, with the
    `WORKLIST_COLUMNS` only.

    Holds the selected `SnapshotRow` tuples and ``prices``, ``{minutes: (hours, amount)}`` at
    the page's rate; indexing or slicing gives `UnbilledRow` objects; iterating loads every job
    at once."""

    def __init__(
        self, selected: list[SnapshotRow], prices: dict[int, tuple[Decimal, Decimal | None]]
    ):
        self._selected = selected
        self._prices = prices

    def __len__(self) -> int:
        return len(self._selected)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._rows(self._selected[index])
        return self._rows([self._selected[index]])[0]  # IndexError as a list's

    def _rows(self, chosen: list[SnapshotRow]) -> list[UnbilledRow]:
        jobs = SynchroteamJob.objects.only(*WORKLIST_COLUMNS).in_bulk([r[0] for r in chosen])
        out = []
        for r in chosen:
            if r.pk in jobs:
                hours, money = self._prices[r.minutes]
                time = JobTime(r.minutes, r.travel, r.source)
                out.append(UnbilledRow(jobs[r.pk], time, hours, money))
        return out

    def __iter__(self):
        return iter(self[:])


@dataclass
class Worklist:
    """The selected unbilled jobs as rows (`WorklistRows`), newest first, with totals of them
    all: ``hours``, ``amount`` (None when the rate is unknown), ``by_technician`` (most hours
    first) and the largest technician's hours (``max_hours``, the bars' scale); ``rate`` is the
    page's rate."""

    rows: WorklistRows
    rate: Rate
    hours: Decimal = Decimal(0)
    amount: Decimal | None = None
    by_technician: list[TechnicianHours] = field(default_factory=list)

    @property
    def max_hours(self) -> Decimal:
        """The largest technician's hours (at least 1, the bars' scale)."""
        return max([t.hours for t in self.by_technician] + [Decimal(1)])


def _add(total: Decimal | None, value: Decimal | None) -> Decimal | None:
    return None if total is None or value is None else total + value


#: The job columns the worklist's rows read (the table, `UnbilledRow.day`).
WORKLIST_COLUMNS = (
    "connection_id",
    "vendor_id",
    "num",
    "status",
    "type_name",
    "customer_vendor_id",
    "customer_name",
    "technician_vendor_id",
    "technician_name",
    "scheduled_start",
    "actual_start",
    "actual_end",
)


class SnapshotRow(NamedTuple):
    """One unbilled job as `unbilled_snapshot` keeps it: its `JobTime` as three values and what
    the worklist filters and groups by."""

    pk: int
    vendor_id: int
    done_at: dt.datetime | None  # `UnbilledRow.day`
    technician_id: int | None
    technician_name: str
    customer_id: int | None
    minutes: int  # billed
    travel: int
    source: str  # of `minutes`
    tag: str  # `job_tag`


def unbilled_snapshot(tenant: Tenant) -> list[SnapshotRow]:
    """Every unbilled job of the tenant (`unbilled_jobs`, drafted ones left out) with its
    `JobTime`, latest done first (`UnbilledRow.day`, then Synchroteam id, descending), as
    `SnapshotRow` tuples: what the worklist filters, totals and pages.

    Cached (`dispatch.snapshots.cached`) until a sync, webhook or person writes a job,
    invoice, activity, line item, user or draft of the tenant; computing it is two queries (the
    jobs, their activities: `times_of`)."""
    # cached as plain tuples: they unpickle five times faster than named ones (1 against 5 ms
    # for 3 235 jobs)
    cached = snapshots.cached(tenant, "unbilled", lambda: _compute_unbilled(tenant))
    return list(map(SnapshotRow._make, cached))


def _compute_unbilled(tenant: Tenant) -> list[tuple]:
    qs = unbilled_jobs(tenant=tenant).annotate(
        done_at=Coalesce(
            "actual_end", "actual_start", "scheduled_start", output_field=DateTimeField()
        )
    )
    selected = list(
        qs.order_by(F("done_at").desc(nulls_last=True), "-vendor_id").values_list(
            "pk",
            "connection_id",
            "vendor_id",
            "actual_start",
            "actual_end",
            "done_at",
            "technician_vendor_id",
            "technician_name",
            "customer_vendor_id",
            "num",
        )
    )
    times = times_of([row[:5] for row in selected])
    out = []
    for pk, _conn, vid, _start, _end, done_at, tech_id, tech_name, cust_id, num in selected:
        t = times[pk]
        tag = job_tag_for(num, vid)
        out.append(
            (pk, vid, done_at, tech_id, tech_name, cust_id, t.minutes, t.travel, t.source, tag)
        )
    return out


_TAG = SnapshotRow._fields.index("tag")


def drafted_away(rows: list[tuple], tags: set[str]) -> list[tuple]:
    """`rows` (the cached `SnapshotRow` values, as plain tuples) without the jobs a live (not
    rejected) draft naming `tags` takes off the list (`unbilled_jobs`): what a new draft does
    to a cached snapshot (`dispatch.snapshots`), without computing it again."""
    return [row for row in rows if row[_TAG] not in tags]


def _selects(filters: dict) -> Callable[[SnapshotRow], bool]:
    """A predicate of `SnapshotRow` for the worklist's `filters` (see `worklist`)."""
    tech, customer = filters.get("technician"), filters.get("customer")
    start = local_day_bounds(filters["start"])[0] if filters.get("start") else None
    end = local_day_bounds(filters["end"])[1] if filters.get("end") else None

    def selected(row: SnapshotRow) -> bool:
        done_at = row.done_at
        return (
            (not tech or row.technician_id == tech)
            and (not customer or row.customer_id == customer)
            and (start is None or (done_at is not None and done_at >= start))
            and (end is None or (done_at is not None and done_at < end))
        )

    return selected


def worklist(*, tenant: Tenant, filters: dict, rate: Rate) -> Worklist:
    """The unbilled jobs `filters` select, priced at `rate`.

    Filters, totals and prices the tenant's `unbilled_snapshot` (cached; when it is not, two
    queries compute it), then, when the rows are read, loads the jobs of the page in one query
    (`WorklistRows`). The amounts are priced here, at `rate`, not kept in the snapshot.

    Args:
        filters: optional keys ``technician`` / ``customer`` (Synchroteam ids), ``start`` /
            ``end`` (dates, inclusive, on the day the job was done, portal time zone).
        rate: a `billing.money.Rate` (``per_hour`` None: amounts are None).
    """
    snapshot = unbilled_snapshot(tenant)
    selects = _selects(filters)
    selected = [row for row in snapshot if selects(row)] if filters else snapshot
    # every figure depends on a row's minutes only: price each distinct value once, then add
    # them up by (technician, minutes), as exact as adding every row's rounded hours
    prices = {
        m: (minutes_to_hours(m), amount(m, rate.per_hour)) for m in {r.minutes for r in selected}
    }
    names = {r.technician_id: r.technician_name for r in reversed(selected)}  # first row's
    zero = Decimal(0) if rate.per_hour is not None else None
    techs: dict[int | None, TechnicianHours] = {}
    for (tech_id, minutes), n in Counter((r.technician_id, r.minutes) for r in selected).items():
        hours, money = prices[minutes]
        tech = techs.get(tech_id)
        if tech is None:
            tech = techs[tech_id] = TechnicianHours(
                tech_id, names[tech_id] or "Unassigned", amount=zero
            )
        tech.jobs += n
        tech.hours += hours * n
        tech.amount = _add(tech.amount, None if money is None else money * n)
    out = Worklist(rows=WorklistRows(selected, prices), rate=rate, amount=zero)
    for tech in techs.values():
        out.hours += tech.hours
        out.amount = _add(out.amount, tech.amount)
    out.by_technician = sorted(techs.values(), key=lambda t: (-t.hours, t.name))
    return out


def _done_jobs(tenant: Tenant) -> QuerySet[SynchroteamJob]:
    return SynchroteamJob.objects.for_tenant(tenant).alive().filter(status__in=DONE_STATUSES)


def worklist_technicians(tenant: Tenant) -> list[tuple[int, str]]:
    """``[(Synchroteam user id, name)]`` of the technicians with a finished job of the tenant,
    by name (the worklist's technician filter).

    Cached as `unbilled_snapshot` is. Computing it is one query when the Synchroteam users are
    mirrored: an EXISTS per user (a few dozen, deleted ones too) on the jobs' (tenant,
    technician) index, not a DISTINCT over every finished job; that DISTINCT of the jobs'
    technician names only when no user is mirrored (yet)."""
    return snapshots.cached(tenant, "technicians", lambda: _compute_technicians(tenant))


def _compute_technicians(tenant: Tenant) -> list[tuple[int, str]]:
    finished = _done_jobs(tenant)
    users = (
        SynchroteamUser.objects.for_tenant(tenant)
        .filter(Exists(finished.filter(technician_vendor_id=OuterRef("vendor_id"))))
        .order_by()
        .values_list("vendor_id", "name")
    )
    found = dict(users)
    if not found:
        pairs = finished.exclude(technician_vendor_id=None).order_by()
        found = dict(pairs.values_list("technician_vendor_id", "technician_name").distinct())
    return sorted(found.items(), key=lambda p: (p[1] or "").casefold())


def worklist_has_customer(tenant: Tenant, customer_vendor_id: int) -> bool:
    """Whether `customer_vendor_id` (a Synchroteam customer id) is the customer of one of the
    tenant's finished jobs (the worklist's customer filter; one EXISTS query)."""
    return _done_jobs(tenant).filter(customer_vendor_id=customer_vendor_id).exists()


# --- customers -----------------------------------------------------------------------------------


def syncro_customer_for(*, tenant: Tenant, name: str) -> SyncroCustomer | None:
    """The tenant's live Syncro customer a Synchroteam customer `name` maps to: same name
    (case-insensitive), else the first (by name) whose name contains it; None when none does."""
    name = (name or "").strip()
    if not name:
        return None
    live = SyncroCustomer.objects.filter(tenant=tenant, is_deleted=False)
    return live.filter(name__iexact=name).first() or live.filter(name__icontains=name).first()


@dataclass(frozen=True)
class CustomerCheck:
    """Whether a Syncro ticket is the job's customer's.

    Attributes:
        job_customer: the customer's name on the Synchroteam job.
        ticket_customer: the customer's name on the Syncro ticket.
        matched: the Syncro customer the job's customer maps to (`syncro_customer_for`).
        differs: True when the ticket's customer is not `matched` (without a match: when the
            two names differ, case aside).
    """

    job_customer: str
    ticket_customer: str
    matched: SyncroCustomer | None
    differs: bool

    @property
    def warning(self) -> str:
        """The sentence shown when the customers differ ("" when they do not)."""
        if not self.differs:
            return ""
        mapped = (
            f" (in Syncro: “{self.matched.name}”)"
            if self.matched and self.matched.name != self.job_customer
            else ""
        )
        return (
            f"This job is for “{self.job_customer or 'no customer'}”{mapped}, but the ticket is "
            f"for “{self.ticket_customer or 'no customer'}”. Billing one customer's work to "
            "another customer's ticket needs your explicit confirmation."
        )


def customer_check(*, tenant: Tenant, job: SynchroteamJob, ticket: SyncroTicket) -> CustomerCheck:
    """Compare the job's customer with the ticket's (see the module's customer rule)."""
    matched = syncro_customer_for(tenant=tenant, name=job.customer_name)
    if matched is not None:
        differs = ticket.customer_vendor_id != matched.vendor_id
    else:
        differs = (job.customer_name or "").strip().casefold() != (
            ticket.customer_name or ""
        ).strip().casefold()
    return CustomerCheck(job.customer_name, ticket.customer_name, matched, differs)


def new_ticket_url(*, tenant: Tenant, job: SynchroteamJob) -> str:
    """The New ticket page prefilled for `job`: its customer (`syncro_customer_for`, when one
    matches), a subject naming the job, and its type as problem type."""
    params = {
        "subject": f"Job #{job.num} {job.type_name or ''}".strip(),
        "problem_type": job.type_name or "",
    }
    customer = syncro_customer_for(tenant=tenant, name=job.customer_name)
    if customer is not None:
        params["customer"] = customer.vendor_id
    return f"{reverse('billing:ticket_create')}?{urlencode({k: v for k, v in params.items() if v})}"
