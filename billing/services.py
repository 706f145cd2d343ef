"""Billing workflows: ticket actions, billing drafts, approval, audit (HackSoft-style services).

Every vendor write goes through the connectors' outbox (`connectors.outbox.services`): a service
here builds `WriteSpec`s, shows their exact JSON with `preview_payload` before anything is sent,
and, once a person confirms, calls `enqueue_writes` inside the same `transaction.atomic()` as
its own rows and the `ApprovalEvent` that records them. The calls into the outbox live in this
module only.

Seed /syncro hard rules and where they are kept:

* "show the full payload before any POST": `*_prepare` → `PreparedWrite.preview` → Confirm.
* "never retry blind": the outbox's marker + verify-before-resend; a confirm twice with the same
  business key returns the same writes (`enqueue_writes` is idempotent per key).
* "always ask minutes and labor type": `draft_create` requires both (no defaults in the form).
* ``taxable: false`` sent explicitly; ``price_retail`` never sent (Syncro prices from the product).
* attribution: the acting user's Syncro key (`Credential.objects.for_actor`), with a warning
  when it is the tenant's shared key.
"""

from __future__ import annotations

import contextvars
import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.models import (
    APPROVER_ROLES,
    ActorCredential,
    Credential,
    Membership,
    NoCredential,
    Tenant,
)
from billing.models import ApprovalEvent, BillingDraft, LaborKind, LaborType, minutes_to_hours
from connectors.models import Connection
from connectors.outbox.models import VendorWrite
from connectors.outbox.services import WriteSpec, enqueue_writes, preview_payload, resolve_write
from connectors.syncro.models import SyncroCustomer, SyncroProduct, SyncroTicket

__all__ = [
    "BillingError",
    "PreparedWrite",
    "approval_credential",
    "comment_prepare",
    "draft_approve",
    "draft_create",
    "draft_prepare",
    "draft_reject",
    "draft_sync_from_write",
    "draft_update",
    "drafts_approve",
    "events_csv",
    "labor_type_set",
    "session_log_markdown",
    "ticket_action_confirm",
    "ticket_close_prepare",
    "ticket_create_prepare",
    "ticket_update_prepare",
    "write_resolve",
]

INVOICE_CATEGORY = "Standard"  # seed /syncro "Create from ticket" body
INVOICED_STATUS = "Invoiced"

OP_COMMENT = "syncro.comment.create"
OP_LINE_ITEM = "syncro.line_item.create"
OP_INVOICE = "syncro.invoice.create"
OP_TICKET_UPDATE = "syncro.ticket.update"
OP_TICKET_CREATE = "syncro.ticket.create"

OPERATION_LABELS = {
    OP_COMMENT: "Comment",
    OP_LINE_ITEM: "Line item",
    OP_INVOICE: "Invoice",
    OP_TICKET_UPDATE: "Ticket update",
    OP_TICKET_CREATE: "New ticket",
    "syncro.timer.charge": "Charge timer",
}
VENDOR_PATHS = {
    OP_COMMENT: "POST /tickets/{ticket_id}/comment",
    OP_LINE_ITEM: "POST /tickets/{ticket_id}/add_line_item",
    OP_INVOICE: "POST /invoices",
    OP_TICKET_UPDATE: "PUT /tickets/{ticket_id}",
    OP_TICKET_CREATE: "POST /tickets",
    "syncro.timer.charge": "POST /tickets/{ticket_id}/charge_timer_entry",
}

# The person resolving a write, for the audit row the outbox's signal triggers (the signal
# itself carries no actor).
_resolving_actor: contextvars.ContextVar = contextvars.ContextVar("resolving_actor", default=None)


class BillingError(Exception):
    """A workflow rule refused the action; the message is for the person (shown on the page)."""


# --- prepared writes (preview = what is sent) -------------------------------------------------
@dataclass(frozen=True)
class PreparedWrite:
    """One vendor write as the person will confirm it.

    `preview` is the exact JSON the vendor receives (marker included); building the same
    PreparedWrite again from the same form values and `business_key` gives the same preview,
    which is what Confirm enqueues.
    """

    operation: str
    target: dict
    payload: dict
    business_key: str
    depends_on: str | None = None

    @property
    def preview(self) -> dict:
        return preview_payload(self.operation, self.payload, self.business_key)

    @property
    def label(self) -> str:
        return OPERATION_LABELS.get(self.operation, self.operation)

    @property
    def request_line(self) -> str:
        return VENDOR_PATHS.get(self.operation, self.operation).format(**self.target)

    def spec(self) -> WriteSpec:
        return WriteSpec(
            operation=self.operation,
            target=self.target,
            payload=self.payload,
            business_key=self.business_key,
            depends_on=self.depends_on,
        )


def new_action_key(kind: str) -> str:
    """A fresh business key for one ticket action, carried by the preview form to Confirm so a
    double submit enqueues once: ``ticket-action:<kind>:<uuid hex>``."""
    return f"ticket-action:{kind}:{uuid.uuid4().hex}"


def comment_payload(*, subject: str, body: str, hidden: bool, do_not_email: bool) -> dict:
    """``POST /tickets/{id}/comment`` body (flat, never wrapped in ``{"comment": …}``: 422)."""
    return {"subject": subject, "body": body, "hidden": hidden, "do_not_email": do_not_email}


def comment_prepare(
    *, ticket: SyncroTicket, subject: str, body: str, hidden: bool, do_not_email: bool, key: str
) -> list[PreparedWrite]:
    """A comment on `ticket` (seed: subject and body required; hidden / do_not_email asked)."""
    return [
        PreparedWrite(
            OP_COMMENT,
            {"ticket_id": ticket.vendor_id},
            comment_payload(subject=subject, body=body, hidden=hidden, do_not_email=do_not_email),
            f"{key}:comment",
        )
    ]


def ticket_update_prepare(*, ticket: SyncroTicket, changes: dict, key: str) -> list[PreparedWrite]:
    """``PUT /tickets/{id}`` with only the fields that change (status, priority, user_id).

    Raises:
        BillingError: nothing changes.
    """
    current = {
        "status": ticket.status,
        "priority": ticket.priority,
        "user_id": ticket.user_vendor_id,
    }
    payload = {k: v for k, v in changes.items() if k in current and v != current[k]}
    if not payload:
        raise BillingError("Nothing to change: the ticket already has these values.")
    return [
        PreparedWrite(OP_TICKET_UPDATE, {"ticket_id": ticket.vendor_id}, payload, f"{key}:update")
    ]


def ticket_create_prepare(
    *,
    customer: SyncroCustomer,
    subject: str,
    problem_type: str,
    status: str,
    priority: str,
    user_id: int,
    key: str,
) -> list[PreparedWrite]:
    """``POST /tickets``: every field asked for (seed: "Always set user_id and priority")."""
    payload = {
        "customer_id": customer.vendor_id,
        "subject": subject,
        "problem_type": problem_type,
        "status": status,
        "priority": priority,
        "user_id": user_id,
    }
    return [
        PreparedWrite(
            OP_TICKET_CREATE, {"customer_id": customer.vendor_id}, payload, f"{key}:create"
        )
    ]


def ticket_close_prepare(
    *,
    ticket: SyncroTicket,
    status: str,
    resolution: str,
    hidden: bool,
    do_not_email: bool,
    key: str,
) -> list[PreparedWrite]:
    """Close: a "Resolution" comment, then (once it is confirmed) the closing status."""
    comment = comment_prepare(
        ticket=ticket,
        subject="Resolution",
        body=resolution,
        hidden=hidden,
        do_not_email=do_not_email,
        key=key,
    )[0]
    status_write = PreparedWrite(
        OP_TICKET_UPDATE,
        {"ticket_id": ticket.vendor_id},
        {"status": status},
        f"{key}:status",
        depends_on=comment.business_key,
    )
    return [comment, status_write]


def ticket_action_confirm(
    *,
    tenant: Tenant,
    connection: Connection,
    by,
    prepared: list[PreparedWrite],
    ticket_vendor_id: int | None,
    ticket_number: str = "",
    note: str = "",
) -> list[VendorWrite]:
    """Enqueue the confirmed writes of a ticket action and record who asked, in one transaction.

    Returns the writes (the existing ones when this key was confirmed before).
    Raises:
        NoCredential: the person has no Syncro key and the tenant has no shared one.
    """
    with transaction.atomic():
        keys = [p.business_key for p in prepared]
        already = VendorWrite.objects.filter(tenant=tenant, business_key__in=keys).exists()
        writes = enqueue_writes(
            tenant=tenant,
            connection=connection,
            acting_user=by,
            specs=[p.spec() for p in prepared],
            source_ref=f"ticket:{ticket_vendor_id or 'new'}",
        )
        if not already:
            ApprovalEvent.objects.create(
                tenant=tenant,
                ticket_vendor_id=ticket_vendor_id,
                ticket_number=ticket_number,
                kind=ApprovalEvent.Kind.REQUESTED,
                actor=by,
                after={
                    "writes": [{"operation": w.operation, "payload": w.payload} for w in writes]
                },
                note=note,
                operation=writes[0].operation if writes else "",
                write_uuid=writes[0].uuid if writes else None,
            )
    return writes


# --- drafts -------------------------------------------------------------------------------
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
        draft.status = BillingDraft.Status.REJECTED
        draft.rejected_by, draft.rejected_at, draft.reject_reason = by, timezone.now(), reason
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


def draft_prepare(draft: BillingDraft) -> list[PreparedWrite]:
    """The four writes approving `draft` will queue, chained: comment → line item → invoice →
    status Invoiced (seed /syncro "Billing workflow" steps 4–8).

    The line item is ``{"product_id", "quantity" (decimal hours), "name", "description",
    "taxable": false}``; no ``price_retail`` so Syncro prices from the product.
    """
    target = {"ticket_id": draft.ticket_vendor_id}
    comment = PreparedWrite(
        OP_COMMENT,
        target,
        comment_payload(
            subject=draft.comment_subject,
            body=draft.comment_body,
            hidden=draft.comment_hidden,
            do_not_email=draft.comment_do_not_email,
        ),
        draft.business_key("comment"),
    )
    line = PreparedWrite(
        OP_LINE_ITEM,
        target,
        {
            "product_id": draft.product_vendor_id,
            "quantity": float(minutes_to_hours(draft.minutes)),
            "name": draft.product_name,
            "description": draft.line_description,
            "taxable": False,
        },
        draft.business_key("line_item"),
        depends_on=comment.business_key,
    )
    invoice = PreparedWrite(
        OP_INVOICE,
        target,
        {
            "ticket_id": draft.ticket_vendor_id,
            "customer_id": draft.customer_vendor_id,
            "category": INVOICE_CATEGORY,
        },
        draft.business_key("invoice"),
        depends_on=line.business_key,
    )
    status = PreparedWrite(
        OP_TICKET_UPDATE,
        target,
        {"status": INVOICED_STATUS},
        draft.business_key("status"),
        depends_on=invoice.business_key,
    )
    return [comment, line, invoice, status]


def approval_credential(tenant: Tenant, user) -> ActorCredential | None:
    """Whose Syncro key approving as `user` would use (None when there is none at all)."""
    try:
        return Credential.objects.for_actor(tenant, "syncro", user)
    except NoCredential:
        return None


def _approver_membership(tenant: Tenant, user) -> Membership | None:
    return Membership.objects.filter(tenant=tenant, user=user, is_active=True).first()


def check_can_approve(draft: BillingDraft, by) -> None:
    """Raise unless `by` may approve `draft`.

    Raises:
        PermissionDenied: not an owner, admin or billing member of the draft's tenant.
        BillingError: four-eyes approval is on and `by` drafted it, or the draft is not pending.
    """
    membership = _approver_membership(draft.tenant, by)
    if membership is None or membership.role not in APPROVER_ROLES:
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


def draft_approve(*, draft: BillingDraft, by) -> list[VendorWrite]:
    """Approve `draft`: in one transaction the draft becomes APPROVED, its four writes are
    queued in the outbox (chained with ``depends_on``) and an APPROVED event is written.

    Returns the four VendorWrites (comment, line item, invoice, status).
    Raises:
        PermissionDenied, BillingError: see `check_can_approve`.
        NoCredential: no Syncro key for `by` and no shared one (nothing is changed).
    """
    with transaction.atomic():
        draft = (
            BillingDraft.objects.select_for_update()
            .select_related("tenant", "connection")
            .get(pk=draft.pk)
        )
        check_can_approve(draft, by)
        prepared = draft_prepare(draft)
        writes = enqueue_writes(
            tenant=draft.tenant,
            connection=draft.connection,
            acting_user=by,
            specs=[p.spec() for p in prepared],
            source_ref=draft.source_ref,
        )
        before = {"status": draft.status}
        draft.status = BillingDraft.Status.APPROVED
        draft.approved_by, draft.approved_at = by, timezone.now()
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
            after={"status": draft.status, "values": draft.values()},
            note="with the tenant's shared Syncro key" if draft.used_shared_key else "",
        )
    return writes


@dataclass
class BulkResult:
    approved: list[BillingDraft]
    skipped: list[tuple[BillingDraft, str]]


def drafts_approve(*, tenant: Tenant, draft_uuids: Iterable[str], by) -> BulkResult:
    """Approve several drafts, each in its own transaction (one refusal does not undo others).

    Drafts of another tenant are ignored (never loaded). Returns which were approved and which
    were skipped with the reason.
    """
    result = BulkResult([], [])
    drafts = list(BillingDraft.objects.filter(tenant=tenant, uuid__in=list(draft_uuids)))
    for draft in drafts:
        try:
            draft_approve(draft=draft, by=by)
        except (BillingError, PermissionDenied, NoCredential) as exc:
            result.skipped.append((draft, str(exc)))
        else:
            draft.refresh_from_db()
            result.approved.append(draft)
    return result


def draft_writes(draft: BillingDraft) -> list[VendorWrite]:
    """The draft's vendor writes in chain order (empty before approval)."""
    order = {"comment": 0, "line_item": 1, "invoice": 2, "status": 3}
    writes = list(
        VendorWrite.objects.filter(tenant_id=draft.tenant_id, source_ref=draft.source_ref)
    )
    return sorted(writes, key=lambda w: order.get(w.business_key.rsplit(":", 1)[-1], 9))


# --- outbox feedback ----------------------------------------------------------------------
_KIND_FOR_STATE = {
    VendorWrite.State.IN_FLIGHT: ApprovalEvent.Kind.SENT,
    VendorWrite.State.AMBIGUOUS: ApprovalEvent.Kind.UNCERTAIN,
    VendorWrite.State.CONFIRMED: ApprovalEvent.Kind.CONFIRMED,
    VendorWrite.State.REJECTED: ApprovalEvent.Kind.FAILED,
    VendorWrite.State.NEEDS_REVIEW: ApprovalEvent.Kind.FAILED,
    VendorWrite.State.CANCELLED: ApprovalEvent.Kind.FAILED,
}


def draft_sync_from_write(
    *, write: VendorWrite, old_state: str, new_state: str, detail: str
) -> None:
    """Record a write's state change as an ApprovalEvent and bring its draft's status along.

    Called (through `billing.receivers`) inside the outbox's transaction. A change out of a
    person-waiting state is a manual resolution (attributed to the person in `write_resolve`).
    The draft becomes INVOICED when all its writes are confirmed, NEEDS_ATTENTION while one waits
    for a person (its vendor message copied onto the draft), APPROVED otherwise.
    """
    if not old_state:  # created by enqueue_writes: the APPROVED / REQUESTED row says it
        return
    if old_state in VendorWrite.PERSON_STATES:
        kind = ApprovalEvent.Kind.RESOLVED
    else:
        kind = _KIND_FOR_STATE.get(new_state)
        if kind is None:  # verifying, back to pending: the outbox's own attempts log has them
            return
    draft = None
    if write.source_ref.startswith("draft:"):
        draft = BillingDraft.objects.filter(
            tenant_id=write.tenant_id, uuid=write.source_ref.split(":", 1)[1]
        ).first()
    ticket_id = (write.target or {}).get("ticket_id")
    actor = _resolving_actor.get() if kind == ApprovalEvent.Kind.RESOLVED else None
    ApprovalEvent.objects.create(
        tenant_id=write.tenant_id,
        draft=draft,
        ticket_vendor_id=ticket_id if ticket_id is not None else write.target.get("ticket_id"),
        ticket_number=draft.ticket_number if draft else "",
        kind=kind,
        actor=actor,
        before={"state": old_state},
        after={
            "state": new_state,
            "send_count": write.send_count,
            "remote_id": write.remote_id,
            **({"vendor_message": write.vendor_message} if write.vendor_message else {}),
        },
        note=detail[:2000],
        write_uuid=write.uuid,
        operation=write.operation,
    )
    if draft is not None and draft.status != BillingDraft.Status.REJECTED:
        _draft_status_from_writes(draft, changed=write)


def _draft_status_from_writes(draft: BillingDraft, *, changed: VendorWrite) -> None:
    states = {
        w.pk: (w.state, w.vendor_message)
        for w in VendorWrite.objects.filter(tenant_id=draft.tenant_id, source_ref=draft.source_ref)
    }
    states[changed.pk] = (changed.state, changed.vendor_message)
    values = [s for s, _ in states.values()]
    if values and all(s == VendorWrite.State.CONFIRMED for s in values):
        status = BillingDraft.Status.INVOICED
    elif any(s in VendorWrite.PERSON_STATES or s == VendorWrite.State.CANCELLED for s in values):
        status = BillingDraft.Status.NEEDS_ATTENTION
    else:
        status = BillingDraft.Status.APPROVED
    message = next(
        (m for s, m in states.values() if s in VendorWrite.PERSON_STATES and m),
        draft.vendor_message,
    )
    if status != draft.status or message != draft.vendor_message:
        BillingDraft.objects.filter(pk=draft.pk).update(
            status=status, vendor_message=message, updated_at=timezone.now()
        )


def write_resolve(
    *, write: VendorWrite, by, action: str, remote_id: str | None = None, note: str = ""
) -> VendorWrite:
    """A person settles a write waiting for them (`resolve_write`); the RESOLVED audit row
    names them. Raises `connectors.outbox.services.ResolveError` when it is not waiting."""
    token = _resolving_actor.set(by)
    try:
        return resolve_write(
            write=write, by=by, action=action, remote_id=remote_id or None, note=note
        )
    finally:
        _resolving_actor.reset(token)


# --- labor types --------------------------------------------------------------------------
def labor_types(tenant: Tenant) -> list[LaborType]:
    """One LaborType per `LaborKind` for `tenant` (unsaved ones for kinds not set yet)."""
    existing = {lt.kind: lt for lt in LaborType.objects.filter(tenant=tenant)}
    return [existing.get(k) or LaborType(tenant=tenant, kind=k) for k in LaborKind.values]


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
    membership = _approver_membership(draft.tenant, by)
    if membership is None or membership.role not in APPROVER_ROLES:
        raise PermissionDenied("Only the person who drafted it or an approver can edit a draft.")


CSV_COLUMNS = [
    "at",
    "kind",
    "actor",
    "ticket_number",
    "ticket_id",
    "draft",
    "operation",
    "write",
    "note",
    "before",
    "after",
]


def events_csv(*, tenant: Tenant, start: dt.date, end: dt.date) -> Iterator[str]:
    """The tenant's ApprovalEvents from `start` to `end` (inclusive, server time zone) as CSV
    lines (stdlib `csv`), header first, oldest first. JSON columns are compact JSON."""
    import json

    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return value

    writer.writerow(CSV_COLUMNS)
    yield flush()
    rows = (
        ApprovalEvent.objects.filter(tenant=tenant, at__gte=lo, at__lt=hi)
        .select_related("actor", "draft")
        .order_by("at", "id")
    )
    for e in rows.iterator(chunk_size=1000):
        writer.writerow(
            [
                e.at.isoformat(),
                e.kind,
                e.actor.email if e.actor else "system",
                e.ticket_number,
                e.ticket_vendor_id or "",
                e.draft.uuid if e.draft else "",
                e.operation,
                e.write_uuid or "",
                e.note,
                json.dumps(e.before, sort_keys=True, default=str),
                json.dumps(e.after, sort_keys=True, default=str),
            ]
        )
        yield flush()


# --- session log --------------------------------------------------------------------------
def session_log_markdown(*, ticket: SyncroTicket, comments: list, resolution: str = "") -> str:
    """A session-log entry for a closed ticket (seed /syncro "Integration with session logs"):
    subject, customer, comments oldest first, and the resolution, as Markdown.

    Args:
        comments: mirrored `SyncroTicketComment`s (any order).
        resolution: the resolution text (the last "Resolution" comment when empty).
    """
    ordered = sorted(comments, key=lambda c: (c.vendor_created_at or timezone.now(), c.vendor_id))
    if not resolution:
        resolved = [c for c in ordered if c.subject.strip().lower() == "resolution"]
        resolution = resolved[-1].body if resolved else ""
    lines = [f"# Session log: #{ticket.number} {ticket.subject}", ""]
    lines.append(f"- Customer: {ticket.customer_name}")
    lines.append(f"- Status: {ticket.status}")
    if ticket.vendor_created_at:
        lines.append(f"- Opened: {ticket.vendor_created_at:%Y-%m-%d %H:%M}")
    if ticket.resolved_at:
        lines.append(f"- Resolved: {ticket.resolved_at:%Y-%m-%d %H:%M}")
    lines += ["", "## Comments", ""]
    for c in ordered:
        when = f"{c.vendor_created_at:%Y-%m-%d %H:%M}" if c.vendor_created_at else ""
        vis = " (internal)" if c.hidden else ""
        lines += [
            f"### {when} · {c.subject or 'Comment'}{vis} · {c.tech or 'unknown'}",
            "",
            c.body.strip(),
            "",
        ]
    if not ordered:
        lines += ["_No comments._", ""]
    lines += ["## Resolution", "", resolution.strip() or "_No resolution recorded._", ""]
    return "\n".join(lines)
