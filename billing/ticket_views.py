"""Ticket pages: the list, one ticket, and the ticket actions (comment, status, close, new
ticket) with their Preview -> Confirm pair (`billing.ticket_actions`).

One URL serves a page and, for HTMX requests, its fragment (`request.htmx`). Objects are loaded
through `accounts.access` (404 for another tenant's). Write endpoints answer with the re-rendered
fragment and an ``HX-Trigger`` event (``drafts-changed``, ``ticket-changed``) other regions
listen to. Business rules live in `billing.services`; reads in `billing.selectors`.

Tickets are addressed by their Syncro id (unique per tenant: one Syncro connection per
tenant), which staff also see in Syncro's own URLs; drafts and writes by UUID.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import trigger_client_event

from accounts.access import get_for_tenant_or_404, tenant_member_required
from accounts.downloads import as_download
from accounts.models import NoCredential
from accounts.paging import CappedPaginator
from billing import draft_plan, lists, selectors, ticket_actions, timers
from billing import forms as billing_forms
from billing.invoices import ticket_invoices
from connectors.outbox.models import VendorWrite
from connectors.outbox.plans import PlanRefused, WritePlan, new_nonce
from connectors.syncro.models import SyncroCustomer, SyncroTicket
from connectors.syncro.writes import COMMENT_CREATE

PAGE_SIZES = (25, 50, 100)
#: Matches a text search counts at most ("100+"); other filters count up to
#: `accounts.paging.COUNT_CAP`.
SEARCH_COUNT_CAP = 100


def ticket_or_404(request: HttpRequest, ticket_id: int) -> SyncroTicket:
    """The active tenant's mirrored, not deleted ticket with this Syncro id (404 otherwise)."""
    return get_for_tenant_or_404(
        request, SyncroTicket.objects.filter(is_deleted=False), vendor_id=ticket_id
    )


def syncro_or_404(request: HttpRequest):
    """The active tenant's Syncro connection (404 when the company has none)."""
    connection = selectors.syncro_connection(request.tenant)
    if connection is None:
        raise Http404("This company has no Syncro connection.")
    return connection


# --- tickets ----------------------------------------------------------------------------------
@tenant_member_required()
def ticket_list(request: HttpRequest) -> HttpResponse:
    """Mirrored Syncro tickets with filters in the URL, paginated on the server.

    Queries are fixed whatever the page size and the number of tickets: a capped count (at most
    1 001 rows, 101 for a text search: `accounts.paging.CappedPaginator`, "1 000+" past it),
    the page (by ids first on deep pages), three billing-state queries, and the filter
    choices (customers; statuses and technicians are cached per tenant).
    """
    tenant = request.tenant
    form = billing_forms.TicketFilterForm(request.GET or None, tenant=tenant)
    filters = form.filters() if request.GET else selectors.TicketFilters()
    try:
        per_page = int(request.GET.get("per", PAGE_SIZES[0]))
    except ValueError:
        per_page = PAGE_SIZES[0]
    per_page = per_page if per_page in PAGE_SIZES else PAGE_SIZES[0]
    # a common text is tested row by row as the list is walked: its count stops sooner
    cap = SEARCH_COUNT_CAP if filters.q.strip() else None
    tickets, counted = selectors.ticket_querysets(tenant, filters)
    paginator = CappedPaginator(tickets, per_page, cap=cap, counted=counted)
    page = paginator.get_page(request.GET.get("page"))
    tickets = list(page.object_list)
    states = selectors.ticket_page_states(tenant, tickets)
    techs = lists.technicians(tenant)
    rows = [(t, states.get(t.vendor_id), techs.get(t.user_vendor_id)) for t in tickets]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "per_page": per_page,
        "page_sizes": PAGE_SIZES,
        "has_connection": selectors.syncro_connection(tenant) is not None,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "billing/_ticket_results.html", context)
    return render(request, "billing/ticket_list.html", context)


@tenant_member_required()
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """A ticket with its comments (last 5, ``?comments=all`` for every one), line items and
    invoices, timer entries, drafts, every write sent from the portal and the audit timeline.

    For HTMX, ``?part=writes`` is the "Sent from the portal" region; it polls itself every
    second while a write of the ticket is on its way and carries the status badge, the comments
    and the billing card as out-of-band swaps, so the page follows the writes (the mirror is
    updated as each is confirmed) and stops asking once they settled."""
    ticket = ticket_or_404(request, ticket_id)
    if request.htmx and request.GET.get("comments") == "all":
        comments = selectors.ticket_comments(ticket, limit=None)
        return render(
            request, "billing/_comments.html", {"ticket": ticket, "comments": comments, "all": True}
        )
    context = _ticket_context(request, ticket)
    if request.htmx and request.GET.get("part") == "writes":
        return render(request, "billing/_ticket_writes.html", {**context, "oob": True})
    return render(request, "billing/ticket_detail.html", context)


def _ticket_context(request: HttpRequest, ticket: SyncroTicket) -> dict:
    """What the ticket page and its live fragment show."""
    detail = selectors.ticket_detail(ticket)
    writes = selectors.ticket_writes(ticket)
    return {
        "ticket": ticket,
        "d": detail,
        "tech_name": lists.technicians(request.tenant).get(ticket.user_vendor_id),
        "comments": detail.comments,
        "writes": writes,
        "in_flight": selectors.writes_in_flight(writes),
        "invoices": ticket_invoices(ticket),
        "currency": request.tenant.currency,
        "timer_panel": timers.timer_panel(
            ticket, detail.timers, can_charge=request.membership.can_approve
        ),
        "unbilled_seconds": sum(
            t.active_duration or 0 for t in detail.timers if t.billable and not t.recorded
        ),
    }


@dataclass(frozen=True)
class Action:
    """One ticket action's page: its name (bound into the token), title, form and planner.

    `plan(form, nonce)` builds the `WritePlan` from the validated form and a server-made nonce.
    """

    name: str
    title: str
    form: object
    plan: Callable[[object, str], WritePlan]
    ticket: SyncroTicket | None
    note: str
    extra: dict = field(default_factory=dict)

    @property
    def obj(self) -> str:
        """The object the token is bound to: the ticket's Syncro id, or "new"."""
        return str(self.ticket.vendor_id) if self.ticket else "new"


def _action(request: HttpRequest, action: Action) -> HttpResponse:
    """The two steps of every ticket action: Preview (the exact JSON) then Confirm (enqueue).

    ``step=preview`` validates, plans with a fresh server nonce and shows the plan with a signed
    token; ``step=confirm`` takes the nonce from the token (refused if forged or made for
    another person, action or ticket), plans again from the same fields and queues exactly that
    plan if it is the one shown; ``step=edit`` returns to the form with what the person typed.
    """
    step = request.POST.get("step", "")
    form = action.form
    context = {
        "title": action.title,
        "form": form,
        "ticket": action.ticket,
        "action_url": request.path,
        "credential": draft_plan.approval_credential(request.tenant, request.user),
        **action.extra,
    }
    if request.method == "POST" and step in ("preview", "confirm") and form.is_valid():
        bind = {"tenant": request.tenant, "user": request.user, "action": action.name}
        try:
            nonce = (
                ticket_actions.action_nonce(
                    token=request.POST.get("token", ""), obj=action.obj, **bind
                )
                if step == "confirm"
                else new_nonce()
            )
            plan = action.plan(form, nonce)
            context["plan"] = plan
            context["token"] = ticket_actions.action_token(plan=plan, obj=action.obj, **bind)
            if step == "confirm":
                batch = ticket_actions.action_confirm(
                    plan=plan,
                    token=request.POST.get("token", ""),
                    by=request.user,
                    action=action.name,
                    obj=action.obj,
                    ticket=action.ticket,
                    note=action.note,
                )
                return _action_done(request, action, batch, context)
        except (ticket_actions.ActionError, PlanRefused) as exc:
            form.add_error(None, str(exc))
        except NoCredential as exc:
            form.add_error(None, f"{exc} Add a Syncro key on the Integrations page.")
            context.pop("plan", None)
    template = "billing/_action.html" if request.htmx else "billing/action_page.html"
    return render(request, template, context)


def _action_done(request: HttpRequest, action: Action, batch, context: dict) -> HttpResponse:
    if not request.htmx:
        messages.success(request, f"{action.title}: confirmed, sending to Syncro.")
        if action.ticket is not None:
            return redirect("billing:ticket_detail", ticket_id=action.ticket.vendor_id)
        return redirect("billing:ticket_list")
    context["writes"] = list(batch.writes.select_related("acting_user").order_by("id"))
    response = render(request, "billing/_action_done.html", context)
    return trigger_client_event(response, "ticket-changed")


@tenant_member_required()
def ticket_comment(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Add a comment: subject, body, visibility → preview → confirm."""
    ticket = ticket_or_404(request, ticket_id)

    def plan(f, nonce):
        hidden, quiet = f.flags()
        return ticket_actions.comment_plan(
            connection=syncro_or_404(request),
            user=request.user,
            nonce=nonce,
            ticket=ticket,
            subject=f.cleaned_data["subject"],
            body=f.cleaned_data["body"],
            hidden=hidden,
            do_not_email=quiet,
        )

    form = billing_forms.CommentForm(request.POST or None)
    return _action(request, Action("comment", "Add a comment", form, plan, ticket, "comment"))


@tenant_member_required()
def ticket_update(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Change status, priority or assignee → preview (changed fields only) → confirm."""
    ticket = ticket_or_404(request, ticket_id)
    initial = {
        "status": ticket.status,
        "priority": ticket.priority,
        "user_id": ticket.user_vendor_id,
    }
    form = billing_forms.TicketUpdateForm(
        request.POST or None, tenant=request.tenant, initial=initial
    )

    def plan(f, nonce):
        return ticket_actions.ticket_update_plan(
            connection=syncro_or_404(request),
            user=request.user,
            nonce=nonce,
            ticket=ticket,
            changes=dict(f.cleaned_data),
        )

    title = "Change status, priority or technician"
    return _action(request, Action("update", title, form, plan, ticket, "ticket update"))


@tenant_member_required()
def ticket_close(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Close: resolution comment, then the closing status. The resolution starts as the session
    log's summary, which the person edits; what they post is what is sent."""
    ticket = ticket_or_404(request, ticket_id)
    summary = ticket_actions.session_log_summary(
        ticket=ticket, comments=selectors.ticket_comments(ticket, limit=None)
    )
    form = billing_forms.TicketCloseForm(
        request.POST or None, tenant=request.tenant, initial={"resolution": summary}
    )

    def plan(f, nonce):
        hidden, quiet = f.flags()
        return ticket_actions.ticket_close_plan(
            connection=syncro_or_404(request),
            user=request.user,
            nonce=nonce,
            ticket=ticket,
            status=f.cleaned_data["status"],
            resolution=f.cleaned_data["resolution"],
            hidden=hidden,
            do_not_email=quiet,
        )

    extra = {"offer_session_log": True}
    return _action(request, Action("close", "Close the ticket", form, plan, ticket, "close", extra))


@tenant_member_required()
def ticket_create(request: HttpRequest) -> HttpResponse:
    """Create a ticket: customer, subject, problem type, status, priority, technician, all asked."""
    tenant = request.tenant
    # A link may prefill customer, subject and problem type (e.g. from an unbilled job); the
    # person still sees every field and confirms the exact payload.
    prefill = {
        k: request.GET[k] for k in ("customer", "subject", "problem_type") if request.GET.get(k)
    }
    form = billing_forms.TicketCreateForm(request.POST or None, tenant=tenant, initial=prefill)

    def plan(f, nonce):
        d = f.cleaned_data
        customer = get_for_tenant_or_404(request, SyncroCustomer, vendor_id=d["customer"])
        return ticket_actions.ticket_create_plan(
            connection=syncro_or_404(request),
            user=request.user,
            nonce=nonce,
            customer=customer,
            subject=d["subject"],
            problem_type=d["problem_type"],
            status=d["status"],
            priority=d["priority"],
            user_id=d["user_id"],
        )

    extra = {"problem_types": lists.problem_types(tenant)}
    return _action(request, Action("create", "New ticket", form, plan, None, "new ticket", extra))


@tenant_member_required()
def session_log(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The ticket's session log as a Markdown download (seed /syncro "session logs")."""
    ticket = ticket_or_404(request, ticket_id)
    resolution = ""
    close_write = (
        VendorWrite.objects.filter(
            tenant=request.tenant,
            batch__kind=ticket_actions.BATCH_KIND,
            target__ticket_id=ticket.vendor_id,
            operation=COMMENT_CREATE,
            business_key__startswith=ticket_actions.action_key("close", ""),
        )
        .order_by("-created_at")
        .first()
    )
    if close_write is not None:
        resolution = close_write.payload.get("body", "")
    text = ticket_actions.session_log_markdown(
        ticket=ticket, comments=selectors.ticket_comments(ticket, limit=None), resolution=resolution
    )
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    return as_download(response, f"session-log-{ticket.number or ticket.vendor_id}.md")
