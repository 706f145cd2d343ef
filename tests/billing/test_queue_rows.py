"""The billing queue's rows (`billing.rows.draft_row`): what they show, escape and offer."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from billing import approval, money
from billing.models import BillingDraft
from tests.billing.test_drafts import approve, make_draft

pytestmark = pytest.mark.django_db(transaction=False)


def row_of(page: str, draft: BillingDraft) -> str:
    match = re.search(rf'<tr id="draft-row-{draft.uuid}".*?</tr>', page, re.S)
    assert match, f"no row for draft {draft.uuid}"
    return match.group(0)


def test_a_pending_row_offers_the_choice_its_review_makes(syncro, world):
    draft = make_draft(syncro, world, minutes=45)
    page = world.client_for(world.billing).get(reverse("billing:queue")).content.decode()
    row = row_of(page, draft)
    review = approval.draft_review(
        BillingDraft.objects.get(pk=draft.pk), world.billing, role="billing"
    )
    boxes = re.findall(r'name="drafts" value="([^"]+)"', row)
    buttons = re.findall(r'name="plan" value="([^"]+)"', row)
    assert boxes == buttons == [review.choice]
    amount = money.draft_amounts([draft])[draft.pk]
    assert f"Approve ${amount:,.2f}" in row and f">${amount:,.2f}</td>" in row
    for name, arg in [
        ("billing:draft_detail", draft.uuid),
        ("billing:draft_approve", draft.uuid),
        ("billing:ticket_detail", draft.ticket_vendor_id),
        ("billing:invoice_preview", draft.ticket_vendor_id),
    ]:
        assert f'"{reverse(name, args=[arg])}"' in row, name
    assert "45 min" in row and "0.75 h" in row


def test_what_people_and_vendors_typed_is_escaped(syncro, world):
    draft = make_draft(syncro, world)
    BillingDraft.objects.filter(pk=draft.pk).update(
        ticket_subject='<script>alert("s")</script>', customer_name="Bob & <b>Sons</b>"
    )
    page = world.client_for(world.billing).get(reverse("billing:queue")).content.decode()
    row = row_of(page, draft)
    assert "<script>" not in row and "<b>" not in row
    assert "&lt;script&gt;alert(&quot;s&quot;)&lt;/script&gt;" in row
    assert "Bob &amp; &lt;b&gt;Sons&lt;/b&gt;" in row


def test_a_viewer_sees_the_row_without_a_checkbox_or_an_approve_button(syncro, world):
    draft = make_draft(syncro, world)
    page = world.client_for(world.tech).get(reverse("billing:queue")).content.decode()
    row = row_of(page, draft)
    assert 'name="drafts"' not in row and 'name="plan"' not in row
    assert reverse("billing:draft_detail", args=[draft.uuid]) in row


def test_the_row_refreshed_after_approving_keeps_its_amount(syncro, world):
    draft = make_draft(syncro, world, minutes=30)
    amount = money.draft_amounts([draft])[draft.pk]
    client = world.client_for(world.billing)
    response = approve(client, draft, HTTP_HX_REQUEST="true")
    assert f">${amount:,.2f}</td>" in response.content.decode()
    polled = client.get(
        reverse("billing:draft_detail", args=[draft.uuid]), {"part": "row"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert polled.lstrip().startswith(f'<tr id="draft-row-{draft.uuid}"')
    assert f">${amount:,.2f}</td>" in polled and "—" not in polled.split("</td>")[4]
