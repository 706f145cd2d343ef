"""Dispatch pages: the Synchroteam jobs board, job detail, create and (re)schedule a job.

One URL serves a page and, for HTMX requests, its fragment. Every member may look; only
dispatch roles (owner, admin, dispatcher) may create or schedule. Jobs are addressed by their
Synchroteam id within the active tenant (404 for anything else). Writes go through the outbox
after the person saw the exact payload (services in `connectors.synchroteam.services`).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.access import get_for_tenant_or_404, tenant_member_required
from accounts.models import DISPATCH_ROLES, NoCredential
from connectors.outbox.plans import (
    PlanRefused,
    new_nonce,
    plan_token,
    plan_token_check,
    token_nonce,
)
from connectors.synchroteam import services
from connectors.synchroteam.models import (
    SynchroteamCustomer,
    SynchroteamJob,
    SynchroteamSite,
    SynchroteamUser,
)
from connectors.synchroteam.writes import JOB_CREATE

PAGE_SIZE = 50


# --- forms --------------------------------------------------------------------------------------
class JobFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    status = forms.ChoiceField(required=False)
    technician = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    customer = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    site = forms.IntegerField(required=False, widget=forms.HiddenInput)
    start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "Any status")] + [
            (s, s.capitalize()) for s in services.STATUSES
        ]
        self.fields["technician"].choices = [("", "Any technician")] + [
            (u.vendor_id, u.name) for u in services.technicians(tenant)
        ]
        self.fields["customer"].choices = [("", "Any customer")] + list(
            SynchroteamCustomer.objects.for_tenant(tenant).alive().values_list("vendor_id", "name")
        )


class JobCreateForm(forms.Form):
    customer = forms.TypedChoiceField(coerce=int)
    site = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    job_type = forms.ChoiceField(label="Job type")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    technician = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    start = forms.DateTimeField(
        required=False,
        label="Window start",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    end = forms.DateTimeField(
        required=False,
        label="Window end",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.fields["customer"].choices = [("", "Pick a customer")] + list(
            SynchroteamCustomer.objects.for_tenant(tenant).alive().values_list("vendor_id", "name")
        )
        self.fields["site"].choices = [("", "No site (the customer's address)")] + [
            (s.vendor_id, f"{s.name} — {s.address}" if s.address else s.name)
            for s in SynchroteamSite.objects.for_tenant(tenant).alive()
        ]
        self.fields["site"].help_text = "Sites of other customers are refused."
        self.fields["job_type"].choices = [(t, t) for t in services.job_types(tenant)]
        self.fields["technician"].choices = [("", "Leave unscheduled")] + [
            (u.vendor_id, u.name) for u in services.technicians(tenant)
        ]

    def plan(self, *, connection, user, nonce: str):
        """The `WritePlan` of the validated form (customer, site and technician of the tenant).

        Raises:
            DoesNotExist: a chosen record is not the tenant's.
            services.DispatchError: see `services.job_create_plan`.
        """
        d = self.cleaned_data
        tenant = self.tenant
        customer = SynchroteamCustomer.objects.for_tenant(tenant).get(vendor_id=d["customer"])
        site = (
            SynchroteamSite.objects.for_tenant(tenant).get(vendor_id=d["site"])
            if d.get("site")
            else None
        )
        tech = (
            SynchroteamUser.objects.for_tenant(tenant).get(vendor_id=d["technician"])
            if d.get("technician")
            else None
        )
        return services.job_create_plan(
            connection=connection,
            user=user,
            nonce=nonce,
            customer=customer,
            site=site,
            job_type=d["job_type"],
            description=d["description"],
            technician=tech,
            start=d.get("start"),
            end=d.get("end"),
        )


class JobScheduleForm(forms.Form):
    technician = forms.TypedChoiceField(coerce=int)
    start = forms.DateTimeField(
        label="Window start", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    end = forms.DateTimeField(
        label="Window end", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.fields["technician"].choices = [
            (u.vendor_id, u.name) for u in services.technicians(tenant)
        ]


def _can_dispatch(request: HttpRequest) -> bool:
    return request.membership.role in DISPATCH_ROLES


# --- board --------------------------------------------------------------------------------------
@tenant_member_required()
def job_list(request: HttpRequest) -> HttpResponse:
    """Mirrored jobs with filters; HTMX requests get the results fragment."""
    form = JobFilterForm(request.GET or None, tenant=request.tenant)
    filters = form.cleaned_data if form.is_valid() else {}
    jobs = services.jobs_filtered(tenant=request.tenant, filters=filters)
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    site = None
    if filters.get("site"):
        site = (
            SynchroteamSite.objects.for_tenant(request.tenant)
            .filter(vendor_id=filters["site"])
            .first()
        )
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "site_filter": site,
        "can_dispatch": _can_dispatch(request),
        "has_connection": services.synchroteam_connection(request.tenant) is not None,
    }
    if request.htmx:
        return render(request, "synchroteam/_job_results.html", context)
    counts = services.status_counts(tenant=request.tenant)
    context["status_counts"] = counts
    context["status_max"] = max([n for _, n in counts] + [1])
    return render(request, "synchroteam/job_list.html", context)


@tenant_member_required()
def job_board(request: HttpRequest) -> HttpResponse:
    """A day or week view of scheduled jobs per technician."""
    view = "day" if request.GET.get("view") == "day" else "week"
    try:
        day = dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    start = day if view == "day" else day - dt.timedelta(days=day.weekday())
    days = 1 if view == "day" else 7
    tech = request.GET.get("technician")
    rows = services.technician_board(
        tenant=request.tenant,
        start=start,
        days=days,
        technician=int(tech) if tech and tech.isdigit() else None,
    )
    step = dt.timedelta(days=days)
    context = {
        "rows": [r for r in rows if r.total] if not tech else rows,
        "idle": [r for r in rows if not r.total] if not tech else [],
        "dates": [start + dt.timedelta(days=i) for i in range(days)],
        "view": view,
        "start": start,
        "prev": start - step,
        "next": start + step,
        "today": timezone.localdate(),
        "technicians": services.technicians(request.tenant),
        "technician": int(tech) if tech and tech.isdigit() else None,
    }
    template = "synchroteam/_board.html" if request.htmx else "synchroteam/board.html"
    return render(request, template, context)


def _job(request: HttpRequest, job_id: int) -> SynchroteamJob:
    return get_for_tenant_or_404(
        request, SynchroteamJob.objects.filter(is_deleted=False), vendor_id=job_id
    )


@tenant_member_required()
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job(request, job_id)
    ctx = services.job_context(job=job)
    from connectors.outbox.models import VendorWrite

    writes = VendorWrite.objects.filter(
        tenant=request.tenant, operation__startswith="synchroteam.job."
    ).filter(target__job_id=job.vendor_id)[:10]
    return render(
        request,
        "synchroteam/job_detail.html",
        {"job": job, "ctx": ctx, "writes": writes, "can_dispatch": _can_dispatch(request)},
    )


# --- create and schedule --------------------------------------------------------------------
def _plan_step(request: HttpRequest, action: str, obj: str, build) -> tuple[object, str, str]:
    """Preview or confirm one job plan: ``(plan | None, token, error)``.

    Preview makes a fresh nonce; Confirm takes it from the signed token (refused when forged or
    made for another person, action or job) and checks the rebuilt plan is the one shown.
    """
    bind = {"tenant": request.tenant, "user": request.user, "action": action, "obj": obj}
    confirming = request.POST.get("action") == "confirm"
    try:
        token = request.POST.get("token", "")
        nonce = token_nonce(token, **bind) if confirming else new_nonce()
        plan = build(nonce)
        if confirming:
            plan_token_check(token, plan=plan, **bind)
        fresh = plan_token(
            nonce=services.job_plan_nonce(plan), fingerprint=plan.fingerprint, **bind
        )
        return plan, fresh, ""
    except (PlanRefused, services.DispatchError) as exc:
        return None, "", str(exc)


@tenant_member_required(roles=DISPATCH_ROLES)
def job_new(request: HttpRequest) -> HttpResponse:
    """GET: the form. POST ``action=preview``: the exact payloads and a signed token. POST
    ``action=confirm``: the writes are enqueued (the token's nonce makes a double confirm
    harmless)."""
    connection = services.synchroteam_connection(request.tenant)
    if connection is None:
        raise Http404("This company has no Synchroteam connection.")
    form = JobCreateForm(request.POST or None, tenant=request.tenant)
    plan, token = None, ""
    if request.method == "POST" and form.is_valid():
        try:
            plan, token, error = _plan_step(
                request,
                "job.create",
                "new",
                lambda nonce: form.plan(connection=connection, user=request.user, nonce=nonce),
            )
        except (
            SynchroteamCustomer.DoesNotExist,
            SynchroteamSite.DoesNotExist,
            SynchroteamUser.DoesNotExist,
        ):
            raise Http404("Not found.") from None
        if error:
            form.add_error(None, error)
        elif request.POST.get("action") == "confirm":
            return _confirm(request, plan, "job created and scheduled from the portal")
    context = {"form": form, "plan": plan, "token": token, "title": "New job"}
    return render(
        request,
        "synchroteam/job_new.html",
        {**context, "action_url": reverse("synchroteam:job_new")},
    )


@tenant_member_required(roles=DISPATCH_ROLES)
def job_schedule(request: HttpRequest, job_id: int) -> HttpResponse:
    """Reschedule or reassign an existing job (``job/schedule`` by id), preview then confirm."""
    job = _job(request, job_id)
    initial = {}
    if job.technician_vendor_id:
        initial["technician"] = job.technician_vendor_id
    if job.scheduled_start:
        initial["start"] = timezone.localtime(job.scheduled_start).strftime("%Y-%m-%dT%H:%M")
    if job.scheduled_end:
        initial["end"] = timezone.localtime(job.scheduled_end).strftime("%Y-%m-%dT%H:%M")
    form = JobScheduleForm(request.POST or None, tenant=request.tenant, initial=initial)
    plan, token = None, ""
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        tech = get_for_tenant_or_404(request, SynchroteamUser, vendor_id=d["technician"])
        plan, token, error = _plan_step(
            request,
            "job.schedule",
            str(job.vendor_id),
            lambda nonce: services.job_schedule_plan(
                connection=job.connection,
                user=request.user,
                job=job,
                technician=tech,
                start=d["start"],
                end=d["end"],
            ),
        )
        if error:
            form.add_error(None, error)
        elif request.POST.get("action") == "confirm":
            return _confirm(request, plan, f"job {job.num or job.vendor_id} rescheduled")
    return render(
        request,
        "synchroteam/job_new.html",
        {
            "form": form,
            "plan": plan,
            "token": token,
            "job": job,
            "title": f"Schedule job {job.num or job.vendor_id}",
            "action_url": reverse("synchroteam:job_schedule", args=[job.vendor_id]),
        },
    )


def _confirm(request: HttpRequest, plan, reason: str) -> HttpResponse:
    try:
        batch = services.job_writes_enqueue(plan=plan, by=request.user, reason=reason)
    except NoCredential as exc:
        messages.error(request, str(exc))
        return redirect("synchroteam:job_list")
    messages.success(request, "Sent to Synchroteam through the outbox. This page follows it.")
    return redirect("synchroteam:job_request", batch_uuid=batch.uuid)


@tenant_member_required()
def job_request(request: HttpRequest, batch_uuid) -> HttpResponse:
    """The writes of one create/schedule request and their states (HTMX polls until settled)."""
    batch = services.job_batch(tenant=request.tenant, batch_uuid=batch_uuid)
    if batch is None:
        raise Http404("Not found.")
    writes = list(batch.writes.order_by("id"))
    settled = all(w.is_terminal or w.is_waiting_for_person for w in writes)
    created = next((w for w in writes if w.operation == JOB_CREATE and w.remote_id), None)
    context = {"writes": writes, "settled": settled, "batch": batch, "created": created}
    template = "synchroteam/_request.html" if request.htmx else "synchroteam/request.html"
    return render(request, template, context)
