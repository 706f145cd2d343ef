"""Invoice per ticket: a ticket's approved line items gather on one invoice, approved on its own.

When the company's `Tenant.invoice_mode` is ``per_ticket``, approving a draft posts its comment
and line item only (`billing.approval.draft_plan` with ``invoice=False``) and the draft joins
its ticket's open `TicketInvoice` (`open_invoice_for`). The invoice's lines are the ticket's
approved drafts whose line item Syncro confirmed and that no invoice carries yet
(`invoice_lines`), from every technician. Approving it (`invoice_approve`, bound to its
`InvoiceReview.fingerprint` like a draft) queues, as one `WriteBatch`:

1. ``POST /invoices`` ``{"ticket_id", "customer_id", "category"}``: Syncro pulls every not yet
   invoiced line item of the ticket (seed /syncro "Create from ticket"); the write's target
   names the line-item writes it must carry (``lines``), and the handler checks with
   ``GET /invoices/{id}`` that every one transferred (`connectors.syncro.writes.InvoiceCreate`);
2. ``PUT /tickets/{id}`` ``{"status": "Invoiced"}``, once, after the invoice is confirmed.

Its key is the approver's own Syncro key, else the company's shared one (warned on the page).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import APPROVER_ROLES, ActorCredential, Membership
from billing import money
from billing.models import ApprovalEvent, BillingDraft, Decision, TicketInvoice
from billing.services import BillingError, PlanChanged
from connectors.outbox.plans import WritePlan, plan_actor
from connectors.outbox.services import plan_enqueue
from connectors.syncro.writes import INVOICE_CREATE, TICKET_UPDATE

INVOICE_CATEGORY = "Standard"  # seed /syncro "Create from ticket" body
INVOICED_STATUS = "Invoiced"
#: `WriteBatch.kind` of a ticket invoice's approval.
BATCH_KIND = "billing.invoice"


def open_invoice_for(draft: BillingDraft) -> TicketInvoice:
    """The pending `TicketInvoice` of `draft`'s ticket, made when there is none (one per
    ticket: a unique constraint, so two approvals at once still share one)."""
    lookup = {"tenant_id": draft.tenant_id, "ticket_vendor_id": draft.ticket_vendor_id}
    found = TicketInvoice.objects.filter(decision=Decision.PENDING, **lookup).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return TicketInvoice.objects.create(
                connection_id=draft.connection_id,
                ticket_number=draft.ticket_number,
                ticket_subject=draft.ticket_subject,
                customer_vendor_id=draft.customer_vendor_id,
                customer_name=draft.customer_name,
                **lookup,
            )
    except IntegrityError:
        return TicketInvoice.objects.get(decision=Decision.PENDING, **lookup)


def _approved_uninvoiced(invoice: TicketInvoice):
    return BillingDraft.objects.filter(
        tenant_id=invoice.tenant_id,
        ticket_vendor_id=invoice.ticket_vendor_id,
        decision=Decision.APPROVED,
        invoice_separately=True,
        ticket_invoice__isnull=True,
    ).select_related("batch", "drafted_by")


def invoice_lines(invoice: TicketInvoice) -> list[BillingDraft]:
    """The drafts a pending invoice would carry: approved, line item confirmed, not on another
    invoice (oldest first). Once approved: the drafts it carries."""
    if not invoice.is_pending:
        return list(invoice.drafts.select_related("batch", "drafted_by").order_by("created_at"))
    return list(_approved_uninvoiced(invoice).filter(batch__state="done").order_by("created_at"))


def invoice_waiting(invoice: TicketInvoice) -> list[BillingDraft]:
    """Approved drafts of the ticket whose line item is not confirmed yet (still being sent or
    waiting for a person): they join a later invoice, not this one."""
    if not invoice.is_pending:
        return []
    return list(_approved_uninvoiced(invoice).exclude(batch__state="done"))


@dataclass
class InvoiceLine:
    """One line of an invoice review: the draft, its hours and amount at its product's rate."""

    draft: BillingDraft
    per_hour: Decimal | None
    amount: Decimal | None


@dataclass
class InvoiceReview:
    """What an approver sees before approving a ticket's invoice, and what approving does."""

    invoice: TicketInvoice
    plan: WritePlan
    lines: list[InvoiceLine]
    waiting: list[BillingDraft]
    currency: str
    refusal: str = ""

    @property
    def total(self) -> Decimal | None:
        """Sum of the lines' amounts (None when one is not priced)."""
        amounts = [line.amount for line in self.lines]
        if not amounts or any(a is None for a in amounts):
            return None
        return sum(amounts, Decimal("0"))

    @property
    def actor(self) -> ActorCredential | None:
        return self.plan.actor

    @property
    def fingerprint(self) -> str:
        """SHA-256 over the plan, the drafts it carries and the total."""
        shape = f"{self.plan.fingerprint}|{[line.draft.uuid for line in self.lines]}|{self.total}"
        return hashlib.sha256(shape.encode()).hexdigest()


def invoice_plan(
    invoice: TicketInvoice, lines: list[BillingDraft], actor: ActorCredential | None
) -> WritePlan:
    """``POST /invoices`` (target ``lines`` = the business keys of the line-item writes it must
    carry) then ``PUT /tickets/{id}`` status Invoiced; keys ``invoice:<uuid>:<step>``."""
    plan = WritePlan(
        connection=invoice.connection,
        kind=BATCH_KIND,
        key=f"invoice:{invoice.uuid}",
        label=f"Invoice of #{invoice.ticket_number} ({len(lines)} line items)",
        subject={"ticket_id": invoice.ticket_vendor_id, "ticket_number": invoice.ticket_number},
        actor=actor,
    )
    target = {"ticket_id": invoice.ticket_vendor_id}
    created = plan.add(
        INVOICE_CREATE,
        {**target, "lines": [d.business_key("line_item") for d in lines]},
        {
            "ticket_id": invoice.ticket_vendor_id,
            "customer_id": invoice.customer_vendor_id,
            "category": INVOICE_CATEGORY,
        },
        "invoice",
    )
    plan.add(TICKET_UPDATE, target, {"status": INVOICED_STATUS}, "status", after=created)
    return plan


def invoice_review(invoice: TicketInvoice, user, *, role: str | None = None) -> InvoiceReview:
    """The `InvoiceReview` of `invoice` for `user` (their key, else the shared one)."""
    drafts = invoice_lines(invoice)
    prices = money.product_prices(invoice.tenant, [d.product_vendor_id for d in drafts])
    lines = [
        InvoiceLine(
            d,
            prices.get(d.product_vendor_id),
            money.amount(d.minutes, prices.get(d.product_vendor_id)),
        )
        for d in drafts
    ]
    actor = plan_actor(invoice.connection, user)
    review = InvoiceReview(
        invoice=invoice,
        plan=invoice_plan(invoice, drafts, actor),
        lines=lines,
        waiting=invoice_waiting(invoice),
        currency=invoice.tenant.currency,
    )
    try:
        _check_can_approve(invoice, user, role=role, lines=drafts)
    except (PermissionDenied, BillingError) as exc:
        review.refusal = str(exc)
    return review


def _check_can_approve(invoice: TicketInvoice, by, *, role=None, lines) -> None:
    if role is None:
        membership = Membership.objects.filter(
            tenant_id=invoice.tenant_id, user=by, is_active=True
        ).first()
        role = membership.role if membership else None
    if role not in APPROVER_ROLES:
        raise PermissionDenied("Your role cannot approve invoices.")
    if not invoice.is_pending:
        raise BillingError(
            f"This invoice is {invoice.get_status_display().lower()}, not awaiting approval."
        )
    if not lines:
        raise BillingError(
            "No approved line item of this ticket has reached Syncro yet: nothing to invoice."
        )


def invoice_approve(*, invoice: TicketInvoice, by, fingerprint: str | None) -> TicketInvoice:
    """Approve `invoice` as reviewed: in one transaction it becomes APPROVED, carries the
    drafts it listed, its two writes are queued and an APPROVED audit row is written; approved
    drafts still being sent move to a new open invoice of the ticket.

    Raises:
        PermissionDenied: not an approver of the invoice's tenant.
        BillingError: not pending, or no line item ready.
        PlanChanged: the review differs from the one shown (lines, amounts, key).
        NoCredential: no Syncro key for `by` and no shared one.
    """
    with transaction.atomic():
        invoice = (
            TicketInvoice.objects.select_for_update(of=("self",))
            .select_related("tenant", "connection")
            .get(pk=invoice.pk)
        )
        review = invoice_review(invoice, by)
        _check_can_approve(invoice, by, lines=[line.draft for line in review.lines])
        if fingerprint is not None and fingerprint != review.fingerprint:
            raise PlanChanged(
                "This invoice changed since you looked at it (a line item was added or its "
                "price or your Syncro key changed), so nothing was sent. Check it and approve "
                "again."
            )
        batch = plan_enqueue(review.plan, by=by)
        _record(invoice, review, batch, by)
    return invoice


def _record(invoice: TicketInvoice, review: InvoiceReview, batch, by) -> None:
    invoice.decision = Decision.APPROVED
    invoice.batch = batch
    invoice.approved_by, invoice.approved_at = by, timezone.now()
    invoice.approved = {
        "drafts": [str(line.draft.uuid) for line in review.lines],
        "total": None if review.total is None else str(review.total),
        "currency": review.currency,
        "writes": [
            {"operation": w.operation, "business_key": w.business_key, "payload": w.payload}
            for w in batch.writes.order_by("id")
        ],
    }
    invoice.save()
    BillingDraft.objects.filter(pk__in=[line.draft.pk for line in review.lines]).update(
        ticket_invoice=invoice
    )
    if review.waiting:
        open_invoice_for(review.waiting[0])
    ApprovalEvent.objects.create(
        tenant_id=invoice.tenant_id,
        ticket_invoice=invoice,
        ticket_vendor_id=invoice.ticket_vendor_id,
        ticket_number=invoice.ticket_number,
        kind=ApprovalEvent.Kind.APPROVED,
        actor=by,
        after={"invoice": str(invoice.uuid), **invoice.approved},
        note=f"invoice of {len(review.lines)} line item(s)",
    )


def pending_invoices(tenant):
    """The tenant's invoices waiting for approval, oldest first."""
    return TicketInvoice.objects.filter(tenant=tenant, decision=Decision.PENDING).order_by(
        "created_at"
    )
