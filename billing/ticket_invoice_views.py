"""The page of a ticket's invoice to approve (the company invoices per ticket,
`billing.invoicing`): its lines with hours and amounts, the exact writes, whose key; POST
approves it as shown."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.access import get_for_tenant_or_404, tenant_member_required
from accounts.models import NoCredential
from billing import invoicing
from billing.models import TicketInvoice
from billing.services import BillingError


def _invoice(request: HttpRequest, invoice_uuid) -> TicketInvoice:
    return get_for_tenant_or_404(
        request,
        TicketInvoice.objects.select_related("tenant", "connection", "batch", "approved_by"),
        uuid=invoice_uuid,
    )


def _approve(request: HttpRequest, invoice: TicketInvoice) -> str:
    """Approve from the posted form; the refusal's sentence, or ""."""
    _, _, fingerprint = request.POST.get("plan", "").partition(":")
    try:
        invoicing.invoice_approve(invoice=invoice, by=request.user, fingerprint=fingerprint)
    except (BillingError, NoCredential) as exc:
        return str(exc)
    return ""


@tenant_member_required()
def ticket_invoice(request: HttpRequest, invoice_uuid) -> HttpResponse:
    """A ticket's invoice: lines (drafts whose line item is on Syncro) with amounts and the
    total, drafts still being sent, the ``POST /invoices`` and status writes and whose key.
    POST (approvers) approves it bound to the review's fingerprint."""
    invoice = _invoice(request, invoice_uuid)
    if request.method == "POST":
        error = _approve(request, invoice)
        if error:
            messages.error(request, error)
        else:
            messages.success(request, f"Invoice of #{invoice.ticket_number} approved: sending.")
        return redirect("billing:ticket_invoice", invoice_uuid=invoice.uuid)
    review = invoicing.invoice_review(invoice, request.user, role=request.membership.role)
    writes = list(invoice.batch.writes.order_by("id")) if invoice.batch_id else []
    context = {
        "invoice": invoice,
        "review": review,
        "writes": writes,
        "currency": request.tenant.currency,
    }
    return render(request, "billing/ticket_invoice.html", context)
