"""Home-page cards of the billing app (read by accounts.views.home)."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from billing.models import BillingDraft


def home_cards(request: HttpRequest) -> list[dict]:
    """``[{label, value, note, url}]``: drafts to approve, and drafts needing a person."""
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return []
    S = BillingDraft.Status
    by_status = BillingDraft.objects.filter(tenant=tenant).status_counts()
    counts = {
        "pending": by_status[S.PENDING],
        "attention": by_status[S.NEEDS_ATTENTION],
        "sending": by_status[S.APPROVED],
    }
    queue = reverse("billing:queue")
    return [
        {
            "label": "Drafts to approve",
            "value": counts["pending"],
            "note": f"{counts['sending']} being sent to Syncro"
            if counts["sending"]
            else "Billing queue",
            "url": f"{queue}?status=pending&filtered=1",
        },
        {
            "label": "Billing needs attention",
            "value": counts["attention"],
            "note": "Syncro refused or could not confirm a step"
            if counts["attention"]
            else "Nothing waiting",
            "url": f"{queue}?status=needs_attention&filtered=1",
        },
    ]
