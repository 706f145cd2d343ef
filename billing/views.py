"""Billing pages: drafts, their approval, the queue, writes waiting for a person, labor types
and the audit. Ticket pages are in `billing.ticket_views`.

One URL serves a page and, for HTMX requests, its fragment (`request.htmx`). Objects are loaded
through `accounts.access` (404 for another tenant's). Write endpoints answer with the re-rendered
fragment and an ``HX-Trigger`` event (``drafts-changed``, ``ticket-changed``) other regions
listen to. Business rules live in `billing.services`; reads in `billing.selectors`.

Tickets are addressed by their Syncro id (unique per tenant: one Syncro connection per
tenant), which staff also see in Syncro's own URLs; drafts and writes by UUID.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from accounts.access import get_for_tenant_or_404, tenant_member_required
from accounts.downloads import as_download
from accounts.models import APPROVER_ROLES, MANAGER_ROLES, NoCredential
from accounts.paging import CappedPaginator, cap_label, capped_counts
from billing import approval, corrections, money, selectors, services, timers
from billing import audit as audit_trail
from billing import forms as billing_forms
from billing.models import BillingDraft, LaborKind
from billing.ticket_views import syncro_or_404, ticket_or_404
from connectors.outbox.models import VendorWrite
from connectors.outbox.services import ResolveError, resolve_write

QUEUE_SESSION_KEY = "billing_queue_filters"


def _is_approver(request: HttpRequest) -> bool:
    return request.membership.role in APPROVER_ROLES


# --- drafts -----------------------------------------------------------------------------------
def _draft_saved(request: HttpRequest, draft: BillingDraft, ticket) -> HttpResponse:
    """Say the draft was saved (and why it may be a duplicate) and go to its page
    (``HX-Redirect`` for HTMX)."""
    what = f"{draft.minutes} min {draft.get_labor_type_display()} on #{ticket.number}"
    messages.success(request, f"Draft saved: {what}.")
    if draft.duplicate_warning:
        messages.warning(request, draft.duplicate_warning)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("billing:draft_detail", args=[draft.uuid])
        return response
    return redirect("billing:draft_detail", draft_uuid=draft.uuid)


def _form_token(request: HttpRequest, ticket) -> str:
    """The posted one-time token when it is this person's for this ticket, else a new one."""
    posted = request.POST.get("form_token", "")
    mine = dict(tenant=request.tenant, user=request.user, ticket_id=ticket.vendor_id)
    try:
        billing_forms.draft_form_nonce(posted, **mine)
    except billing_forms.FormTokenRefused:
        return billing_forms.draft_form_token(**mine)
    return posted


def _save_draft(request: HttpRequest, ticket, form) -> BillingDraft | None:
    """Save a valid form once per one-time token; None (the form has the reason) if refused."""
    try:
        nonce = billing_forms.draft_form_nonce(
            request.POST.get("form_token", ""),
            tenant=request.tenant,
            user=request.user,
            ticket_id=ticket.vendor_id,
        )
        return services.draft_create(
            tenant=request.tenant,
            connection=syncro_or_404(request),
            ticket=ticket,
            by=request.user,
            form_nonce=nonce,
            **form.values(),
        )
    except (services.BillingError, billing_forms.FormTokenRefused) as exc:
        form.add_error(None, str(exc))
    return None


@tenant_member_required()
def draft_create(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Bill time on a ticket: minutes and labor type asked (no default); saves one draft per
    form (a double or triple submit finds the first)."""
    ticket = ticket_or_404(request, ticket_id)
    form = billing_forms.DraftForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        draft = _save_draft(request, ticket, form)
        if draft is not None:
            return _draft_saved(request, draft, ticket)
    context = {
        "ticket": ticket,
        "form": form,
        "form_token": _form_token(request, ticket),
        "no_labor_types": len(form.fields["labor_type"].choices) <= 1,
        "timers": timers.uncharged(ticket),
    }
    template = "billing/_draft_form.html" if request.htmx else "billing/draft_new.html"
    return render(request, template, context)


def draft_access(request: HttpRequest, draft_uuid) -> tuple[BillingDraft, bool]:
    """``(draft, can_approve)``: the active tenant's draft (404 for any other, or for a
    malformed UUID) and whether this person may approve it now (role, four-eyes, pending)."""
    draft = get_for_tenant_or_404(
        request,
        BillingDraft.objects.select_related(
            "drafted_by", "approved_by", "rejected_by", "connection", "batch", "tenant"
        ),
        uuid=draft_uuid,
    )
    return draft, approval.can_approve(draft, request.user, role=request.membership.role)


def _draft_context(request: HttpRequest, draft: BillingDraft, can_approve: bool) -> dict:
    context = {
        "draft": draft,
        "writes": approval.draft_writes(draft),
        "is_approver": _is_approver(request),
        "can_approve": can_approve,
        "four_eyes": request.tenant.four_eyes_approval,
        "currency": request.tenant.currency,
        "attribution": request.tenant.billing_attribution,
        "reviews": {},
    }
    if draft.is_pending:
        review = approval.draft_review(draft, request.user, role=request.membership.role)
        approval.identify_key(review)
        context.update(review=review, plan=review.plan, credential=review.actor)
        context["reviews"] = {draft.uuid: review}
    return context


def _row_response(
    request: HttpRequest, draft: BillingDraft, *, error: str = "", changed: bool = False
) -> HttpResponse:
    can_approve = approval.can_approve(draft, request.user, role=request.membership.role)
    context = {**_draft_context(request, draft, can_approve), "error": error}
    response = render(request, "billing/_draft_row.html", context)
    return trigger_client_event(response, "drafts-changed") if changed else response


def _draft_part(request: HttpRequest, draft: BillingDraft, part: str) -> HttpResponse:
    """A live fragment of the draft page: its queue row, or its writes (which carry the header
    status badge as an out-of-band swap and stop polling once the writes settled)."""
    if part == "row":
        return _row_response(request, draft)
    context = {
        "draft": draft,
        "writes": approval.draft_writes(draft),
        "is_approver": _is_approver(request),
        "oob": True,
    }
    return render(request, "billing/_draft_writes.html", context)


def _draft_edited(request: HttpRequest, draft: BillingDraft, form, *, correct: bool) -> bool:
    """Save a valid edit (or, with `correct`, the correction of a write Syncro refused) form
    (True), or leave the form with its errors and what was typed."""
    if not form.is_valid():
        return False
    save = corrections.draft_correct if correct else services.draft_update
    try:
        save(draft=draft, by=request.user, **form.values())
    except services.BillingError as exc:
        form.add_error(None, str(exc))
        return False
    if correct:
        messages.success(request, "Corrected. Check the new plan: it needs a new approval.")
    else:
        messages.success(request, "Draft updated. The original values are kept.")
    return True


@tenant_member_required()
def draft_detail(request: HttpRequest, draft_uuid) -> HttpResponse:
    """A draft: original / current / approved values, the exact payloads, whose key, amount,
    writes, timeline; POST edits it (drafter or approver, until approved; after a refusal, the
    correction). For HTMX, ``?part=row`` is its queue row and ``?part=writes`` its writes with
    the header status (both poll themselves while the writes are on their way)."""
    draft, can_approve = draft_access(request, draft_uuid)
    if request.htmx and request.GET.get("part") in ("row", "writes"):
        return _draft_part(request, draft, request.GET["part"])
    may_edit = draft.drafted_by_id == request.user.pk or _is_approver(request)
    refused = corrections.refused_write(draft) if may_edit else None
    can_edit = may_edit and (draft.decision != "approved" or refused is not None)
    form = billing_forms.DraftForm(
        request.POST or None,
        tenant=request.tenant,
        initial=billing_forms.DraftForm.initial_for(draft),
    )
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("This draft cannot be edited by you now.")
        if _draft_edited(request, draft, form, correct=refused is not None):
            return redirect("billing:draft_detail", draft_uuid=draft.uuid)
    context = {
        **_draft_context(request, draft, can_approve),
        "form": form,
        "can_edit": can_edit,
        "refused": refused,
        "editing": request.method == "POST" or request.GET.get("edit") == "1",
        "events": audit_trail.draft_timeline(draft),
        "labels": dict(LaborKind.choices),
    }
    return render(request, "billing/draft_detail.html", context)


def _approve_posted(request: HttpRequest, draft: BillingDraft) -> str:
    """Approve `draft` from the posted form; the refusal's sentence, or ""."""
    _, _, fingerprint = request.POST.get("plan", "").partition(":")
    try:
        approval.draft_approve(
            draft=draft,
            by=request.user,
            fingerprint=fingerprint,
            shown=request.POST.get("shown", ""),
            confirm_duplicate=request.POST.get("confirm_duplicate") == "yes",
        )
    except (services.BillingError, NoCredential) as exc:
        return str(exc)
    return ""


@tenant_member_required(roles=APPROVER_ROLES)
@require_POST
def draft_approve(request: HttpRequest, draft_uuid) -> HttpResponse:
    """Approve one draft as it was reviewed (``plan`` = ``<uuid>:<review fingerprint>``,
    ``shown`` = what the page showed, ``confirm_duplicate=yes`` for a possible duplicate;
    HTMX: the row comes back and ``drafts-changed`` refreshes counts)."""
    draft, _ = draft_access(request, draft_uuid)
    error = _approve_posted(request, draft)
    draft, _ = draft_access(request, draft_uuid)
    if request.htmx:
        return _row_response(request, draft, error=error, changed=not error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Approved #{draft.ticket_number}: sending to Syncro.")
    return redirect("billing:draft_detail", draft_uuid=draft.uuid)


@tenant_member_required(roles=APPROVER_ROLES)
def draft_reject(request: HttpRequest, draft_uuid) -> HttpResponse:
    """Reject a pending draft with a reason."""
    draft, _ = draft_access(request, draft_uuid)
    form = billing_forms.RejectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.draft_reject(draft=draft, by=request.user, reason=form.cleaned_data["reason"])
        except services.BillingError as exc:
            form.add_error(None, str(exc))
        else:
            draft, _ = draft_access(request, draft_uuid)
            if request.htmx:
                return _row_response(request, draft, changed=True)
            messages.success(request, "Draft rejected.")
            return redirect("billing:queue")
    template = "billing/_reject_form.html" if request.htmx else "billing/reject_page.html"
    return render(request, template, {"draft": draft, "form": form})


# --- queue -------------------------------------------------------------------------------------
def _queue_filters(request: HttpRequest) -> dict:
    """The queue's filters: the query string, else what this person used last (session)."""
    keys = ("status", "technician", "customer", "age")
    if request.GET.get("reset"):
        request.session.pop(QUEUE_SESSION_KEY, None)
        return {}
    given = {k: request.GET[k] for k in keys if k in request.GET}
    if given or "filtered" in request.GET:
        request.session[QUEUE_SESSION_KEY] = given
        return given
    return dict(request.session.get(QUEUE_SESSION_KEY) or {})


#: Each stat card counts at most this many drafts ("999+" past it).
QUEUE_COUNT_CAP = 999


def _queue_counts(tenant) -> dict:
    """Counts for the queue's stat cards: to approve, sending, needs attention, invoiced today;
    one query, each count stopping at `QUEUE_COUNT_CAP` + 1 (`accounts.paging.capped_counts`),
    so years of billed drafts are never counted. ``<name>_label`` is how each reads."""
    S = BillingDraft.Status
    drafts = BillingDraft.objects.filter(tenant=tenant)
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    counts = capped_counts(
        {
            "pending": drafts.in_status(S.PENDING),
            "sending": drafts.in_status(S.APPROVED),
            "attention": drafts.in_status(S.NEEDS_ATTENTION),
            "invoiced_today": drafts.in_status(S.INVOICED).filter(approved_at__gte=midnight),
        },
        QUEUE_COUNT_CAP,
    )
    return counts | {f"{k}_label": cap_label(n, QUEUE_COUNT_CAP) for k, n in counts.items()}


@tenant_member_required()
def queue(request: HttpRequest) -> HttpResponse:
    """Billing drafts by status, technician, customer and age; bulk approve; counts region.

    HTMX requests with ``?part=counts`` get the counts fragment only (refreshed on
    ``drafts-changed``); other HTMX requests get the results fragment.
    """
    tenant = request.tenant
    if request.htmx and request.GET.get("part") == "counts":
        return render(request, "billing/_queue_counts.html", {"counts": _queue_counts(tenant)})
    data = _queue_filters(request)
    context = _queue_context(request, data)
    if request.htmx and not request.htmx.boosted:
        return render(request, "billing/_queue_results.html", context)
    return render(request, "billing/queue.html", context)


def _queue_context(request: HttpRequest, data: dict) -> dict:
    tenant = request.tenant
    form = billing_forms.QueueFilterForm(data or None, tenant=tenant)
    cleaned = form.cleaned_data if form.is_bound and form.is_valid() else {}
    qs = selectors.queue_drafts(tenant, **cleaned)
    page = CappedPaginator(qs, 50).get_page(request.GET.get("page"))
    is_approver = _is_approver(request)
    drafts = selectors.with_tenant(list(page.object_list), tenant)
    role = request.membership.role
    # one price query and one key lookup per person for the whole page, not per draft
    prices = money.product_prices(tenant, [d.product_vendor_id for d in drafts])
    actors: dict = {}
    reviews = {
        d.uuid: approval.draft_review(d, request.user, role=role, prices=prices, actors=actors)
        for d in drafts
        if d.is_pending and is_approver
    }
    return {
        "form": form,
        "page": page,
        "drafts": drafts,
        "counts": _queue_counts(tenant),
        "totals": selectors.queue_totals(
            tenant, qs, cap=page.paginator.cap, capped=page.paginator.capped
        ),
        "amounts": money.draft_amounts(drafts, prices=prices),
        "currency": tenant.currency,
        "is_approver": is_approver,
        "four_eyes": tenant.four_eyes_approval,
        "query": urlencode({**data, "filtered": 1}),
        "writes_by_draft": selectors.writes_by_draft(drafts),
        "reviews": reviews,
        "keys": approval.queue_keys(reviews.values()),
        "attribution": tenant.billing_attribution,
        "invoices": selectors.invoices_to_approve(tenant, request.user, role=role),
    }


@tenant_member_required(roles=APPROVER_ROLES)
@require_POST
def queue_approve(request: HttpRequest) -> HttpResponse:
    """Bulk approve the checked drafts (each in its own transaction); reports what was skipped."""
    result = approval.drafts_approve(
        tenant=request.tenant, choices=request.POST.getlist("drafts"), by=request.user
    )
    if result.approved:
        n = len(result.approved)
        messages.success(request, f"Approved {n} draft{'s' if n != 1 else ''}; sending to Syncro.")
    for draft, reason in result.skipped:
        messages.warning(request, f"#{draft.ticket_number}: {reason}")
    if not result.approved and not result.skipped:
        messages.info(request, "No draft was selected.")
    if request.htmx:
        context = _queue_context(request, _queue_filters(request))
        response = render(request, "billing/_queue_results.html", context)
        return trigger_client_event(response, "drafts-changed")
    return redirect("billing:queue")


@tenant_member_required()
def invoice_preview(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """What an invoice for this ticket would hold (ticket charges + drafts, estimated prices)."""
    ticket = ticket_or_404(request, ticket_id)
    preview = selectors.invoice_preview(request.tenant, ticket.vendor_id)
    template = "billing/_invoice_preview.html" if request.htmx else "billing/invoice_preview.html"
    context = {"ticket": ticket, "preview": preview, "currency": request.tenant.currency}
    return render(request, template, context)


# --- writes ------------------------------------------------------------------------------------
def _may_resolve(request: HttpRequest, write: VendorWrite) -> bool:
    return _is_approver(request) or write.acting_user_id == request.user.pk


def _resolve(request: HttpRequest, write: VendorWrite, form) -> tuple[VendorWrite, str]:
    """Settle a write waiting for a person from the resolve form: ``(write, error)``."""
    if not _may_resolve(request, write):
        raise PermissionDenied("Only an approver or the person who asked can resolve this write.")
    if not form.is_valid():
        return write, "Choose what to do."
    error = ""
    try:
        write = resolve_write(write=write, by=request.user, **form.cleaned_data)
    except ResolveError as exc:
        error = str(exc)
    write.refresh_from_db()
    return write, error


@tenant_member_required()
def write_status(request: HttpRequest, write_uuid) -> HttpResponse:
    """One vendor write's live state (polls itself while in progress); POST resolves a write
    waiting for a person (approvers, or the person who asked for it)."""
    write = get_for_tenant_or_404(
        request, VendorWrite.objects.select_related("acting_user"), uuid=write_uuid
    )
    error = ""
    form = billing_forms.ResolveForm(request.POST or None)
    if request.method == "POST":
        write, error = _resolve(request, write, form)
    context = {"w": write, "error": error, "can_resolve": _may_resolve(request, write)}
    if not request.htmx:
        return render(request, "billing/write_page.html", context)
    response = render(request, "billing/_write.html", context)
    if request.method == "POST":
        return trigger_client_event(response, "drafts-changed")
    return response


# --- labor types and audit -----------------------------------------------------------------------
@tenant_member_required()
def labor_types(request: HttpRequest) -> HttpResponse:
    """The tenant's labor types → Syncro products (owners and admins edit)."""
    tenant = request.tenant
    current = {lt.kind: lt for lt in services.labor_types(tenant)}
    can_edit = request.membership.role in MANAGER_ROLES
    form = billing_forms.LaborTypeForm(
        request.POST or None,
        tenant=tenant,
        current={k: lt.product_vendor_id for k, lt in current.items()},
    )
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only owners and admins change labor types.")
        if request.POST.get("suggest"):
            from billing.demo import map_labor_types

            done = map_labor_types(tenant)
            messages.info(request, f"Matched {len(done)} unmapped labor type(s) by product name.")
            return redirect("billing:labor_types")
        if form.is_valid():
            chosen = {kind: form.cleaned_data.get(kind) or None for kind in LaborKind.values}
            try:
                services.labor_types_save(tenant=tenant, chosen=chosen, by=request.user)
            except services.BillingError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Labor types saved.")
                return redirect("billing:labor_types")
    rates = money.labor_rates(tenant)
    rows = [(form[k], current[k], rates[k]) for k in LaborKind.values]
    count = len(form.fields[LaborKind.REMOTE].choices) - 1
    context = {
        "form": form,
        "rows": rows,
        "can_edit": can_edit,
        "product_count": count,
        "currency": tenant.currency,
        "max_rate": max((r.per_hour for r in rates.values() if r.per_hour), default=0),
    }
    return render(request, "billing/labor_types.html", context)


@tenant_member_required(roles=APPROVER_ROLES)
def audit(request: HttpRequest) -> HttpResponse:
    """The audit trail; ``?start=&end=&format=csv`` downloads a date range as CSV."""
    tenant = request.tenant
    today = timezone.localdate()
    form = billing_forms.AuditRangeForm(
        request.GET or None, initial={"start": today - dt.timedelta(days=30), "end": today}
    )
    start, end = today - dt.timedelta(days=30), today
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        if request.GET.get("format") == "csv":
            response = StreamingHttpResponse(
                audit_trail.events_csv(tenant=tenant, start=start, end=end),
                content_type="text/csv; charset=utf-8",
            )
            return as_download(response, f"billing-audit-{start}-{end}.csv")
    # newest first on the page; the CSV streams oldest first
    events = list(audit_trail.audit_entries(tenant=tenant, start=start, end=end))[::-1]
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "billing/audit.html",
        {"form": form, "page": page, "start": start, "end": end, "query": query.urlencode()},
    )
