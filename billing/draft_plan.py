"""The writes a draft's approval sends (`draft_plan`) and whose Syncro key sends them
(`draft_actor`, by the company's `Tenant.billing_attribution`).

Seed /syncro "Billing workflow" steps 4–8: comment → line item → invoice → status Invoiced,
each only after the previous is confirmed; with `Tenant.invoice_mode` per ticket only comment →
line item (the ticket's invoice is approved on its own, `billing.invoicing`). Attribution rule:
the work is attributed to the person who did it (the drafter's key) unless the company chose
the approver's; either falls back to the shared key, which the pages warn about.
"""

from __future__ import annotations

from accounts.models import ActorCredential, BillingAttribution, InvoiceMode, Tenant
from billing.models import BillingDraft, minutes_to_hours
from billing.ticket_actions import comment_payload
from connectors.models import Connection
from connectors.outbox.plans import WritePlan, plan_actor
from connectors.syncro.writes import (
    COMMENT_CREATE,
    INVOICE_CREATE,
    LINE_ITEM_CREATE,
    TICKET_UPDATE,
)

INVOICE_CATEGORY = "Standard"  # seed /syncro "Create from ticket" body
INVOICED_STATUS = "Invoiced"
#: `WriteBatch.kind` of a draft's approval.
BATCH_KIND = "billing.draft"


# --- the plan --------------------------------------------------------------------------------
def draft_plan(
    draft: BillingDraft,
    *,
    actor: ActorCredential | None | bool = True,
    invoice: bool | None = None,
) -> WritePlan:
    """The writes approving `draft` will queue, chained (seed /syncro "Billing workflow" steps
    4–8): comment → line item → invoice → status Invoiced; with `invoice` False only comment →
    line item (the ticket's invoice is approved on its own, `billing.invoicing`). Business keys
    are ``<draft.plan_key>:<step>``; steps Syncro confirmed in an earlier approval that a person
    corrected (`BillingDraft.done_steps`) are left out, never sent twice.

    The line item is ``{"product_id", "quantity" (decimal hours), "name", "description",
    "taxable": false}``; no ``price_retail`` so Syncro prices from the product.

    Args:
        actor: whose key will send them; True (default) = none chosen yet (`draft_actor` picks
            the one the company's attribution setting names).
        invoice: None = the company's `Tenant.invoice_mode`.
    """
    if invoice is None:
        invoice = draft.tenant.invoice_mode != InvoiceMode.PER_TICKET
    plan = WritePlan(
        connection=draft.connection,
        kind=BATCH_KIND,
        key=draft.plan_key,
        label=f"{draft.minutes} min {draft.get_labor_type_display()} on #{draft.ticket_number}",
        subject={"ticket_id": draft.ticket_vendor_id, "ticket_number": draft.ticket_number},
        actor=None if actor is True or actor is False else actor,
    )
    done = draft.done_steps
    target = {"ticket_id": draft.ticket_vendor_id}
    previous = None
    if "comment" not in done:
        previous = plan.add(
            COMMENT_CREATE,
            target,
            comment_payload(
                subject=draft.comment_subject,
                body=draft.comment_body,
                hidden=draft.comment_hidden,
                do_not_email=draft.comment_do_not_email,
            ),
            "comment",
        )
    if "line_item" not in done:
        previous = plan.add(
            LINE_ITEM_CREATE,
            target,
            {
                "product_id": draft.product_vendor_id,
                "quantity": float(minutes_to_hours(draft.minutes)),
                "name": draft.product_name,
                "description": draft.line_description,
                "taxable": False,
            },
            "line_item",
            after=previous,
        )
    if not invoice:
        return plan
    if "invoice" not in done:
        # a line item sent by an earlier approval is named, so the invoice is checked for it
        lines = {"lines": [draft.business_key("line_item")]} if "line_item" in done else {}
        previous = plan.add(
            INVOICE_CREATE,
            {**target, **lines},
            {
                "ticket_id": draft.ticket_vendor_id,
                "customer_id": draft.customer_vendor_id,
                "category": INVOICE_CATEGORY,
            },
            "invoice",
            after=previous,
        )
    if "status" not in done:
        plan.add(TICKET_UPDATE, target, {"status": INVOICED_STATUS}, "status", after=previous)
    return plan


def draft_actor(
    draft: BillingDraft, approver, *, memo: dict | None = None
) -> ActorCredential | None:
    """Whose Syncro key sends `draft`'s writes when `approver` approves it: the drafter's own
    key (`BillingAttribution.DRAFTER`, the default and the runbook's attribution rule) or the
    approver's, else the company's shared key, else None.

    `memo` (a dict the caller keeps for one page) answers the same (connection, person) again
    without a query: a page of 50 drafts by three people looks up three keys, not 50."""
    who = approver
    if draft.tenant.billing_attribution == BillingAttribution.DRAFTER:
        who = draft.drafted_by
    if memo is None:
        return plan_actor(draft.connection, who)
    key = (draft.connection_id, getattr(who, "pk", None))
    if key not in memo:
        memo[key] = plan_actor(draft.connection, who)
    return memo[key]


def draft_plan_for(draft: BillingDraft, user, *, memo: dict | None = None) -> WritePlan:
    """`draft_plan` with the key `draft_actor` picks when `user` approves (`memo`: see there)."""
    return draft_plan(draft, actor=draft_actor(draft, user, memo=memo))


def approval_credential(tenant: Tenant, user) -> ActorCredential | None:
    """The key `user`'s own approvals would use under the approver setting (None: no key)."""
    connection = Connection.objects.filter(tenant=tenant, vendor="syncro").first()
    if connection is None:
        return None
    return plan_actor(connection, user)
