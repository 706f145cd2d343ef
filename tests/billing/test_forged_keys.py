"""Nothing from the browser is a key: a member cannot attach writes to another draft's chain.

The technician attack: a member posts a ticket action with ``key=`` set to another draft's
business key, or with a forged signed token, or with a token made for another ticket. The
draft's own four writes are still the ones sent, byte for byte as previewed, and the forged
request is refused with a clear message.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from billing import approval, draft_plan
from connectors.outbox import executor
from connectors.outbox.models import VendorWrite, WriteBatch
from connectors.syncro.models import SyncroTicket

from .test_drafts import approve, make_draft

pytestmark = pytest.mark.django_db(transaction=False)

COMMENT = {"subject": "Note", "body": "Injected text", "visibility": "internal"}


def token_in(page: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


@pytest.fixture
def approved_draft(syncro, world):
    """A draft approved by the billing clerk, its four writes queued and not yet sent."""
    draft = make_draft(syncro, world)
    assert approve(world.client_for(world.billing), draft).status_code == 302
    draft.refresh_from_db()
    previewed = [w.body for w in draft_plan.draft_plan(draft).writes]
    return draft, previewed


def assert_the_draft_sent_exactly_its_own_four_writes(syncro, draft, previewed):
    executor.run_until_settled()
    writes = approval.draft_writes(draft)
    assert [w.payload for w in writes] == previewed
    assert [w.batch_id for w in writes] == [draft.batch_id] * 4
    tid = syncro.ticket.vendor_id
    comments = syncro.ledger("POST", f"/tickets/{tid}/comment")
    assert [c.body for c in comments] == [previewed[0]]  # no injected comment reached Syncro
    assert [e.body for e in syncro.ledger("POST", f"/tickets/{tid}/add_line_item")] == [
        previewed[1]
    ]


def test_a_key_from_the_browser_is_ignored_and_the_confirm_is_refused(
    syncro, world, approved_draft
):
    draft, previewed = approved_draft
    url = reverse("billing:ticket_comment", args=[syncro.ticket.vendor_id])
    response = world.client_for(world.tech).post(
        url, {**COMMENT, "key": f"draft:{draft.uuid}", "step": "confirm"}, HTTP_HX_REQUEST="true"
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert "no valid preview token" in text
    assert "Injected text" in text  # what the person typed is kept
    assert VendorWrite.objects.count() == 4
    assert_the_draft_sent_exactly_its_own_four_writes(syncro, draft, previewed)


def test_a_forged_token_is_refused(syncro, world, approved_draft):
    draft, previewed = approved_draft
    url = reverse("billing:ticket_comment", args=[syncro.ticket.vendor_id])
    client = world.client_for(world.tech)
    preview = client.post(url, {**COMMENT, "step": "preview"}).content.decode()
    genuine = token_in(preview)
    for forged in (f"draft:{draft.uuid}", genuine[:-4] + "AAAA", "x" * 5000, "\x00\xff"):
        page = client.post(url, {**COMMENT, "token": forged, "step": "confirm"}).content.decode()
        assert "Nothing was sent" in page or "no valid preview token" in page, forged[:20]
    assert VendorWrite.objects.count() == 4
    assert_the_draft_sent_exactly_its_own_four_writes(syncro, draft, previewed)


def test_a_token_made_for_another_ticket_or_person_is_refused(syncro, world, approved_draft):
    draft, previewed = approved_draft
    other = (
        SyncroTicket.objects.filter(tenant=world.tenant, is_deleted=False)
        .exclude(pk=syncro.ticket.pk)
        .first()
    )
    client = world.client_for(world.tech)
    other_url = reverse("billing:ticket_comment", args=[other.vendor_id])
    token = token_in(client.post(other_url, {**COMMENT, "step": "preview"}).content.decode())
    url = reverse("billing:ticket_comment", args=[syncro.ticket.vendor_id])
    page = client.post(url, {**COMMENT, "token": token, "step": "confirm"}).content.decode()
    assert "made for another action, person or record" in page
    # the same token in another person's hands
    page = (
        world.client_for(world.billing)
        .post(other_url, {**COMMENT, "token": token, "step": "confirm"})
        .content.decode()
    )
    assert "made for another action, person or record" in page
    assert VendorWrite.objects.count() == 4
    assert_the_draft_sent_exactly_its_own_four_writes(syncro, draft, previewed)


def test_a_confirm_whose_fields_changed_after_the_preview_is_refused(syncro, world):
    url = reverse("billing:ticket_comment", args=[syncro.ticket.vendor_id])
    client = world.client_for(world.tech)
    token = token_in(client.post(url, {**COMMENT, "step": "preview"}).content.decode())
    changed = {**COMMENT, "body": "Something else"}
    page = client.post(url, {**changed, "token": token, "step": "confirm"}).content.decode()
    assert "changed since you saw the preview" in page
    assert not VendorWrite.objects.exists() and not WriteBatch.objects.exists()


def test_a_double_clicked_confirm_makes_one_vendor_write(syncro, world):
    url = reverse("billing:ticket_update", args=[syncro.ticket.vendor_id])
    t = syncro.ticket
    data = {"status": "Waiting on Customer", "priority": t.priority, "user_id": t.user_vendor_id}
    client = world.client_for(world.tech)
    token = token_in(client.post(url, {**data, "step": "preview"}).content.decode())
    for _ in range(3):
        client.post(url, {**data, "token": token, "step": "confirm"}, HTTP_HX_REQUEST="true")
    executor.run_until_settled()
    assert len(syncro.ledger("PUT", f"/tickets/{t.vendor_id}")) == 1
    assert WriteBatch.objects.filter(kind="billing.ticket_action").count() == 1
