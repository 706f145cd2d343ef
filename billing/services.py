"""Billing drafts and their approval, labor types, and the audit trail (HackSoft-style services).

A draft's approval is planned on the server (`draft_plan` -> `connectors.outbox.plans.WritePlan`,
four chained writes), shown as the exact JSON, and queued by `draft_approve` in the same
`transaction.atomic()` as the draft's decision and the `ApprovalEvent` that records it. The
draft owns the resulting `WriteBatch` (``BillingDraft.batch``); its status after approval is the
batch's state, which the outbox keeps in step with the writes. Ticket actions are in
`billing.ticket_actions`.

Seed /syncro hard rules and where they are kept:

* "show the full payload before any POST": `draft_plan` is what the draft page shows and what
  `draft_approve` queues; an approval whose plan changed since it was shown is refused
  (`PlanChanged`, by the plan's fingerprint).
* "never retry blind": the outbox's marker + verify-before-resend; approving twice finds the
  draft approved and queues nothing more.
* "always ask minutes and labor type": `draft_create` requires both (no defaults in the form).
* ``taxable: false`` sent explicitly; ``price_retail`` never sent (Syncro prices from the product).
* attribution: the acting user's Syncro key (`Credential.objects.for_actor`), with a warning
  when it is the tenant's shared key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts.models import (
    APPROVER_ROLES,
    ActorCredential,
    Membership,
    NoCredential,
    Tenant,
)
from billing.models import (
    ApprovalEvent,
    BillingDraft,
    Decision,
    LaborKind,
    LaborType,
    minutes_to_hours,
)
from billing.ticket_actions import comment_payload
from connectors.models import Connection
from connectors.outbox.models import VendorWrite
from connectors.outbox.plans import WritePlan, plan_actor
from connectors.outbox.services import plan_enqueue
from connectors.syncro.models import SyncroProduct, SyncroTicket
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
) -> BillingDraft:
    """Draft billable time on `ticket`; records a DRAFTED event in the same transaction.

    Args:
        minutes: whole minutes worked (> 0); billed as ``minutes / 60`` decimal hours.
        labor_type: a `LaborKind` value the tenant has mapped to a Syncro product.
    Raises:
        BillingError: minutes not positive or labor type not mapped.
    """
    if minutes is None or minutes <= 0:
        raise BillingError("Minutes must be a positive number.")
    lt = labor_type_for(tenant, labor_type)
    with transaction.atomic():
        draft = BillingDraft(
            tenant=tenant,
            connection=connection,
            ticket_vendor_id=ticket.vendor_id,
            ticket_number=ticket.number,
            ticket_subject=ticket.subject,
            customer_vendor_id=ticket.customer_vendor_id,
            customer_name=ticket.customer_name,
            drafted_by=by,
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
        draft.save()
        _event(draft, ApprovalEvent.Kind.DRAFTED, by, after=draft.values())
    return draft


def draft_update(*, draft: BillingDraft, by, **values) -> BillingDraft:
    """Edit a pending draft (the original values stay in `draft.original`); EDITED event.

    Args:
        values: any of `BillingDraft.EDITABLE`.
    Raises:
        BillingError: the draft is no longer pending, or the labor type is not mapped.
        PermissionDenied: the person is neither the drafter nor an approver.
    """
    _require_editor(draft, by)
    unknown = set(values) - set(BillingDraft.EDITABLE)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    with transaction.atomic():
        draft = BillingDraft.objects.select_for_update().get(pk=draft.pk)
        if not draft.is_pending:
            raise BillingError("Only a draft awaiting approval can be edited.")
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
        draft.save()
        _event(draft, ApprovalEvent.Kind.EDITED, by, before=before, after=after)
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
        _event(
            draft,
            ApprovalEvent.Kind.REJECTED,
            by,
            before=before,
            after={"status": draft.status},
            note=reason,
        )
    return draft


def draft_plan(draft: BillingDraft, *, actor: ActorCredential | None | bool = True) -> WritePlan:
    """The four writes approving `draft` will queue, chained: comment → line item → invoice →
    status Invoiced (seed /syncro "Billing workflow" steps 4–8). Business keys are
    ``draft:<uuid>:<step>``.

    The line item is ``{"product_id", "quantity" (decimal hours), "name", "description",
    "taxable": false}``; no ``price_retail`` so Syncro prices from the product.

    Args:
        actor: whose key will send them; True (default) = look it up for the draft's tenant
            with no particular person (use `draft_plan_for` for an approver).
    """
    plan = WritePlan(
        connection=draft.connection,
        kind=BATCH_KIND,
        key=f"draft:{draft.uuid}",
        label=f"{draft.minutes} min {draft.get_labor_type_display()} on #{draft.ticket_number}",
        subject={"ticket_id": draft.ticket_vendor_id, "ticket_number": draft.ticket_number},
        actor=None if actor is True or actor is False else actor,
    )
    target = {"ticket_id": draft.ticket_vendor_id}
    comment = plan.add(
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
    line = plan.add(
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
        after=comment,
    )
    invoice = plan.add(
        INVOICE_CREATE,
        target,
        {
            "ticket_id": draft.ticket_vendor_id,
            "customer_id": draft.customer_vendor_id,
            "category": INVOICE_CATEGORY,
        },
        "invoice",
        after=line,
    )
    plan.add(TICKET_UPDATE, target, {"status": INVOICED_STATUS}, "status", after=invoice)
    return plan


def draft_plan_for(draft: BillingDraft, user) -> WritePlan:
    """`draft_plan` with the key `user` would approve it with (theirs, else the shared one)."""
    return draft_plan(draft, actor=plan_actor(draft.connection, user))


def approval_credential(tenant: Tenant, user) -> ActorCredential | None:
    """Whose Syncro key approving as `user` would use (None when there is none at all)."""
    connection = Connection.objects.filter(tenant=tenant, vendor="syncro").first()
    if connection is None:
        return None
    return plan_actor(connection, user)


def _membership(tenant: Tenant, user) -> Membership | None:
    return Membership.objects.filter(tenant=tenant, user=user, is_active=True).first()


def can_approve(draft: BillingDraft, user, *, role: str | None = None) -> bool:
    """True when `user` (with `role` in the draft's tenant, looked up when None) may approve
    `draft` now: an approver role, four-eyes respected, the draft pending."""
    try:
        check_can_approve(draft, user, role=role)
    except (PermissionDenied, BillingError):
        return False
    return True


def check_can_approve(draft: BillingDraft, by, *, role: str | None = None) -> None:
    """Raise unless `by` may approve `draft`.

    Raises:
        PermissionDenied: not an owner, admin or billing member of the draft's tenant.
        BillingError: four-eyes approval is on and `by` drafted it, or the draft is not pending.
    """
    if role is None:
        membership = _membership(draft.tenant, by)
        role = membership.role if membership else None
    if role not in APPROVER_ROLES:
        raise PermissionDenied("Your role cannot approve billing drafts.")
    if draft.tenant.four_eyes_approval and draft.drafted_by_id == by.pk:
        raise BillingError(
            "Four-eyes approval is on for this company: someone other than the person who "
            "drafted it must approve."
        )
    if not draft.is_pending:
        raise BillingError(
            f"This draft is {draft.get_status_display().lower()}, not awaiting approval."
        )


def draft_approve(*, draft: BillingDraft, by, fingerprint: str | None = None) -> list[VendorWrite]:
    """Approve `draft`: in one transaction the draft becomes APPROVED, its four writes are
    queued in the outbox as one `WriteBatch` the draft owns (chained with ``depends_on``) and an
    APPROVED event is written.

    Args:
        fingerprint: the `WritePlan.fingerprint` of the plan the person was shown; when given
            and different from the plan now, nothing is approved.
    Returns the four VendorWrites (comment, line item, invoice, status).
    Raises:
        PermissionDenied, BillingError: see `check_can_approve`.
        PlanChanged: the plan is not the one shown.
        NoCredential: no Syncro key for `by` and no shared one (nothing is changed).
    """
    with transaction.atomic():
        draft = (
            BillingDraft.objects.select_for_update(of=("self",))
            .select_related("tenant", "connection")
            .get(pk=draft.pk)
        )
        check_can_approve(draft, by)
        plan = draft_plan_for(draft, by)
        if fingerprint is not None and not fingerprint:
            raise PlanChanged(
                "Open the draft (or the queue) to see what will be sent to Syncro, then approve."
            )
        if fingerprint is not None and fingerprint != plan.fingerprint:
            raise PlanChanged(
                "This draft changed since you looked at it (someone edited it, or your Syncro "
                "key changed). Check what will be sent and approve again."
            )
        batch = plan_enqueue(plan, by=by)
        writes = draft_writes_of(batch)
        before = {"status": draft.status}
        draft.decide(Decision.APPROVED, by=by)
        draft.batch = batch
        draft.used_shared_key = any(w.used_shared_key for w in writes)
        draft.approved = {
            "values": draft.values(),
            "original": draft.original,
            "writes": [
                {
                    "operation": w.operation,
                    "business_key": w.business_key,
                    "uuid": str(w.uuid),
                    "payload": w.payload,
                }
                for w in writes
            ],
            "shared_key": draft.used_shared_key,
        }
        draft.save()
        _event(
            draft,
            ApprovalEvent.Kind.APPROVED,
            by,
            before=before,
            after={"status": Decision.APPROVED, "values": draft.values()},
            note="with the tenant's shared Syncro key" if draft.used_shared_key else "",
        )
    return writes


@dataclass
class BulkResult:
    """What a bulk approval did: drafts approved, and drafts skipped with the reason."""

    approved: list[BillingDraft]
    skipped: list[tuple[BillingDraft, str]]


def drafts_approve(*, tenant: Tenant, choices: Iterable[str], by) -> BulkResult:
    """Approve several drafts, each in its own transaction (one refusal does not undo others).

    Args:
        choices: ``"<draft uuid>:<plan fingerprint>"`` values of the queue's checkboxes. Drafts
            of another tenant and malformed values are ignored (never loaded); a draft whose
            plan changed since the queue was shown is skipped with the reason.
    """
    wanted: dict[str, str] = {}
    for value in choices:
        draft_uuid, _, fingerprint = str(value).partition(":")
        if _is_uuid(draft_uuid) and fingerprint:
            wanted[draft_uuid] = fingerprint
    result = BulkResult([], [])
    for draft in BillingDraft.objects.filter(tenant=tenant, uuid__in=list(wanted)):
        try:
            draft_approve(draft=draft, by=by, fingerprint=wanted[str(draft.uuid)])
        except (BillingError, PermissionDenied, NoCredential) as exc:
            result.skipped.append((draft, str(exc)))
        else:
            draft.refresh_from_db()
            result.approved.append(draft)
    return result


def _is_uuid(value: str) -> bool:
    import uuid as uuid_module

    try:
        uuid_module.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return True


_STEP_ORDER = {"comment": 0, "line_item": 1, "invoice": 2, "status": 3}


def draft_writes_of(batch) -> list[VendorWrite]:
    """A draft batch's writes in chain order."""
    writes = list(batch.writes.all())
    return sorted(writes, key=lambda w: _STEP_ORDER.get(w.business_key.rsplit(":", 1)[-1], 9))


def draft_writes(draft: BillingDraft) -> list[VendorWrite]:
    """The draft's vendor writes in chain order (empty before approval)."""
    return draft_writes_of(draft.batch) if draft.batch_id else []


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
def _event(
    draft: BillingDraft, kind: str, actor, *, before=None, after=None, note=""
) -> ApprovalEvent:
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


def _require_editor(draft: BillingDraft, by) -> None:
    if draft.drafted_by_id == by.pk:
        return
    membership = _membership(draft.tenant, by)
    if membership is None or membership.role not in APPROVER_ROLES:
        raise PermissionDenied("Only the person who drafted it or an approver can edit a draft.")
