"""A write Syncro refused is corrected on the draft and re-planned (issue 11 item 10): the steps
Syncro confirmed are never sent again; the rest gets a new preview and a new approval."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.models import ApprovalEvent, BillingDraft, LaborType
from connectors.outbox import executor
from connectors.outbox.models import VendorWrite
from tests.billing.test_drafts import FORM, make_draft
from tests.billing.test_integrity import approve_with, review_form

pytestmark = pytest.mark.django_db(transaction=False)


def ok(entries):
    return [e for e in entries if e.status < 300]


def refused_draft(syncro, world) -> BillingDraft:
    """A draft whose line item Syncro refuses (422 "Name can't be blank": its product was
    mapped with no name), approved by the clerk and run until it needs a person."""
    draft = make_draft(syncro, world, minutes=45)
    BillingDraft.objects.filter(pk=draft.pk).update(product_name="")
    draft.refresh_from_db()
    clerk = world.client_for(world.billing)
    approve_with(clerk, draft, review_form(clerk, draft))
    executor.run_until_settled()
    draft.refresh_from_db()
    return draft


def test_a_refused_line_item_is_corrected_and_only_the_rest_is_sent(syncro, world):
    tid = syncro.ticket.vendor_id
    draft = refused_draft(syncro, world)
    assert draft.status == BillingDraft.Status.NEEDS_ATTENTION
    assert "Name can't be blank" in draft.vendor_message
    assert len(ok(syncro.ledger("POST", f"/tickets/{tid}/comment"))) == 1

    tech = world.client_for(world.tech)
    page = tech.get(reverse("billing:draft_detail", args=[draft.uuid])).content.decode()
    assert "Correct and re-plan" in page
    lt = LaborType.objects.get(tenant=world.tenant, kind="onsite")  # the mapping has its name
    response = tech.post(reverse("billing:draft_detail", args=[draft.uuid]), FORM)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == BillingDraft.Status.PENDING
    assert draft.product_name == lt.product_name
    assert set(draft.done_steps) == {"comment"}
    event = ApprovalEvent.objects.get(draft=draft, kind="corrected", actor=world.tech)
    assert "Name can't be blank" in event.note
    refused = VendorWrite.objects.get(business_key=f"draft:{draft.uuid}:line_item")
    assert refused.state == VendorWrite.State.CANCELLED

    clerk = world.client_for(world.billing)
    page = clerk.get(reverse("billing:draft_detail", args=[draft.uuid])).content.decode()
    assert (
        f"/tickets/{tid}/comment"
        not in page.split("What approving will send")[1].split("</section>")[0]
    )
    approve_with(clerk, draft, review_form(clerk, draft))
    executor.run_until_settled()
    draft.refresh_from_db()

    assert draft.status == BillingDraft.Status.INVOICED
    assert len(ok(syncro.ledger("POST", f"/tickets/{tid}/comment"))) == 1  # never re-sent
    assert len(ok(syncro.ledger("POST", f"/tickets/{tid}/add_line_item"))) == 1
    assert len(ok(syncro.ledger("POST", "/invoices"))) == 1
    assert len(ok(syncro.ledger("PUT", f"/tickets/{tid}"))) == 1
    keys = sorted(
        VendorWrite.objects.filter(state="confirmed").values_list("business_key", flat=True)
    )
    assert keys == sorted(
        [
            f"draft:{draft.uuid}:comment",
            f"draft:{draft.uuid}:r2:line_item",
            f"draft:{draft.uuid}:r2:invoice",
            f"draft:{draft.uuid}:r2:status",
        ]
    )


def test_the_corrector_counts_as_an_editor_under_four_eyes(syncro, world):
    draft = refused_draft(syncro, world)
    world.tenant.four_eyes_approval = True
    world.tenant.save()
    world.client_for(world.billing).post(reverse("billing:draft_detail", args=[draft.uuid]), FORM)
    clerk = world.client_for(world.billing)
    page = clerk.get(reverse("billing:draft_detail", args=[draft.uuid])).content.decode()
    assert 'name="plan"' not in page and "Bill Barnes" in page


def test_a_draft_with_no_refused_write_cannot_be_corrected(syncro, world):
    from billing.corrections import draft_correct
    from billing.services import BillingError

    draft = make_draft(syncro, world)
    with pytest.raises(BillingError):
        draft_correct(draft=draft, by=world.tech, minutes=30)
