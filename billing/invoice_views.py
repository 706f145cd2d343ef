"""The invoice page: a Syncro invoice as the mirror holds it (number, date, customer, paid or
not, its lines with amounts, subtotal, tax and total), linked from the draft that created it,
the ticket and the billing queue.

Invoices are addressed by their Syncro id, scoped to the active tenant: another tenant's or an
unknown id is a 404. An invoice the portal created but the mirror does not hold yet (its
write-through failed, waiting for the next sync) gets a page that says so.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import tenant_member_required
from billing.invoices import invoice_page


@tenant_member_required()
def invoice_detail(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """One invoice of the active tenant (404 for another tenant's or an unknown one)."""
    page = invoice_page(request.tenant, invoice_id)
    if page is None:
        raise Http404("No such invoice.")
    draft = getattr(page.write.batch, "draft", None) if page.write is not None else None
    context = {"p": page, "draft": draft, "currency": request.tenant.currency}
    return render(request, "billing/invoice_detail.html", context)
