"""Correcting a draft whose write Syncro refused, instead of rejecting it and drafting again.

When Syncro refuses one of an approved draft's writes (a 4xx with its reason: the write is
REJECTED and the draft needs attention), the drafter or an approver edits the values the
refused payload came from. `draft_correct` then, in one transaction: cancels the refused write
and the writes waiting on it (`connectors.outbox.services.resolve_write` "cancel"), keeps the
steps Syncro already confirmed (`BillingDraft.corrections`: they are never sent again), applies
the edit, re-reads the labor type's product, and puts the draft back to awaiting approval. The
next approval plans only the remaining steps (`billing.draft_plan.draft_plan`), under new
business keys (``draft:<uuid>:r2:<step>``), with a new preview, a new fingerprint and the
four-eyes rule counting the corrector as an editor.
"""

from __future__ import annotations

from django.db import transaction

from billing.models import ApprovalEvent, BillingDraft, Decision
from billing.services import (
    BillingError,
    draft_event,
    duplicate_warning_for,
    labor_type_for,
    require_editor,
)
from connectors.outbox.models import VendorWrite
from connectors.outbox.services import resolve_write


def refused_write(draft: BillingDraft) -> VendorWrite | None:
    """The write of `draft`'s current approval that Syncro refused (REJECTED), if any."""
    if draft.decision != Decision.APPROVED or draft.batch_id is None:
        return None
    return draft.batch.writes.filter(state=VendorWrite.State.REJECTED).order_by("id").first()


def draft_correct(*, draft: BillingDraft, by, **values) -> BillingDraft:
    """Correct `draft` after Syncro refused one of its writes, and re-plan what is left.

    Args:
        values: any of `BillingDraft.EDITABLE` (the labor type's product is re-read even when
            the labor type is unchanged, so a fixed mapping applies).
    Returns the draft, awaiting approval again.
    Raises:
        BillingError: no refused write to correct, minutes not positive, labor type unmapped.
        PermissionDenied: neither the drafter nor an approver (`billing.services` editor rule).
    """
    require_editor(draft, by)
    unknown = set(values) - set(BillingDraft.EDITABLE)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    with transaction.atomic():
        draft = (
            BillingDraft.objects.select_for_update(of=("self",))
            .select_related("batch")
            .get(pk=draft.pk)
        )
        refused = refused_write(draft)
        if refused is None:
            raise BillingError("Nothing to correct: Syncro refused none of this draft's writes.")
        if "minutes" in values and (values["minutes"] is None or values["minutes"] <= 0):
            raise BillingError("Minutes must be a positive number.")
        lt = labor_type_for(draft.tenant, values.get("labor_type", draft.labor_type))
        resolve_write(
            write=refused, by=by, action="cancel", note="corrected in the portal and re-planned"
        )
        before = {**draft.values(), "product_name": draft.product_name}
        _keep_history(draft, refused)
        for name, value in values.items():
            setattr(draft, name, value)
        draft.product_vendor_id, draft.product_name = lt.product_vendor_id, lt.product_name
        draft.decision = Decision.PENDING
        draft.batch, draft.approved_by, draft.approved_at, draft.approved = None, None, None, {}
        draft.duplicate_warning = duplicate_warning_for(draft)
        draft.save()
        draft_event(
            draft,
            ApprovalEvent.Kind.CORRECTED,
            by,
            before=before,
            after={**draft.values(), "product_name": draft.product_name},
            note=f"Syncro refused the {refused.operation}: {refused.vendor_message}"[:500],
        )
    return draft


def _keep_history(draft: BillingDraft, refused: VendorWrite) -> None:
    confirmed = draft.batch.writes.filter(state=VendorWrite.State.CONFIRMED)
    draft.corrections = [
        *draft.corrections,
        {
            "batch": draft.batch_id,
            "keys": {w.business_key.rsplit(":", 1)[-1]: w.business_key for w in confirmed},
            "refused": refused.operation,
            "message": refused.vendor_message,
        },
    ]
