"""Billing drafts: saving and editing them, rejecting them, labor types and the drafts' audit
rows (HackSoft-style services). Approving is `billing.approval`; a ticket's own invoice is
`billing.invoicing`; ticket actions are `billing.ticket_actions`.

Seed /syncro hard rules kept here:

* "always ask minutes and labor type": `draft_create` requires both (no defaults in the form).
* one draft per piece of work: a form's one-time token (`form_nonce`) makes a double or triple
  submit save one draft; a draft of the same ticket, minutes and labor type as another open or
  sent draft of the last 7 days, or on a ticket already Invoiced, is saved with a
  `duplicate_warning` that approval asks to confirm (`duplicate_warning_for`).
* every change writes its `ApprovalEvent` in the same transaction (`draft_event`).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import APPROVER_ROLES, Membership, Tenant
from billing.models import (
    ApprovalEvent,
    BillingDraft,
    Decision,
    LaborKind,
    LaborType,
)
from connectors.models import Connection
from connectors.syncro.models import SyncroProduct, SyncroTicket

INVOICED_STATUS = "Invoiced"
#: How far back a draft of the same work counts as a possible duplicate.
DUPLICATE_WINDOW = dt.timedelta(days=7)


class BillingError(Exception):
    """A workflow rule refused the action; the message is for the person (shown on the page)."""


class PlanChanged(BillingError):
    """The draft's writes are not the ones the person was shown (someone edited it since)."""


def labor_type_for(tenant: Tenant, kind: str) -> LaborType:
    """The tenant's mapped labor type `kind`.

    Raises:
        BillingError: not mapped to a Syncro product yet.
    """
    lt = LaborType.objects.filter(tenant=tenant, kind=kind, product_vendor_id__isnull=False).first()
    if lt is None:
        raise BillingError(
            f"The labor type “{LaborKind(kind).label}” is not mapped to a Syncro product yet "
            "(an owner or admin sets it under Billing → Labor types)."
        )
    return lt


def duplicate_warning_for(draft: BillingDraft) -> str:
    """Why `draft` may bill work already billed, in one sentence ("" when nothing matches):
    another not rejected draft of the last `DUPLICATE_WINDOW` with the same ticket, minutes
    and labor type, or the ticket already ``Invoiced`` in the mirror."""
    since = timezone.now() - DUPLICATE_WINDOW
    twin = (
        BillingDraft.objects.filter(
            tenant_id=draft.tenant_id,
            ticket_vendor_id=draft.ticket_vendor_id,
            minutes=draft.minutes,
            labor_type=draft.labor_type,
            created_at__gte=since,
        )
        .exclude(decision=Decision.REJECTED)
        .exclude(pk=draft.pk)
        .select_related("drafted_by", "batch")
        .order_by("-created_at")
        .first()
    )
    if twin is not None:
        return (
            f"Possible duplicate: {twin.drafted_by} drafted the same {twin.minutes} min "
            f"{twin.get_labor_type_display().lower()} on #{twin.ticket_number} "
            f"{timezone.localtime(twin.created_at):%Y-%m-%d %H:%M %Z} "
            f"({twin.get_status_display().lower()})."
        )
    status = (
        SyncroTicket.objects.filter(tenant_id=draft.tenant_id, vendor_id=draft.ticket_vendor_id)
        .values_list("status", flat=True)
        .first()
    )
    if status == INVOICED_STATUS:
        return (
            f"Ticket #{draft.ticket_number} is already Invoiced in Syncro: this time would be "
            "billed on a new invoice."
        )
    return ""


def draft_create(
    *,
    tenant: Tenant,
    connection: Connection,
    ticket: SyncroTicket,
    by,
    minutes: int,
    labor_type: str,
    comment_subject: str,
    comment_body: str,
    comment_hidden: bool,
    comment_do_not_email: bool,
    line_description: str,
    form_nonce: str = "",
) -> BillingDraft:
    """Draft billable time on `ticket`; records a DRAFTED event in the same transaction.

    Args:
        minutes: whole minutes worked (> 0); billed as ``minutes / 60`` decimal hours.
        labor_type: a `LaborKind` value the tenant has mapped to a Syncro product.
        form_nonce: the server-made one-time token of the form (`billing.forms.form_nonce`);
            a second save with the same token returns the first draft unchanged.
    Raises:
        BillingError: minutes not positive or labor type not mapped.
    """
    if form_nonce:
        existing = BillingDraft.objects.filter(tenant=tenant, form_nonce=form_nonce).first()
        if existing is not None:
            return existing
    if minutes is None or minutes <= 0:
        raise BillingError("Minutes must be a positive number.")
    lt = labor_type_for(tenant, labor_type)
    draft = BillingDraft(
        tenant=tenant,
        connection=connection,
        ticket_vendor_id=ticket.vendor_id,
        ticket_number=ticket.number,
        ticket_subject=ticket.subject,
        customer_vendor_id=ticket.customer_vendor_id,
        customer_name=ticket.customer_name,
        drafted_by=by,
        form_nonce=form_nonce,
        minutes=minutes,
        labor_type=labor_type,
        product_vendor_id=lt.product_vendor_id,
        product_name=lt.product_name,
        comment_subject=comment_subject,
        comment_body=comment_body,
        comment_hidden=comment_hidden,
        comment_do_not_email=comment_do_not_email,
        line_description=line_description,
    )
    draft.original = draft.values()
    try:
        with transaction.atomic():
            draft.duplicate_warning = duplicate_warning_for(draft)
            draft.save()
            draft_event(
                draft,
                ApprovalEvent.Kind.DRAFTED,
                by,
                after=draft.values(),
                note=draft.duplicate_warning,
            )
    except IntegrityError:
        if not form_nonce:
            raise
        # the same form saved at the same moment by a parallel request: that one won
        return BillingDraft.objects.get(tenant=tenant, form_nonce=form_nonce)
    return draft


def draft_update(*, draft: BillingDraft, by, **values) -> BillingDraft:
    """Edit a pending or rejected draft (the original values stay in `draft.original`); an
    EDITED event. An edit clears an earlier decision: a rejected draft is pending again and
    needs a new approval. The duplicate warning is worked out again.

    Args:
        values: any of `BillingDraft.EDITABLE`.
    Raises:
        BillingError: the draft was approved (its writes are queued), or minutes are not
            positive, or the labor type is not mapped.
        PermissionDenied: the person is neither the drafter nor an approver.
    """
    require_editor(draft, by)
    unknown = set(values) - set(BillingDraft.EDITABLE)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    with transaction.atomic():
        draft = BillingDraft.objects.select_for_update().get(pk=draft.pk)
        if draft.decision == Decision.APPROVED:
            raise BillingError("An approved draft cannot be edited: its writes are queued.")
        before = draft.values()
        if "minutes" in values and (values["minutes"] is None or values["minutes"] <= 0):
            raise BillingError("Minutes must be a positive number.")
        if "labor_type" in values and values["labor_type"] != draft.labor_type:
            lt = labor_type_for(draft.tenant, values["labor_type"])
            draft.product_vendor_id, draft.product_name = lt.product_vendor_id, lt.product_name
        for name, value in values.items():
            setattr(draft, name, value)
        after = draft.values()
        if after == before:
            return draft
        note = ""
        if draft.decision == Decision.REJECTED:
            note = f"reopened: the rejection by {draft.rejected_by} is cleared"
            draft.decision = Decision.PENDING
            draft.rejected_by, draft.rejected_at, draft.reject_reason = None, None, ""
        draft.duplicate_warning = duplicate_warning_for(draft)
        draft.save()
        draft_event(draft, ApprovalEvent.Kind.EDITED, by, before=before, after=after, note=note)
    return draft


def draft_reject(*, draft: BillingDraft, by, reason: str) -> BillingDraft:
    """Reject a pending draft with a reason (nothing is sent); REJECTED event.

    Raises:
        BillingError: no reason, or the draft is not pending.
    """
    reason = (reason or "").strip()
    if not reason:
        raise BillingError("Say why the draft is rejected.")
    with transaction.atomic():
        draft = BillingDraft.objects.select_for_update().get(pk=draft.pk)
        if not draft.is_pending:
            raise BillingError("Only a draft awaiting approval can be rejected.")
        before = {"status": draft.status}
        draft.decide(Decision.REJECTED, by=by)
        draft.reject_reason = reason
        draft.save()
        draft_event(
            draft,
            ApprovalEvent.Kind.REJECTED,
            by,
            before=before,
            after={"status": draft.status},
            note=reason,
        )
    return draft


# --- labor types --------------------------------------------------------------------------
def labor_types(tenant: Tenant) -> list[LaborType]:
    """One LaborType per `LaborKind` for `tenant` (unsaved ones for kinds not set yet)."""
    existing = {lt.kind: lt for lt in LaborType.objects.filter(tenant=tenant)}
    return [existing.get(k) or LaborType(tenant=tenant, kind=k) for k in LaborKind.values]


def labor_types_save(*, tenant: Tenant, chosen: dict[str, int | None], by) -> int:
    """Map each labor kind in `chosen` (``{kind: Syncro product id or None}``) to the tenant's
    mirrored product; only kinds whose product changes are written. Returns how many changed.

    Raises:
        BillingError: a product id is not one of the tenant's mirrored products.
    """
    current = {lt.kind: lt.product_vendor_id for lt in labor_types(tenant)}
    ids = {vid for vid in chosen.values() if vid}
    products = {
        p.vendor_id: p for p in SyncroProduct.objects.filter(tenant=tenant, vendor_id__in=ids)
    }
    if ids - set(products):
        raise BillingError("One of the chosen products is not in this company's Syncro mirror.")
    changed = 0
    for kind, vid in chosen.items():
        if (current.get(kind) or None) != (vid or None):
            labor_type_set(tenant=tenant, kind=kind, product=products.get(vid), by=by)
            changed += 1
    return changed


def labor_type_set(*, tenant: Tenant, kind: str, product: SyncroProduct | None, by) -> LaborType:
    """Map `kind` to a mirrored Syncro `product` of the same tenant (None = unmap).

    Raises:
        ValueError: the product belongs to another tenant.
    """
    if product is not None and product.tenant_id != tenant.id:
        raise ValueError("That product belongs to another company.")
    lt, _ = LaborType.objects.update_or_create(
        tenant=tenant,
        kind=kind,
        defaults={
            "product_vendor_id": product.vendor_id if product else None,
            "product_name": product.name if product else "",
            "updated_by": by,
        },
    )
    return lt


# --- audit ----------------------------------------------------------------------------------
def draft_event(
    draft: BillingDraft, kind: str, actor, *, before=None, after=None, note=""
) -> ApprovalEvent:
    """Write the audit row of a change to `draft` (call inside the change's transaction).

    Args:
        kind: an `ApprovalEvent.Kind`; before / after: JSON-safe snapshots.
    """
    return ApprovalEvent.objects.create(
        tenant_id=draft.tenant_id,
        draft=draft,
        ticket_vendor_id=draft.ticket_vendor_id,
        ticket_number=draft.ticket_number,
        kind=kind,
        actor=actor,
        before=before or {},
        after=after or {},
        note=note,
    )


def require_editor(draft: BillingDraft, by) -> None:
    """Raise `PermissionDenied` unless `by` drafted `draft` or is an approver of its tenant."""
    if draft.drafted_by_id == by.pk:
        return
    membership = Membership.objects.filter(tenant=draft.tenant, user=by, is_active=True).first()
    if membership is None or membership.role not in APPROVER_ROLES:
        raise PermissionDenied("Only the person who drafted it or an approver can edit a draft.")
