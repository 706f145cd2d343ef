"""Dispatch pages: the jobs board, technician board, job create/schedule, reconciliation
(unbilled work, draft billing from a job), the timesheet and the Calendars panel (FieldCamp).

One URL serves a page and, for HTMX requests (``request.htmx``), its fragment. Every member may
look; dispatch roles (owner, admin, dispatcher) create and schedule jobs and refresh calendars;
dispatch and billing roles draft billing. Jobs are addressed by their Synchroteam id within the
active tenant and loaded with `accounts.access.get_for_tenant_or_404` (404 for anything else).
Writes go through the outbox after the person saw the exact payload. Reads are in
`dispatch.selectors`, writes in `dispatch.services`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import get_for_tenant_or_404, tenant_member_required
from accounts.downloads import as_download
from accounts.inputs import htmx_refusal, query_problems
from accounts.models import APPROVER_ROLES, DISPATCH_ROLES, MANAGER_ROLES, NoCredential
from accounts.paging import CappedPaginator
from billing.money import labor_rates
from billing.services import BillingError
from connectors.fieldcamp import services as fieldcamp
from connectors.models import Connection
from connectors.outbox import plans
from connectors.synchroteam.models import (
    SynchroteamCustomer,
    SynchroteamJob,
    SynchroteamSite,
    SynchroteamUser,
)
from connectors.synchroteam.writes import JOB_CREATE
from connectors.syncro.models import SyncroTicket
from dispatch import forms, reconciliation, selectors, services

PAGE_SIZE = 50
DRAFT_ROLES = tuple(set(DISPATCH_ROLES) | set(APPROVER_ROLES))
MISMATCH_REFUSED = (
    "No draft was created: the ticket is another customer's. Tick the confirmation under the "
    "ticket, or pick a ticket of the job's customer."
)


def _can_dispatch(request: HttpRequest) -> bool:
    """Whether the member may create and schedule jobs and refresh calendars."""
    return request.membership.role in DISPATCH_ROLES


def _job(request: HttpRequest, job_id: int) -> SynchroteamJob:
    """The active tenant's live job with Synchroteam id `job_id`, else 404."""
    return get_for_tenant_or_404(
        request, SynchroteamJob.objects.filter(is_deleted=False), vendor_id=job_id
    )


# --- jobs board ----------------------------------------------------------------------------------
@tenant_member_required()
def job_list(request: HttpRequest) -> HttpResponse:
    """Mirrored jobs with filters; HTMX requests get the results fragment.

    Queries are fixed whatever the number of jobs and customers: a capped count
    (`accounts.paging.CappedPaginator`), the page, one grouped status count, the technician
    choices and, when filtered by customer or site, that one row. The customer filter is an id
    (``?customer=``) checked against the tenant: another company's or an unknown id is named
    and not applied. Without JS, a typed ``customer_q`` lists the matching customers as links.
    """
    tenant = request.tenant
    form = forms.JobFilterForm(request.GET or None, tenant=tenant)
    filters = form.filters if form.is_bound else {}
    problems = query_problems(form) if form.is_bound else []
    customer = selectors.job_customer(tenant=tenant, customer_id=filters.get("customer"))
    if filters.get("customer") and customer is None:
        problems.append(
            f"No customer of this company has the id {filters.pop('customer')}: "
            "the customer filter is not applied."
        )
    jobs = selectors.jobs_filtered(tenant=tenant, filters=filters)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": CappedPaginator(jobs, PAGE_SIZE).get_page(request.GET.get("page")),
        "query": query.urlencode(),
        "problems": problems,
        "customer_filter": customer,
        "site_filter": selectors.job_site(tenant=tenant, site_id=filters.get("site")),
        "can_dispatch": _can_dispatch(request),
        "can_export": request.membership.role in DRAFT_ROLES,
        "has_connection": selectors.synchroteam_connection(tenant) is not None,
    }
    if request.htmx:
        return render(request, "dispatch/_job_results.html", context)
    typed = form.cleaned_data.get("customer_q", "") if form.is_bound and form.is_valid() else ""
    context.update(_customer_options(request, typed))
    context["status_since"] = since = selectors.status_count_since()
    counts = selectors.status_counts(tenant=tenant, since=since)
    context["status_counts"] = counts
    context["status_max"] = max([c.n for c in counts] + [1])
    return render(request, "dispatch/job_list.html", context)


#: The pages a customer search links back to (``?target=``; anything else is the job list).
CUSTOMER_TARGETS = {"jobs": "dispatch:job_list", "unbilled": "dispatch:unbilled"}


def _customer_options(
    request: HttpRequest, typed: str, error: str = "", *, target: str = "jobs"
) -> dict:
    """The context of ``_customer_options.html``: the customers matching `typed` (at most
    `selectors.CUSTOMER_MATCHES`, ``more`` when there are others), the page their links open
    (`CUSTOMER_TARGETS`) and that page's query without the customer, page and search text."""
    found = selectors.customer_search(tenant=request.tenant, text=typed) if not error else []
    query = request.GET.copy()
    for key in ("customer", "customer_q", "page", "target"):
        query.pop(key, None)
    return {
        "customer_target": reverse(CUSTOMER_TARGETS.get(target, CUSTOMER_TARGETS["jobs"])),
        "customer_typed": typed,
        "customer_matches": found[: selectors.CUSTOMER_MATCHES],
        "customer_more": len(found) > selectors.CUSTOMER_MATCHES,
        "customer_error": error,
        "customer_query": query.urlencode(),
    }


@tenant_member_required()
def customer_search(request: HttpRequest) -> HttpResponse:
    """The job list's customer search (HTMX target ``#customer-options``): the tenant's
    customers whose name contains ``?customer_q=`` (at most 20, as links that set the job
    list's ``customer`` filter, keeping the other filters). Too long or odd input is named in
    the fragment, never searched; the answer is always 200."""
    form = forms.CustomerSearchForm(request.GET)
    target = str(request.GET.get("target", ""))
    if form.is_valid():
        context = _customer_options(request, form.cleaned_data["customer_q"], target=target)
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors)
        context = _customer_options(request, "", error, target=target)
    return render(request, "dispatch/_customer_options.html", context)


@tenant_member_required()
def job_board(request: HttpRequest) -> HttpResponse:
    """A day or week view of scheduled jobs per technician; HTMX requests get the board only."""
    q = forms.board_query(request.GET)
    if (refused := htmx_refusal(request, q.problems)) is not None:
        return refused
    span = q.span
    rows = selectors.technician_board(
        tenant=request.tenant, start=span.start, days=span.days, technician=q.technician
    )
    context = {
        "rows": rows if q.technician else [r for r in rows if r.total],
        "idle": [] if q.technician else [r for r in rows if not r.total],
        "dates": span.dates,
        "view": q.view,
        "start": span.start,
        "prev": span.prev,
        "next": span.next,
        "today": timezone.localdate(),
        "technicians": selectors.technicians(request.tenant).only("vendor_id", "name"),
        "technician": q.technician,
        # a week holds thousands of slots: their links share one reversed prefix
        "job_prefix": reverse("dispatch:job_detail", args=[1]).removesuffix("1/"),
        "problems": q.problems,
    }
    template = "dispatch/_board.html" if request.htmx else "dispatch/board.html"
    return render(request, template, context)


@tenant_member_required()
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    """One job with its site, equipment, custom fields, activities, invoice and portal writes."""
    job = _job(request, job_id)
    context = {
        "job": job,
        "ctx": selectors.job_context(job=job),
        "writes": selectors.job_recent_writes(tenant=request.tenant, job=job),
        "can_dispatch": _can_dispatch(request),
    }
    return render(request, "dispatch/job_detail.html", context)


# --- create and schedule -------------------------------------------------------------------------
def _create_plan(request: HttpRequest, form: forms.JobCreateForm, connection, nonce: str):
    """The plan for a valid create form; the picked rows are loaded for the tenant (404 if gone).

    Raises:
        services.DispatchError: see `services.job_create_plan`.
    """
    d = form.cleaned_data
    site_id, tech_id = d.get("site"), d.get("technician")
    return services.job_create_plan(
        connection=connection,
        user=request.user,
        nonce=nonce,
        customer=get_for_tenant_or_404(request, SynchroteamCustomer, vendor_id=d["customer"]),
        site=get_for_tenant_or_404(request, SynchroteamSite, vendor_id=site_id)
        if site_id
        else None,
        job_type=d["job_type"],
        description=d["description"],
        technician=(
            get_for_tenant_or_404(request, SynchroteamUser, vendor_id=tech_id) if tech_id else None
        ),
        start=d.get("start"),
        end=d.get("end"),
    )


def _plan_step(request: HttpRequest, action: str, obj: str, build) -> tuple[object, str, str]:
    """Preview or confirm one job plan: ``(plan | None, token, error)``.

    Preview makes a fresh server nonce; Confirm takes it from the signed token (refused when
    forged or made for another person, action or job) and checks that the plan rebuilt from the
    form is the one shown (`connectors.outbox.plans`).
    """
    bind = {"tenant": request.tenant, "user": request.user, "action": action, "obj": obj}
    confirming = request.POST.get("action") == "confirm"
    token = request.POST.get("token", "")
    try:
        plan = build(plans.token_nonce(token, **bind) if confirming else plans.new_nonce())
        if confirming:
            plans.plan_token_check(token, plan=plan, **bind)
    except (plans.PlanRefused, services.DispatchError) as exc:
        return None, "", str(exc)
    nonce = services.job_plan_nonce(plan)
    return plan, plans.plan_token(nonce=nonce, fingerprint=plan.fingerprint, **bind), ""


@tenant_member_required(roles=DISPATCH_ROLES)
def job_new(request: HttpRequest) -> HttpResponse:
    """GET: the form. POST ``action=preview``: the exact payloads and a signed token. POST
    ``action=confirm``: the writes are enqueued (the token's nonce makes a double confirm
    harmless)."""
    connection = selectors.synchroteam_connection(request.tenant)
    if connection is None:
        raise Http404("This company has no Synchroteam connection.")
    form = forms.JobCreateForm(request.POST or None, tenant=request.tenant)
    plan, token = None, ""
    if request.method == "POST" and form.is_valid():
        plan, token, error = _plan_step(
            request, "job.create", "new", lambda n: _create_plan(request, form, connection, n)
        )
        if error:
            form.add_error(None, error)
        elif request.POST.get("action") == "confirm":
            return _confirm(request, plan, "job created and scheduled from the portal")
    context = {"form": form, "plan": plan, "token": token, "title": "New job"}
    return render(
        request, "dispatch/job_new.html", {**context, "action_url": reverse("dispatch:job_new")}
    )


@tenant_member_required(roles=DISPATCH_ROLES)
def job_schedule(request: HttpRequest, job_id: int) -> HttpResponse:
    """Reschedule or reassign an existing job (``job/schedule`` by id), preview then confirm."""
    job = _job(request, job_id)
    form = forms.JobScheduleForm(
        request.POST or None, tenant=request.tenant, initial=forms.schedule_initial(job)
    )
    plan, token = None, ""
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        tech = get_for_tenant_or_404(request, SynchroteamUser, vendor_id=d["technician"])
        plan, token, error = _plan_step(
            request,
            "job.schedule",
            str(job.vendor_id),
            lambda n: services.job_schedule_plan(
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
    title = f"Schedule job {job.num or job.vendor_id}"
    url = reverse("dispatch:job_schedule", args=[job.vendor_id])
    context = {"form": form, "plan": plan, "token": token, "job": job, "title": title}
    return render(request, "dispatch/job_new.html", {**context, "action_url": url})


def _confirm(request: HttpRequest, plan, reason: str) -> HttpResponse:
    """Enqueue a confirmed plan and send the person to the page that follows its writes."""
    try:
        batch = services.job_writes_enqueue(plan=plan, by=request.user, reason=reason)
    except NoCredential as exc:
        messages.error(request, str(exc))
        return redirect("dispatch:job_list")
    messages.success(request, "Sent to Synchroteam through the outbox. This page follows it.")
    return redirect("dispatch:job_request", batch_uuid=batch.uuid)


@tenant_member_required()
def job_request(request: HttpRequest, batch_uuid) -> HttpResponse:
    """The writes of one create/schedule request and their states (HTMX polls until settled)."""
    batch = services.job_batch(tenant=request.tenant, batch_uuid=batch_uuid)
    if batch is None:
        raise Http404("Not found.")
    writes = list(batch.writes.order_by("id"))
    context = {
        "writes": writes,
        "batch": batch,
        "settled": all(w.is_terminal or w.is_waiting_for_person for w in writes),
        "created": next((w for w in writes if w.operation == JOB_CREATE and w.remote_id), None),
    }
    template = "dispatch/_request.html" if request.htmx else "dispatch/request.html"
    return render(request, template, context)


# --- reconciliation ------------------------------------------------------------------------------
@tenant_member_required()
def unbilled(request: HttpRequest) -> HttpResponse:
    """Unbilled jobs as a worklist (`reconciliation.worklist`): filters in the query string,
    hours and amount per row, totals and hours per technician of what the filters select, 50
    rows a page. A filter that does not parse is named and left out. HTMX: the results."""
    form = forms.WorklistFilterForm(request.GET, tenant=request.tenant)
    rate = labor_rates(request.tenant)[form.price_kind]
    work = reconciliation.worklist(tenant=request.tenant, filters=form.filters, rate=rate)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "work": work,
        "problems": form.problems(),
        "page": Paginator(work.rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "query": query.urlencode(),
        "currency": request.tenant.currency,
        "can_draft": request.membership.role in DRAFT_ROLES,
    }
    if request.htmx:  # the results only: no customer search, no filter line
        return render(request, "dispatch/_unbilled_results.html", context)
    customer_id = form.filters.get("customer")
    context["customer_id"] = customer_id
    context["customer_filter"] = selectors.job_customer(
        tenant=request.tenant, customer_id=customer_id
    )
    typed = form.cleaned_data.get("customer_q", "") if "customer_q" not in form.errors else ""
    context.update(_customer_options(request, typed, target="unbilled"))
    return render(request, "dispatch/unbilled.html", context)


def _billable_job(request: HttpRequest, job_id: int) -> SynchroteamJob:
    """The active tenant's completed or validated job `job_id`, else 404."""
    job = _job(request, job_id)
    if job.status not in selectors.DONE_STATUSES:
        raise Http404("Only completed or validated jobs are billed.")
    return job


def _guard(request: HttpRequest, job: SynchroteamJob, ticket_id, confirmed) -> dict:
    """The customer check of the chosen ticket for the page: ``check`` (None when no ticket of
    the tenant is chosen; an id that is not digits or not the tenant's is no ticket),
    ``guard_ticket`` and whether the confirmation box is ticked for that ticket."""
    ticket_id = str(ticket_id or "")
    ticket = None
    if ticket_id.isascii() and ticket_id.isdigit() and len(ticket_id) < 19:  # not "²"
        ticket = SyncroTicket.objects.for_tenant(request.tenant).alive()
        ticket = ticket.filter(vendor_id=int(ticket_id)).first()
    check = (
        reconciliation.customer_check(tenant=request.tenant, job=job, ticket=ticket)
        if ticket
        else None
    )
    return {"check": check, "guard_ticket": ticket, "confirmed": str(confirmed or "") == ticket_id}


def _drafted(request: HttpRequest, job, form) -> bool:
    """Create the billing draft from a valid form (True), or keep the form with the error (a
    ticket of another customer needs ``confirm_customer`` set to that ticket's id)."""
    d = form.cleaned_data
    ticket = get_for_tenant_or_404(
        request, SyncroTicket.objects.filter(is_deleted=False), vendor_id=d["ticket"]
    )
    try:
        draft = services.job_draft_billing(
            tenant=request.tenant,
            job=job,
            ticket=ticket,
            labor_type=d["labor_type"],
            by=request.user,
            confirm_mismatch=form.mismatch_confirmed,
        )
    except BillingError as exc:
        form.add_error(
            None, MISMATCH_REFUSED if isinstance(exc, services.CustomerMismatch) else str(exc)
        )
        return False
    messages.success(
        request, f"Billing draft created on ticket #{ticket.number} ({draft.minutes} min)."
    )
    return True


@tenant_member_required(roles=DRAFT_ROLES)
def draft_billing(request: HttpRequest, job_id: int) -> HttpResponse:
    """GET: pick the ticket and labor type; HTMX ``?part=guard&ticket=`` answers the chosen
    ticket's customer check. POST: the draft is created (billing's service), or the form comes
    back as typed with the reason (another customer's ticket needs the confirmation ticked)."""
    job = _billable_job(request, job_id)
    if request.htmx and request.GET.get("part") == "guard":
        guard = _guard(request, job, request.GET.get("ticket"), "")
        return render(request, "dispatch/_customer_guard.html", guard)
    form = forms.DraftBillingForm(request.POST or None, tenant=request.tenant, job=job)
    if request.method == "POST" and form.is_valid() and _drafted(request, job, form):
        return redirect(forms.worklist_url(request.POST.get("back", "")))
    time = reconciliation.jobs_time([job])[job.pk]
    context = {
        "job": job,
        "form": form,
        "time": time,
        "rates": reconciliation.priced_amounts(tenant=request.tenant, minutes=time.minutes),
        "tag": reconciliation.job_tag(job),
        "create_ticket_url": reconciliation.new_ticket_url(tenant=request.tenant, job=job),
        "back": request.POST.get("back", request.GET.urlencode()),
        **_guard(request, job, form["ticket"].value(), form["confirm_customer"].value()),
    }
    return render(request, "dispatch/draft_billing.html", context)


@tenant_member_required()
def timesheet(request: HttpRequest) -> HttpResponse:
    """Hours per technician per day of a week (``?week=``), or the payroll CSV (``&format=csv``)."""
    week, problems = forms.week_query(request.GET)
    if (refused := htmx_refusal(request, problems)) is not None:
        return refused
    if request.GET.get("format") == "csv" and not problems:
        response = HttpResponse(
            selectors.timesheet_csv(tenant=request.tenant, week_start=week), content_type="text/csv"
        )
        return as_download(response, f"timesheet-{week.isoformat()}.csv")
    rows = selectors.timesheet_week(tenant=request.tenant, week_start=week)
    span = forms.DaySpan(week, 7)
    threshold = request.tenant.overtime_hours_per_week
    scale = max([float(r.total) for r in rows] + [float(threshold), 1.0])
    context = {
        "rows": rows,
        "week": week,
        "days": span.dates,
        "prev": span.prev,
        "next": span.next,
        "threshold": threshold,
        "scale": scale,
        "problems": problems,
    }
    return render(request, "dispatch/timesheet.html", context)


# --- calendars (FieldCamp) -----------------------------------------------------------------------
def _fieldcamp(request: HttpRequest) -> Connection:
    """The active tenant's FieldCamp connection, else 404."""
    connection = fieldcamp.fieldcamp_connection(request.tenant)
    if connection is None:
        raise Http404("This company has no FieldCamp connection.")
    return connection


def _integration(integration: str) -> str:
    """`integration` if it is a FieldCamp integration slug, else 404."""
    if integration not in fieldcamp.INTEGRATIONS:
        raise Http404("Unknown integration.")
    return integration


def _row_context(
    request: HttpRequest, state: fieldcamp.IntegrationState, message: str = ""
) -> dict:
    """The context of one integration row (``_calendar_row.html``)."""
    return {
        "s": state,
        "message": message,
        "can_dispatch": _can_dispatch(request),
        "poll_seconds": settings.DISPATCH_SYNC_POLL_SECONDS,
    }


@tenant_member_required()
def calendars(request: HttpRequest) -> HttpResponse:
    """The Calendars panel: Google Calendar, Outlook and QuickBooks sync state and controls, the
    waiting batched sync, the calendar change feed and the inbound webhook log."""
    connection = fieldcamp.fieldcamp_connection(request.tenant)
    context: dict = {"connection": connection}
    if connection is not None:
        states = fieldcamp.integration_panel(connection=connection, user=request.user)
        feed = selectors.calendar_feed(tenant=request.tenant, connection=connection)
        context.update(
            vars(feed),
            rows=[_row_context(request, s) for s in states],
            can_dispatch=_can_dispatch(request),
            is_manager=request.membership.role in MANAGER_ROLES,
            webhook_urls=[
                (label, request.build_absolute_uri(path))
                for label, path in selectors.webhook_paths(tenant=request.tenant)
            ],
        )
    return render(request, "dispatch/calendars.html", context)


@tenant_member_required()
def calendar_row(request: HttpRequest, integration: str) -> HttpResponse:
    """One integration's row (the polling target); ``?follow=1`` adds the trigger's outcome."""
    connection = _fieldcamp(request)
    (state,) = fieldcamp.integration_panel(
        connection=connection, user=request.user, only=_integration(integration)
    )
    message = (
        fieldcamp.trigger_message(state.write) if state.write and request.GET.get("follow") else ""
    )
    return render(request, "dispatch/_calendar_row.html", _row_context(request, state, message))


@tenant_member_required(roles=DISPATCH_ROLES)
@require_POST
def calendar_refresh(request: HttpRequest, integration: str) -> HttpResponse:
    """Trigger a sync through the outbox; answers the row (HTMX), which then follows the job, or
    redirects to the panel with the outcome as a message."""
    connection = _fieldcamp(request)
    message = services.calendar_sync_request(
        tenant=request.tenant,
        connection=connection,
        integration=_integration(integration),
        mode="full" if request.POST.get("mode") == "full" else "incremental",
        by=request.user,
    )
    if not request.htmx:
        messages.info(request, message)
        return redirect("dispatch:calendars")
    (state,) = fieldcamp.integration_panel(
        connection=connection, user=request.user, only=integration
    )
    return render(request, "dispatch/_calendar_row.html", _row_context(request, state, message))


@tenant_member_required(roles=DISPATCH_ROLES)
@require_POST
def calendar_pull(request: HttpRequest) -> HttpResponse:
    """Queue a pull of Google Calendar changes (``since`` + ``next_cursor``) into the mirror."""
    runs = fieldcamp.calendar_changes_pull(connection=_fieldcamp(request), user=request.user)
    messages.info(
        request,
        "Pulling Google Calendar changes."
        if runs
        else "A FieldCamp sync is already running; it includes the changes.",
    )
    return redirect("dispatch:calendars")
