"""Home-page cards of billing (named in `accounts.home.CARDS` and `STEPS`): drafts to approve
with their amount, a person's own drafts, tickets waiting on the customer for too long, and
whether labor types are mapped.

Bounded queries: `drafts_to_approve` makes four (totals grouped by product and minutes, prices,
per-drafter counts, the oldest), `my_drafts` one, `waiting_on_customer` two.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, Min, Q
from django.db.models.functions import Upper
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince

from accounts.home import Bar, Card
from accounts.paging import COUNT_CAP, capped_count
from billing.models import BillingDraft, LaborType
from billing.selectors import queue_drafts, queue_totals
from billing.templatetags.billing_tags import money
from connectors.syncro.models import SyncroTicket

#: The Syncro status the "waiting on customer" card counts (matched case-insensitively; seed
#: /syncro "Ticket statuses").
WAITING_STATUS = "Waiting on Customer"
BARS_SHOWN = 5
ITEMS_SHOWN = 3


def labor_types_mapped(request: HttpRequest) -> bool:
    """Whether any labor type of the request's company is mapped to a Syncro product."""
    return LaborType.objects.filter(tenant=request.tenant, product_vendor_id__isnull=False).exists()


def drafts_to_approve(request: HttpRequest) -> Card | None:
    """Drafts pending approval: how many, their amount as Syncro will price them and their
    hours (`billing.selectors.queue_totals`), the oldest one's age, and a bar per drafter."""
    tenant = request.tenant
    pending = queue_drafts(tenant, status=BillingDraft.Status.PENDING)
    more = capped_count(pending, COUNT_CAP) > COUNT_CAP
    totals = queue_totals(tenant, pending, cap=COUNT_CAP, capped=more)
    by_person = (
        pending.order_by()
        .values("drafted_by__first_name", "drafted_by__last_name", "drafted_by__email")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    bars = [
        Bar(
            f"{p['drafted_by__first_name']} {p['drafted_by__last_name']}".strip()
            or p["drafted_by__email"]
            or "Nobody",
            p["n"],
            f"{p['n']} draft{'s' if p['n'] != 1 else ''}",
        )
        for p in by_person[:BARS_SHOWN]
    ]
    figure = ""
    reason = "Nothing waits for approval."
    if totals.count:
        figure = f"{money(totals.amount, tenant.currency)} · {totals.hours:.2f} h"
        oldest = pending.aggregate(m=Min("created_at"))["m"]
        reason = f"Oldest waiting {timesince(oldest)}."
        if totals.unpriced:
            reason += f" {totals.unpriced} without a price (labor type not priced)."
        if totals.capped:
            reason += f" More than {COUNT_CAP:,} wait: the figures are the oldest {COUNT_CAP:,}'s."
    return Card(
        key="drafts_to_approve",
        title="Drafts to approve",
        count=totals.count,
        reason=reason,
        url=f"{reverse('billing:queue')}?status=pending&filtered=1",
        figure=figure,
        attention=bool(totals.count),
        bars=bars if len(bars) > 1 else [],
    )


def my_drafts(request: HttpRequest) -> Card | None:
    """The signed-in person's own open drafts: pending approval and needing attention."""
    S = BillingDraft.Status
    counts = BillingDraft.objects.filter(
        tenant=request.tenant, drafted_by=request.user
    ).status_counts()
    pending, attention = counts[S.PENDING], counts[S.NEEDS_ATTENTION]
    parts = [f"{pending} waiting for approval"] if pending else []
    if attention:
        parts.append(f"{attention} need{'s' if attention == 1 else ''} your attention")
    if counts[S.APPROVED]:
        parts.append(f"{counts[S.APPROVED]} being sent")
    query = urlencode({"technician": request.user.pk, "filtered": 1})
    return Card(
        key="my_drafts",
        title="Your drafts",
        count=pending + attention,
        reason=("; ".join(parts) + ".") if parts else "You have no open drafts.",
        url=f"{reverse('billing:queue')}?{query}",
        attention=bool(attention),
    )


def waiting_days() -> int:
    """Days without a change after which a "Waiting on Customer" ticket is shown
    (``HOME_WAITING_ON_CUSTOMER_DAYS``, default 3)."""
    return int(getattr(settings, "HOME_WAITING_ON_CUSTOMER_DAYS", 3))


def waiting_on_customer(request: HttpRequest) -> Card | None:
    """Syncro tickets in "Waiting on Customer" with no change for `waiting_days()` days (by the
    ticket's ``updated_at`` in the mirror), out of all waiting, and the oldest few. None when
    the company has no Syncro mirror."""
    days = waiting_days()
    cutoff = timezone.now() - dt.timedelta(days=days)
    # UPPER(status) =, not status__iexact (LIKE on SQLite, UPPER(status::text) on PostgreSQL):
    # the form the (tenant, UPPER(status), vendor_updated_at) index of live tickets answers
    waiting = SyncroTicket.objects.alias(status_upper=Upper("status")).filter(
        tenant=request.tenant, is_deleted=False, status_upper=WAITING_STATUS.upper()
    )
    figures = waiting.aggregate(
        total=Count("id"), stale=Count("id", filter=Q(vendor_updated_at__lt=cutoff))
    )
    if not figures["total"] and not _has_tickets(request):
        return None
    oldest = waiting.filter(vendor_updated_at__lt=cutoff).order_by("vendor_updated_at")
    items = [
        (
            f"#{t.number} {t.subject[:50]} · {t.customer_name} · {timesince(t.vendor_updated_at)}",
            reverse("billing:ticket_detail", args=[t.vendor_id]),
        )
        for t in oldest[:ITEMS_SHOWN]
    ]
    return Card(
        key="waiting_on_customer",
        title="Waiting on customer",
        count=figures["stale"],
        reason=f"No change for over {days} days ({figures['total']} waiting in all): "
        "time to chase them.",
        url=f"{reverse('billing:ticket_list')}?"
        + urlencode({"status": WAITING_STATUS, "idle_days": days}),
        attention=bool(figures["stale"]),
        items=items,
    )


def _has_tickets(request: HttpRequest) -> bool:
    return SyncroTicket.objects.filter(tenant=request.tenant).exists()
