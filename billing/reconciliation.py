"""Reconciliation of field work: unbilled Synchroteam jobs, and technician time for payroll.

* **Unbilled**: jobs ``completed`` or ``validated`` (vendor-apis.md §2.5) with no Synchroteam
  invoice (mirror, ``invoice.job.id``) and no billed Syncro line item carrying the job's tag
  ``[ST-JOB <num>]`` (the tag every draft made here puts in the line item description). Jobs
  with a pending billing draft are shown as "drafted", not unbilled.
* **Draft billing**: one click creates a billing draft through `billing.services.draft_create`
  on a Syncro ticket the person picks (tickets of the matching customer first), with the job's
  worked minutes (its ``work`` activities, else its actual start/end).
* **Timesheet**: technician activities (seed 000: clock in/out, travel, work, unavailability)
  per technician per day of a week: hours on jobs, hours not attached to a job, and overtime
  above the tenant's ``overtime_hours_per_week``; exported as CSV (stdlib ``csv``) for payroll.
  Worked time = activities with a start and an end, except ``unavailability``.

Mounted at ``/reconciliation/`` (config/urls.py). Every member sees the pages; dispatch and
billing roles draft billing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from accounts.access import get_for_tenant_or_404, tenant_member_required
from accounts.models import APPROVER_ROLES, DISPATCH_ROLES, Tenant
from connectors.synchroteam.models import (
    SynchroteamActivity,
    SynchroteamInvoice,
    SynchroteamJob,
    SynchroteamUser,
)

DONE_STATUSES = ("completed", "validated")
NOT_WORKED = ("unavailability",)
DRAFT_ROLES = tuple(set(DISPATCH_ROLES) | set(APPROVER_ROLES))


def job_tag(job: SynchroteamJob) -> str:
    """The reference a Syncro line item carries for a Synchroteam job: ``[ST-JOB 10023]``."""
    return f"[ST-JOB {job.num or job.vendor_id}]"


# --- unbilled ---------------------------------------------------------------------------------


def unbilled_jobs(*, tenant: Tenant, include_drafted: bool = False) -> models.QuerySet:
    """Completed or validated live jobs with no Synchroteam invoice and no tagged Syncro line
    item; without `include_drafted`, jobs with a live billing draft are left out too."""
    from billing.models import BillingDraft
    from connectors.syncro.models import SyncroLineItem

    invoiced = SynchroteamInvoice.objects.filter(
        connection_id=OuterRef("connection_id"),
        job_vendor_id=OuterRef("vendor_id"),
        is_deleted=False,
    )
    qs = (
        SynchroteamJob.objects.for_tenant(tenant)
        .alive()
        .filter(status__in=DONE_STATUSES)
        .annotate(invoiced=Exists(invoiced))
        .filter(invoiced=False)
    )
    tags = {job_tag(j): j.pk for j in qs.only("num", "vendor_id")}
    if not tags:
        return qs.order_by("-actual_end", "-vendor_id")
    billed: set[int] = set()
    lines = (
        SyncroLineItem.objects.for_tenant(tenant)
        .alive()
        .filter(Q(name__icontains="[ST-JOB ") | Q(raw__description__icontains="[ST-JOB "))
    )
    for name, raw in lines.values_list("name", "raw"):
        text = f"{name} {(raw or {}).get('description') or ''}"
        billed.update(pk for tag, pk in tags.items() if tag in text)
    if not include_drafted:
        drafts = BillingDraft.objects.filter(
            tenant=tenant, line_description__contains="[ST-JOB "
        ).exclude(decision=BillingDraft.Status.REJECTED)
        for text in drafts.values_list("line_description", flat=True):
            billed.update(pk for tag, pk in tags.items() if tag in text)
    return qs.exclude(pk__in=billed).order_by("-actual_end", "-vendor_id")


def job_minutes(job: SynchroteamJob) -> int:
    """Worked minutes on the job: its ``work`` activities, else actual end minus start."""
    total = 0
    for start, end in SynchroteamActivity.objects.filter(
        connection_id=job.connection_id, job_vendor_id=job.vendor_id, type="work", is_deleted=False
    ).values_list("start", "end"):
        if start and end and end > start:
            total += int((end - start).total_seconds() // 60)
    if not total and job.actual_start and job.actual_end and job.actual_end > job.actual_start:
        total = int((job.actual_end - job.actual_start).total_seconds() // 60)
    return total


def job_draft_billing(*, tenant: Tenant, job: SynchroteamJob, ticket, labor_type: str, by):
    """Create a billing draft for `job` on Syncro `ticket` via `billing.services.draft_create`.

    Raises:
        billing.services.BillingError: no minutes, labor type not mapped, no Syncro connection.
    """
    from billing.services import BillingError, draft_create

    minutes = job_minutes(job)
    if minutes <= 0:
        raise BillingError("This job has no recorded work time to bill.")
    tag = job_tag(job)
    summary = f"{job.type_name or 'Field job'} at {job.customer_name}".strip()
    return draft_create(
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


# --- timesheet --------------------------------------------------------------------------------


@dataclass
class TechWeek:
    technician_id: int
    name: str
    on_job: list[Decimal] = field(default_factory=lambda: [Decimal(0)] * 7)
    off_job: list[Decimal] = field(default_factory=lambda: [Decimal(0)] * 7)

    @property
    def days(self) -> list[Decimal]:
        return [a + b for a, b in zip(self.on_job, self.off_job, strict=True)]

    @property
    def total(self) -> Decimal:
        return sum(self.days, Decimal(0))

    @property
    def total_off_job(self) -> Decimal:
        return sum(self.off_job, Decimal(0))

    overtime: Decimal = Decimal(0)


def _hours(seconds: float) -> Decimal:
    return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"))


def timesheet_week(*, tenant: Tenant, week_start: dt.date) -> list[TechWeek]:
    """Hours per technician per day (Mon..Sun from `week_start`, in the portal's time zone),
    split on/off job, with overtime = total above ``tenant.overtime_hours_per_week``. An
    activity counts on the day it starts."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(week_start, dt.time.min, tzinfo=tz)
    end = start + dt.timedelta(days=7)
    names = dict(SynchroteamUser.objects.for_tenant(tenant).values_list("vendor_id", "name"))
    rows: dict[int, TechWeek] = {}
    acts = (
        SynchroteamActivity.objects.for_tenant(tenant)
        .alive()
        .filter(start__gte=start, start__lt=end, end__isnull=False)
        .exclude(type__in=NOT_WORKED)
        .exclude(user_vendor_id__isnull=True)
    )
    for user_id, job_id, a_start, a_end in acts.values_list(
        "user_vendor_id", "job_vendor_id", "start", "end"
    ):
        if a_end <= a_start:
            continue
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
    """One row per technician and day, then a weekly total row per technician. Columns:
    technician_id, technician, date, hours_on_jobs, hours_not_on_a_job, hours_total,
    overtime_hours (weekly rows only)."""
    out = io.StringIO()
    writer = csv.writer(out)
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


# --- views --------------------------------------------------------------------------------------


class DraftBillingForm(forms.Form):
    ticket = forms.TypedChoiceField(coerce=int, label="Syncro ticket")
    labor_type = forms.ChoiceField()

    def __init__(self, *args, tenant: Tenant, job: SynchroteamJob, **kwargs):
        from billing.forms import EMPTY
        from billing.models import LaborKind, LaborType
        from connectors.syncro.models import SyncroTicket

        super().__init__(*args, **kwargs)
        tickets = SyncroTicket.objects.for_tenant(tenant).alive()
        name = (job.customer_name or "").split(" ")[0]
        matching = tickets.filter(customer_name__icontains=name) if name else tickets.none()
        rows = list(matching.order_by("-vendor_updated_at")[:30]) or list(
            tickets.order_by("-vendor_updated_at")[:30]
        )
        # Nothing is preselected: the ticket and the labor type are the person's choice (seed
        # /syncro: "Always ask … labor type. Never assume a default").
        self.fields["ticket"].choices = EMPTY + [
            (t.vendor_id, f"#{t.number} {t.subject[:60]} · {t.customer_name}") for t in rows
        ]
        self.fields[
            "ticket"
        ].help_text = "Tickets of the same customer first. No ticket yet? Create one (link below), then come back."
        mapped = {
            lt.kind: lt.product_name
            for lt in LaborType.objects.filter(tenant=tenant, product_vendor_id__isnull=False)
        }
        self.fields["labor_type"].choices = EMPTY + [
            (kind, f"{label} ({mapped[kind]})")
            for kind, label in LaborKind.choices
            if kind in mapped
        ]


def _week_start(request: HttpRequest) -> dt.date:
    try:
        day = dt.date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        day = timezone.localdate()
    return day - dt.timedelta(days=day.weekday())


@tenant_member_required()
def unbilled(request: HttpRequest) -> HttpResponse:
    jobs = unbilled_jobs(tenant=request.tenant)
    page = Paginator(jobs, 50).get_page(request.GET.get("page"))
    can_draft = request.membership.role in DRAFT_ROLES
    return render(
        request,
        "billing/reconciliation.html",
        {"page": page, "can_draft": can_draft, "total": page.paginator.count},
    )


@tenant_member_required(roles=DRAFT_ROLES)
def draft_billing(request: HttpRequest, job_id: int) -> HttpResponse:
    """GET: pick the ticket and labor type. POST: the draft is created (billing's service)."""
    from billing.services import BillingError
    from connectors.syncro.models import SyncroTicket

    job = get_for_tenant_or_404(
        request, SynchroteamJob.objects.filter(is_deleted=False), vendor_id=job_id
    )
    if job.status not in DONE_STATUSES:
        raise Http404("Only completed or validated jobs are billed.")
    form = DraftBillingForm(request.POST or None, tenant=request.tenant, job=job)
    if request.method == "POST" and form.is_valid():
        ticket = get_for_tenant_or_404(
            request,
            SyncroTicket.objects.filter(is_deleted=False),
            vendor_id=form.cleaned_data["ticket"],
        )
        try:
            draft = job_draft_billing(
                tenant=request.tenant,
                job=job,
                ticket=ticket,
                labor_type=form.cleaned_data["labor_type"],
                by=request.user,
            )
        except BillingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"Billing draft created on ticket #{ticket.number} ({draft.minutes} min)."
            )
            return redirect("reconciliation:unbilled")
    return render(
        request,
        "billing/reconciliation_draft.html",
        {
            "job": job,
            "form": form,
            "minutes": job_minutes(job),
            "tag": job_tag(job),
            "create_ticket_url": new_ticket_url(tenant=request.tenant, job=job),
        },
    )


def new_ticket_url(*, tenant: Tenant, job: SynchroteamJob) -> str:
    """The New ticket page prefilled for `job`: its customer (the Syncro customer whose name
    matches the job's, when one does), a subject naming the job, and its type as problem type."""
    from urllib.parse import urlencode

    from django.urls import reverse

    from connectors.syncro.models import SyncroCustomer

    params = {
        "subject": f"Job #{job.num} {job.type_name or ''}".strip(),
        "problem_type": job.type_name or "",
    }
    if job.customer_name:
        customer = (
            SyncroCustomer.objects.filter(
                tenant=tenant, is_deleted=False, name__iexact=job.customer_name
            ).first()
            or SyncroCustomer.objects.filter(
                tenant=tenant, is_deleted=False, name__icontains=job.customer_name
            ).first()
        )
        if customer is not None:
            params["customer"] = customer.vendor_id
    return f"{reverse('billing:ticket_create')}?{urlencode({k: v for k, v in params.items() if v})}"


@tenant_member_required()
def timesheet(request: HttpRequest) -> HttpResponse:
    week = _week_start(request)
    rows = timesheet_week(tenant=request.tenant, week_start=week)
    if request.GET.get("format") == "csv":
        response = HttpResponse(
            timesheet_csv(tenant=request.tenant, week_start=week), content_type="text/csv"
        )
        response["Content-Disposition"] = f'attachment; filename="timesheet-{week.isoformat()}.csv"'
        return response
    threshold = request.tenant.overtime_hours_per_week
    scale = max([float(r.total) for r in rows] + [float(threshold), 1.0])
    return render(
        request,
        "billing/reconciliation_timesheet.html",
        {
            "rows": rows,
            "week": week,
            "days": [week + dt.timedelta(days=i) for i in range(7)],
            "prev": week - dt.timedelta(days=7),
            "next": week + dt.timedelta(days=7),
            "threshold": threshold,
            "scale": scale,
            "threshold_pct": float(threshold) * 100 / scale,
        },
    )


app_name = "reconciliation"
urlpatterns = [
    path("", unbilled, name="unbilled"),
    path("jobs/<int:job_id>/draft/", draft_billing, name="draft"),
    path("timesheet/", timesheet, name="timesheet"),
]
