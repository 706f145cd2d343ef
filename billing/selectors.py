"""Read-side queries of the billing pages (no writes, no vendor I/O).

The ticket list must stay at a fixed number of queries whatever the page size (issue 5 item 1):
`ticket_page_states` computes every row's billing state with three grouped queries over the
page's ticket ids, never one query per row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.utils import timezone

from accounts.models import Tenant
from billing.lists import CLOSED_STATUSES, NOT_CLOSED
from billing.models import ApprovalEvent, BillingDraft, minutes_to_hours
from connectors.fts import fts_filter
from connectors.models import Connection
from connectors.syncro.models import (
    SyncroContact,
    SyncroCustomer,
    SyncroLineItem,
    SyncroTicket,
    SyncroTicketComment,
    SyncroTimerEntry,
)

COMMENTS_SHOWN = 5  # seed /syncro "Comments (most recent first, truncated to last 5)"


def syncro_connection(tenant: Tenant) -> Connection | None:
    """The tenant's Syncro connection (one per tenant), or None when not set up."""
    return Connection.objects.for_tenant(tenant).enabled().of("syncro").first()


def queue_drafts(
    tenant: Tenant,
    *,
    status: str = "",
    technician: str | int | None = None,
    customer: str | int | None = None,
    age: str | int | None = None,
) -> QuerySet[BillingDraft]:
    """The billing queue: open drafts (pending, or a write needing a person) unless `status`
    names one (`BillingDraft.Status` value, or "all"); `technician` = drafter's user id,
    `customer` = Syncro customer id, `age` = older than this many days. Oldest first.

    The rows come with what a queue row shows and its review reads: drafter, batch and
    connection; not `tenant` (the caller has it: `with_tenant` sets it on a page of drafts
    without 50 joined copies)."""
    qs = BillingDraft.objects.filter(tenant=tenant).select_related(
        "drafted_by", "batch", "connection"
    )
    if status == "all":
        pass
    elif status:
        qs = qs.in_status(status)
    else:
        qs = qs.open()
    if technician:
        qs = qs.filter(drafted_by_id=technician)
    if customer:
        qs = qs.filter(customer_vendor_id=customer)
    if age:
        qs = qs.filter(created_at__lt=timezone.now() - dt.timedelta(days=int(age)))
    return qs.order_by("created_at", "id")


def with_tenant(drafts: list[BillingDraft], tenant: Tenant) -> list[BillingDraft]:
    """`drafts` (all of `tenant`), each with `tenant` set as its and its connection's tenant,
    so reviewing them reads no tenant row again. Returns the same list."""
    for draft in drafts:
        if draft.tenant_id != tenant.pk:
            raise ValueError(f"draft {draft.pk} is not of tenant {tenant.pk}")
        draft.tenant = tenant
        if draft.connection_id is not None and draft.connection.tenant_id == tenant.pk:
            draft.connection.tenant = tenant
    return drafts


@dataclass(frozen=True)
class QueueTotals:
    """What the queue's filters select: how many drafts, hours and amount (Decimal, None
    when no draft is priced); `unpriced` counts drafts whose product has no price; `capped`:
    the selection holds more drafts than the cap and these are the totals of its first ones
    (the queue's order, oldest first)."""

    count: int
    hours: Decimal
    amount: Decimal | None
    unpriced: int
    capped: bool = False


def queue_totals(
    tenant: Tenant, qs: QuerySet[BillingDraft], *, cap: int, capped: bool = False
) -> QueueTotals:
    """`QueueTotals` of the filtered queue `qs` in one grouped query over at most its first
    `cap` drafts in the queue's order (`capped`: the caller's paginator counted more, and the
    totals say so): each draft is priced as Syncro will (its hours rounded to 0.01, × its
    product's rate, to the cent)."""
    from billing import money

    first = qs.order_by("created_at", "id").values("pk")[:cap]
    groups = list(
        BillingDraft.objects.filter(pk__in=Subquery(first))
        .order_by()
        .values("product_vendor_id", "minutes")
        .annotate(n=Count("id"))
        .values_list("product_vendor_id", "minutes", "n")
    )
    prices = money.product_prices(tenant, [g[0] for g in groups])
    count, hours, amount, unpriced = 0, Decimal("0"), Decimal("0"), 0
    for product, minutes, n in groups:
        count += n
        hours += minutes_to_hours(minutes) * n
        line = money.amount(minutes, prices.get(product))
        if line is None:
            unpriced += n
        else:
            amount += line * n
    priced = count - unpriced
    return QueueTotals(count, hours, amount if priced else None, unpriced, capped)


def invoices_to_approve(tenant: Tenant, user, *, role: str | None = None) -> list:
    """The tenant's ticket invoices waiting for approval, each as its `InvoiceReview`."""
    from billing import invoicing

    return [
        invoicing.invoice_review(inv, user, role=role)
        for inv in invoicing.pending_invoices(tenant).select_related("tenant", "connection")
    ]


def writes_by_draft(drafts: list[BillingDraft]) -> dict:
    """``{draft uuid: [VendorWrite, …]}`` for the approved drafts among `drafts`, one query."""
    from connectors.outbox.models import VendorWrite

    by_batch = {d.batch_id: d.uuid for d in drafts if d.batch_id}
    out: dict = {}
    if by_batch:
        for w in VendorWrite.objects.filter(batch_id__in=list(by_batch)).order_by("id"):
            out.setdefault(by_batch[w.batch_id], []).append(w)
    return out


@dataclass
class TicketFilters:
    """The ticket list's filters, as read from the query string (all optional).

    `status` is an account status or "Not Closed"; `customer` and `technician` are Syncro ids;
    `created_from` / `created_to` are inclusive dates on the ticket's Syncro creation time;
    `idle_days` keeps tickets whose Syncro ``updated_at`` is more than that many days ago.
    """

    q: str = ""
    status: str = ""
    customer: int | None = None
    technician: int | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    unbilled: bool = False
    idle_days: int | None = None


def unbilled_timers(tenant: Tenant) -> QuerySet[SyncroTimerEntry]:
    """Billable timer entries not yet charged (Syncro ``recorded: false``)."""
    return SyncroTimerEntry.objects.filter(
        tenant=tenant, is_deleted=False, billable=True, recorded=False
    )


#: the tickets' FTS5 trigram table on SQLite (number, subject, customer name; migration
#: syncro 0008)
TICKET_FTS = "syncro_ticket_fts"


def ticket_queryset(tenant: Tenant, filters: TicketFilters) -> QuerySet[SyncroTicket]:
    """The tenant's live tickets matching `filters`, newest first (`ticket_querysets`' list)."""
    return ticket_querysets(tenant, filters)[0]


def ticket_querysets(
    tenant: Tenant, filters: TicketFilters
) -> tuple[QuerySet[SyncroTicket], QuerySet | None]:
    """``(tickets, counted)``: the tenant's live tickets matching `filters`, newest first,
    and a queryset with as many rows that is cheaper to count (None: count the tickets).

    Every filter is led by tenant and matches one of the mirror's indexes (status, customer,
    technician, created), ordered by ``-vendor_created_at`` like those indexes. ``#32164`` looks
    up the number only (number index); bare digits match the number or the subject; other text
    is a case-insensitive substring of number, subject or customer name (on SQLite from
    `TICKET_FTS` when 3 characters or more, `connectors.fts.fts_filter`; else ``icontains``,
    which PostgreSQL answers from its trigram indexes).

    With "Unbilled time" the list is the few tickets with an unbilled timer, and `counted`
    reads them from the unbilled-timers index (`sx_tmr_unb`): one row per ticket
    ``(connection, ticket id)``, each checked against the other filters through the ticket's
    unique key. Counting the tickets side made PostgreSQL hash-join a scan of half the
    tickets (14 ms at 100 000). The other filters are built once for both.
    """
    # ``is_deleted = false`` as a comparison, not Django's ``NOT is_deleted``: SQLite reads
    # only a comparison as an equality on the list index (tenant, is_deleted, -created, -id),
    # walks it in order and stops at the page; the ``NOT`` form sorted all 100 000 tickets
    # for "Not Closed" and text searches (40-50 ms against 1-2 ms)
    qs = SyncroTicket.objects.filter(tenant=tenant, is_deleted=Value(False))
    if filters.status == NOT_CLOSED:
        qs = qs.exclude(status__in=CLOSED_STATUSES)
    elif filters.status:
        qs = qs.filter(status=filters.status)
    if filters.customer is not None:
        qs = qs.filter(customer_vendor_id=filters.customer)
    if filters.technician is not None:
        qs = qs.filter(user_vendor_id=filters.technician)
    if filters.created_from:
        qs = qs.filter(vendor_created_at__gte=_start_of(filters.created_from))
    if filters.created_to:
        qs = qs.filter(vendor_created_at__lt=_start_of(filters.created_to + dt.timedelta(days=1)))
    if filters.idle_days:
        qs = qs.filter(vendor_updated_at__lt=timezone.now() - dt.timedelta(days=filters.idle_days))
    text = filters.q.strip()
    if text:
        number = text.lstrip("#").strip()
        if text.startswith("#") and number.isdigit():
            qs = qs.filter(number=number)  # the (tenant, number) index
        elif number.isdigit():
            qs = qs.filter(Q(number=number) | Q(subject__icontains=text))
        elif connection.vendor == "sqlite" and len(text) >= 3:
            # the FTS5 trigram table (migration syncro 0008), not a LIKE scan of every ticket
            qs = fts_filter(qs, fts=TICKET_FTS, tenant_id=tenant.pk, q=text, scan=qs.search(text))
        else:
            qs = qs.search(text)  # PostgreSQL: ILIKE answered by the pg_trgm indexes
    counted = None
    if filters.unbilled:
        match = qs.order_by().filter(
            connection_id=OuterRef("connection_id"), vendor_id=OuterRef("ticket_vendor_id")
        )
        counted = (
            unbilled_timers(tenant)
            .filter(Exists(match))
            .order_by()
            .values("ticket_vendor_id", "connection_id")  # the index's order: streamed DISTINCT
            .distinct()
        )
        qs = qs.filter(vendor_id__in=unbilled_timers(tenant).order_by().values("ticket_vendor_id"))
    return qs.order_by("-vendor_created_at", "-vendor_id"), counted


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@dataclass
class BillingState:
    """A ticket's billing state as shown in the list: `key` for the badge, `label` in words."""

    key: str
    label: str
    unbilled_minutes: int = 0
    drafts: dict[str, int] = field(default_factory=dict)


def ticket_page_states(tenant: Tenant, tickets: list[SyncroTicket]) -> dict[int, BillingState]:
    """Billing state of each ticket of one page, in three queries whatever the page size.

    Returns ``{ticket vendor_id: BillingState}``. Precedence: a draft needing attention, a draft
    pending approval, a draft being sent, unbilled timer time, ticket charges not on an invoice,
    invoiced, nothing.
    """
    ids = [t.vendor_id for t in tickets]
    if not ids:
        return {}
    drafts: dict[int, dict[str, int]] = {}
    for tid, status, n in (
        BillingDraft.objects.filter(tenant=tenant, ticket_vendor_id__in=ids)
        .with_status()
        .values_list("ticket_vendor_id", "status_value")
        .annotate(n=Count("id"))
        .order_by()
    ):
        drafts.setdefault(tid, {})[status] = n
    unbilled: dict[int, int] = dict(
        unbilled_timers(tenant)
        .filter(ticket_vendor_id__in=ids)
        .values_list("ticket_vendor_id")
        .annotate(seconds=Sum("active_duration"))
        .order_by()
    )
    charges: dict[int, tuple[int, int]] = {
        tid: (open_n, invoiced_n)
        for tid, open_n, invoiced_n in SyncroLineItem.objects.filter(
            tenant=tenant, is_deleted=False, ticket_vendor_id__in=ids
        )
        .values_list("ticket_vendor_id")
        .annotate(
            open_n=Count("id", filter=Q(invoice_vendor_id__isnull=True)),
            invoiced_n=Count("id", filter=Q(invoice_vendor_id__isnull=False)),
        )
        .order_by()
    }
    out: dict[int, BillingState] = {}
    S = BillingDraft.Status
    for t in tickets:
        d = drafts.get(t.vendor_id, {})
        minutes = int((unbilled.get(t.vendor_id) or 0) // 60)
        open_n, invoiced_n = charges.get(t.vendor_id, (0, 0))
        if d.get(S.NEEDS_ATTENTION):
            state = BillingState("needs_review", "Needs attention")
        elif d.get(S.PENDING):
            n = d[S.PENDING]
            state = BillingState("pending", f"{n} draft{'s' if n > 1 else ''} to approve")
        elif d.get(S.APPROVED):
            state = BillingState("in_flight", "Sending to Syncro")
        elif t.vendor_id in unbilled:
            state = BillingState("warning", f"Unbilled time {minutes} min")
        elif open_n:
            state = BillingState("info", "Charges not invoiced")
        elif invoiced_n or d.get(S.INVOICED) or t.status == "Invoiced":
            state = BillingState("success", "Invoiced")
        else:
            state = BillingState("", "No charges")
        state.unbilled_minutes = minutes
        state.drafts = d
        out[t.vendor_id] = state
    return out


def customer_choices(tenant: Tenant, limit: int = 2000) -> list[tuple[int, str]]:
    """(Syncro id, name) of the tenant's active customers, by name (one query)."""
    return list(
        SyncroCustomer.objects.filter(tenant=tenant, is_deleted=False, disabled=False)
        .order_by("name")
        .values_list("vendor_id", "name")[:limit]
    )


@dataclass
class TicketDetail:
    """What the ticket page shows besides the ticket row itself."""

    contact: SyncroContact | None
    customer: SyncroCustomer | None
    comments: list[SyncroTicketComment]
    comment_count: int
    line_items: list[SyncroLineItem]
    timers: list[SyncroTimerEntry]
    drafts: list[BillingDraft]
    events: list[ApprovalEvent]


def ticket_comments(ticket: SyncroTicket, *, limit: int | None = COMMENTS_SHOWN):
    """The ticket's mirrored comments, most recent first (`limit` None = all)."""
    qs = SyncroTicketComment.objects.filter(
        connection_id=ticket.connection_id, ticket_vendor_id=ticket.vendor_id, is_deleted=False
    ).order_by("-vendor_created_at", "-vendor_id")
    return list(qs if limit is None else qs[:limit])


def ticket_detail(ticket: SyncroTicket) -> TicketDetail:
    """Contact, customer, last comments, line items, timers, drafts and timeline of `ticket`."""
    conn = ticket.connection_id
    contact = (
        SyncroContact.objects.filter(connection_id=conn, vendor_id=ticket.contact_vendor_id).first()
        if ticket.contact_vendor_id
        else None
    )
    customer = (
        SyncroCustomer.objects.filter(
            connection_id=conn, vendor_id=ticket.customer_vendor_id
        ).first()
        if ticket.customer_vendor_id
        else None
    )
    comment_count = SyncroTicketComment.objects.filter(
        connection_id=conn, ticket_vendor_id=ticket.vendor_id, is_deleted=False
    ).count()
    return TicketDetail(
        contact=contact,
        customer=customer,
        comments=ticket_comments(ticket),
        comment_count=comment_count,
        line_items=list(
            SyncroLineItem.objects.filter(
                connection_id=conn, ticket_vendor_id=ticket.vendor_id, is_deleted=False
            )
        ),
        timers=list(
            SyncroTimerEntry.objects.filter(
                connection_id=conn, ticket_vendor_id=ticket.vendor_id, is_deleted=False
            ).order_by("-start_time")
        ),
        drafts=list(
            BillingDraft.objects.filter(
                tenant_id=ticket.tenant_id, ticket_vendor_id=ticket.vendor_id
            ).select_related("drafted_by", "approved_by")
        ),
        events=ticket_timeline(ticket.tenant_id, ticket.vendor_id),
    )


def ticket_timeline(tenant_id: int, ticket_vendor_id: int, limit: int = 100) -> list[ApprovalEvent]:
    """The ticket's audit events, newest first."""
    return list(
        ApprovalEvent.objects.filter(tenant_id=tenant_id, ticket_vendor_id=ticket_vendor_id)
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )


@dataclass
class InvoiceLine:
    source: str  # "ticket charge" | "draft"
    name: str
    description: str
    quantity: float
    unit_price: float | None
    draft: BillingDraft | None = None

    @property
    def amount(self) -> float | None:
        return None if self.unit_price is None else round(self.quantity * self.unit_price, 2)


@dataclass
class InvoicePreview:
    """What ``POST /invoices`` for this ticket would pull in: the ticket's charges not on an
    invoice yet, plus the drafts waiting or being sent. Prices are the mirrored products'
    ``price_retail`` (Syncro prices the line from the product; this is an estimate)."""

    ticket: SyncroTicket | None
    lines: list[InvoiceLine]

    @property
    def total(self) -> float:
        return round(sum(line.amount or 0 for line in self.lines), 2)

    @property
    def has_unpriced(self) -> bool:
        return any(line.unit_price is None for line in self.lines)


def invoice_preview(tenant: Tenant, ticket_vendor_id: int) -> InvoicePreview:
    from connectors.syncro.models import SyncroProduct

    ticket = SyncroTicket.objects.filter(tenant=tenant, vendor_id=ticket_vendor_id).first()
    charges = list(
        SyncroLineItem.objects.filter(
            tenant=tenant,
            ticket_vendor_id=ticket_vendor_id,
            invoice_vendor_id__isnull=True,
            is_deleted=False,
        )
    )
    drafts = list(
        BillingDraft.objects.filter(tenant=tenant, ticket_vendor_id=ticket_vendor_id)
        .in_status(BillingDraft.Status.PENDING, BillingDraft.Status.APPROVED)
        .order_by("created_at")
    )
    product_ids = {c.product_vendor_id for c in charges} | {d.product_vendor_id for d in drafts}
    prices = dict(
        SyncroProduct.objects.filter(tenant=tenant, vendor_id__in=product_ids).values_list(
            "vendor_id", "price_retail"
        )
    )
    lines = [
        InvoiceLine(
            "ticket charge",
            c.name or c.item,
            "",
            float(c.quantity or 0),
            float(c.price) if c.price is not None else _price(prices.get(c.product_vendor_id)),
        )
        for c in charges
    ]
    lines += [
        InvoiceLine(
            "draft",
            d.product_name,
            d.line_description,
            float(d.quantity),
            _price(prices.get(d.product_vendor_id)),
            draft=d,
        )
        for d in drafts
    ]
    return InvoicePreview(ticket, lines)


def _price(value) -> float | None:
    return float(value) if value is not None else None


def ticket_writes(ticket: SyncroTicket, limit: int = 50) -> list:
    """Every vendor write the portal made for `ticket`, newest first: its drafts' four writes,
    the ticket actions (comments, status changes, closing), timer charges, anything whose
    target is the ticket, and the ``POST /tickets`` that created it (one query)."""
    from connectors.outbox.models import VendorWrite
    from connectors.syncro.writes import TICKET_CREATE

    return list(
        VendorWrite.objects.filter(tenant_id=ticket.tenant_id, connection_id=ticket.connection_id)
        .filter(
            Q(target__ticket_id=ticket.vendor_id)
            | Q(operation=TICKET_CREATE, remote_id=str(ticket.vendor_id))
        )
        .select_related("batch")
        .order_by("-created_at", "-id")[:limit]
    )


def writes_in_flight(writes: list) -> bool:
    """True while any of `writes` belongs to a batch still on its way (`WriteBatch` OPEN: some
    write not confirmed and none waiting for a person): the pages showing them poll."""
    from connectors.outbox.models import WriteBatch

    return any(w.batch.state == WriteBatch.State.OPEN for w in writes)
