"""Billing drafts: asked minutes and labor type, approved once, sent once, audited."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse

from accounts.models import Credential
from billing import audit, draft_plan, services
from billing.models import ApprovalEvent, BillingDraft, LaborType
from connectors.outbox import executor
from connectors.outbox.models import VendorWrite, VendorWriteAttempt
from connectors.syncro.models import SyncroTicket

pytestmark = pytest.mark.django_db(transaction=False)

FORM = {
    "minutes": "45",
    "labor_type": "onsite",
    "comment_subject": "Resolution",
    "comment_body": "Replaced the failed switch in the server room.",
    "visibility": "public_quiet",
    "line_description": "Switch replacement",
}


def bill_url(ticket) -> str:
    return reverse("billing:draft_create", args=[ticket.vendor_id])


def post_draft(client, ticket, data: dict):
    """Post the Bill time form as a browser does: with the one-time token the form carried."""
    page = client.get(bill_url(ticket)).content.decode()
    match = re.search(r'name="form_token" value="([^"]+)"', page)
    token = match.group(1) if match else ""
    return client.post(bill_url(ticket), {**data, "form_token": token})


def make_draft(syncro, world, *, by=None, **changes) -> BillingDraft:
    values = {
        "minutes": 45,
        "labor_type": "onsite",
        "comment_subject": "Resolution",
        "comment_body": "Replaced the failed switch in the server room.",
        "comment_hidden": False,
        "comment_do_not_email": True,
        "line_description": "Switch replacement",
        **changes,
    }
    return services.draft_create(
        tenant=world.tenant,
        connection=syncro.connection,
        ticket=syncro.ticket,
        by=by or world.tech,
        **values,
    )


def approve(client, draft: BillingDraft, **headers):
    """Approve as a person does: open the draft, then approve the plan it showed."""
    page = client.get(reverse("billing:draft_detail", args=[draft.uuid])).content.decode()
    match = re.search(r'name="plan" value="([^"]+)"', page)
    plan = match.group(1) if match else ""
    return client.post(
        reverse("billing:draft_approve", args=[draft.uuid]), {"plan": plan}, **headers
    )


def settle(draft: BillingDraft) -> None:
    executor.run_until_settled()
    draft.refresh_from_db()


def test_the_bill_time_form_asks_minutes_and_labor_type_with_no_default(syncro, world):
    page = world.client_for(world.tech).get(bill_url(syncro.ticket)).content.decode()
    assert 'name="minutes"' in page and 'name="minutes" value' not in page
    assert '<option value="" selected>— choose —</option>' in page
    assert "Labor - Onsite Business" in page


def test_form_errors_keep_what_the_person_typed(syncro, world):
    typed = {**FORM, "minutes": "", "labor_type": ""}
    response = world.client_for(world.tech).post(bill_url(syncro.ticket), typed)
    page = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in page
    assert "Replaced the failed switch in the server room." in page
    assert 'value="Switch replacement"' in page
    assert BillingDraft.objects.count() == 0


def test_a_technician_can_draft_time(syncro, world):
    response = post_draft(world.client_for(world.tech), syncro.ticket, FORM)
    draft = BillingDraft.objects.get()
    assert response.status_code == 302
    assert (draft.minutes, draft.labor_type, draft.drafted_by) == (45, "onsite", world.tech)
    assert draft.original["minutes"] == 45
    assert draft.status == BillingDraft.Status.PENDING
    assert ApprovalEvent.objects.filter(draft=draft, kind="drafted", actor=world.tech).exists()


def test_a_technician_cannot_approve(syncro, world):
    draft = make_draft(syncro, world)
    response = world.client_for(world.tech).post(
        reverse("billing:draft_approve", args=[draft.uuid])
    )
    assert response.status_code == 403
    assert not VendorWrite.objects.exists()


def test_another_tenants_billing_clerk_gets_404_on_drafts_and_tickets(syncro, world):
    draft = make_draft(syncro, world)
    outsider = world.client_for(world.outsider)
    for url in [
        reverse("billing:draft_detail", args=[draft.uuid]),
        reverse("billing:ticket_detail", args=[syncro.ticket.vendor_id]),
        reverse("billing:draft_create", args=[syncro.ticket.vendor_id]),
        reverse("billing:invoice_preview", args=[syncro.ticket.vendor_id]),
    ]:
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(reverse("billing:draft_approve", args=[draft.uuid])).status_code == 404
    outsider.post(reverse("billing:queue_approve"), {"drafts": [str(draft.uuid)]})
    draft.refresh_from_db()
    assert draft.status == BillingDraft.Status.PENDING
    assert str(draft.uuid) not in outsider.get(reverse("billing:queue")).content.decode()


def test_the_draft_page_shows_the_exact_payloads_before_approval(syncro, world):
    draft = make_draft(syncro, world)
    page = world.client_for(world.billing).get(reverse("billing:draft_detail", args=[draft.uuid]))
    text = page.content.decode()
    line = draft_plan.draft_plan(draft).writes[1].body
    assert line["quantity"] == 0.75 and line["taxable"] is False and "price_retail" not in line
    assert "&quot;taxable&quot;: false" in text
    assert "price_retail&quot;:" not in text
    assert line["description"].split()[-1] in text  # the marker, e.g. FL-1A2B3C4D5E
    # the drafter (Theo) has no key of his own: the shared one is named, with its Syncro user
    assert "the company&#x27;s shared key" in text and "Michael Swanson" in text


def test_approving_sends_one_comment_one_line_item_one_invoice_and_the_status(syncro, world):
    world.tenant.billing_attribution = "approver"
    world.tenant.save()
    draft = make_draft(syncro, world, minutes=50)
    response = approve(world.client_for(world.billing), draft)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == BillingDraft.Status.APPROVED
    assert VendorWrite.objects.filter(batch__draft=draft).count() == 4
    assert (
        ApprovalEvent.objects.filter(draft=draft, kind="approved", actor=world.billing).count() == 1
    )

    settle(draft)

    tid = syncro.ticket.vendor_id
    comments = syncro.ledger("POST", f"/tickets/{tid}/comment")
    lines = syncro.ledger("POST", f"/tickets/{tid}/add_line_item")
    invoices = syncro.ledger("POST", "/invoices")
    puts = syncro.ledger("PUT", f"/tickets/{tid}")
    assert [len(comments), len(lines), len(invoices), len(puts)] == [1, 1, 1, 1]
    assert comments[0].body["subject"] == "Resolution" and comments[0].body["do_not_email"] is True
    assert lines[0].body["quantity"] == pytest.approx(0.83)
    assert lines[0].body["taxable"] is False
    assert "price_retail" not in lines[0].body
    assert lines[0].body["name"] == "Labor - Onsite Business"
    assert lines[0].auth == "user:1750"  # Howard's own key, not the shared one
    assert (
        invoices[0].body
        == {
            "ticket_id": tid,
            "customer_id": syncro.ticket.customer_vendor_id,
            "category": "Standard",
        }
        or invoices[0].body["ticket_id"] == tid
    )
    assert puts[0].body["status"] == "Invoiced"
    assert draft.status == BillingDraft.Status.INVOICED
    sends = VendorWriteAttempt.objects.filter(write__batch__draft=draft, kind="send")
    assert [a.outcome for a in sends] == ["confirmed"] * 4
    timeline = [e.kind for e in audit.draft_timeline(draft)]
    assert timeline.count("write.send") == 4 and timeline[-1] == "drafted"


def test_approving_twice_posts_once(syncro, world):
    draft = make_draft(syncro, world)
    client = world.client_for(world.billing)
    approve(client, draft)
    approve(client, draft)
    settle(draft)
    assert len(syncro.ledger("POST", f"/tickets/{syncro.ticket.vendor_id}/comment")) == 1
    assert VendorWrite.objects.filter(batch__draft=draft).count() == 4


def test_four_eyes_refuses_the_drafter_as_approver(syncro, world):
    world.tenant.four_eyes_approval = True
    world.tenant.save()
    draft = make_draft(syncro, world, by=world.billing)
    response = world.client_for(world.billing).post(
        reverse("billing:draft_approve", args=[draft.uuid]), HTTP_HX_REQUEST="true"
    )
    assert "Four-eyes approval" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == BillingDraft.Status.PENDING
    approve(world.client_for(world.owner), draft)
    draft.refresh_from_db()
    assert draft.status == BillingDraft.Status.APPROVED and draft.approved_by == world.owner


def test_the_approver_is_warned_when_the_shared_key_will_be_used(syncro, world):
    draft = make_draft(syncro, world)
    page = world.client_for(world.owner).get(reverse("billing:draft_detail", args=[draft.uuid]))
    assert "This is the shared key" in page.content.decode()
    approve(world.client_for(world.owner), draft)
    draft.refresh_from_db()
    assert draft.used_shared_key is True
    settle(draft)
    assert (
        syncro.ledger("POST", f"/tickets/{syncro.ticket.vendor_id}/comment")[0].auth == "user:1735"
    )


def test_editing_keeps_the_original_and_the_approved_values(syncro, world):
    draft = make_draft(syncro, world)
    client = world.client_for(world.billing)
    edited = {**FORM, "minutes": "30", "labor_type": "remote"}
    assert (
        client.post(reverse("billing:draft_detail", args=[draft.uuid]), edited).status_code == 302
    )
    draft.refresh_from_db()
    assert (draft.minutes, draft.labor_type, draft.product_name) == (
        30,
        "remote",
        "Labor - Remote Business",
    )
    assert draft.original["minutes"] == 45 and draft.original["labor_type"] == "onsite"
    event = ApprovalEvent.objects.get(draft=draft, kind="edited")
    assert event.before["minutes"] == 45 and event.after["minutes"] == 30
    approve(client, draft)
    draft.refresh_from_db()
    assert draft.approved["values"]["minutes"] == 30 and draft.approved["original"]["minutes"] == 45
    settle(draft)
    line = syncro.ledger("POST", f"/tickets/{syncro.ticket.vendor_id}/add_line_item")[0]
    assert line.body["quantity"] == 0.5 and line.body["name"] == "Labor - Remote Business"


def test_an_edit_with_errors_keeps_what_was_typed(syncro, world):
    draft = make_draft(syncro, world)
    bad = {**FORM, "minutes": "-5", "comment_body": "Typed but not saved"}
    page = world.client_for(world.billing).post(
        reverse("billing:draft_detail", args=[draft.uuid]), bad
    )
    assert page.status_code == 200
    assert "Typed but not saved" in page.content.decode()
    draft.refresh_from_db()
    assert draft.minutes == 45


def test_rejecting_needs_a_reason_and_sends_nothing(syncro, world):
    draft = make_draft(syncro, world)
    client = world.client_for(world.billing)
    url = reverse("billing:draft_reject", args=[draft.uuid])
    assert "This field is required" in client.post(url, {"reason": ""}).content.decode()
    client.post(url, {"reason": "Covered by the contract."})
    draft.refresh_from_db()
    assert (
        draft.status == BillingDraft.Status.REJECTED
        and draft.reject_reason == "Covered by the contract."
    )
    assert ApprovalEvent.objects.filter(
        draft=draft, kind="rejected", note="Covered by the contract."
    ).exists()
    assert not VendorWrite.objects.exists()
    assert client.post(reverse("billing:draft_approve", args=[draft.uuid])).status_code == 302
    assert not VendorWrite.objects.exists()


def test_a_vendor_422_shows_the_vendors_message_on_the_draft(syncro, world):
    draft = make_draft(syncro, world)
    BillingDraft.objects.filter(pk=draft.pk).update(product_name="")  # Syncro needs a name
    approve(world.client_for(world.billing), draft)
    settle(draft)
    assert draft.status == BillingDraft.Status.NEEDS_ATTENTION
    assert "Name can't be blank" in draft.vendor_message
    page = world.client_for(world.billing).get(reverse("billing:draft_detail", args=[draft.uuid]))
    assert "Name can&#x27;t be blank" in page.content.decode()
    assert VendorWriteAttempt.objects.filter(write__batch__draft=draft, outcome="rejected").exists()
    # nothing after the refused step was sent
    assert not syncro.ledger("POST", "/invoices")


def test_a_person_resolving_a_refused_write_is_audited(syncro, world):
    draft = make_draft(syncro, world)
    BillingDraft.objects.filter(pk=draft.pk).update(product_name="")
    approve(world.client_for(world.billing), draft)
    settle(draft)
    line = VendorWrite.objects.get(batch__draft=draft, operation="syncro.line_item.create")
    response = world.client_for(world.billing).post(
        reverse("billing:write_status", args=[line.uuid]),
        {"action": "cancel"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "drafts-changed" in response["HX-Trigger"]
    resolved = VendorWriteAttempt.objects.get(write=line, kind="resolve")
    assert resolved.actor == world.billing
    line.refresh_from_db()
    assert line.state == "cancelled" and line.resolved_by == world.billing
    assert "write.resolve" in [e.kind for e in audit.draft_timeline(draft)]


def test_htmx_approve_returns_the_row_and_a_drafts_changed_event(syncro, world):
    draft = make_draft(syncro, world)
    response = approve(world.client_for(world.billing), draft, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert text.lstrip().startswith("<tr") and f'id="draft-row-{draft.uuid}"' in text
    assert 'hx-trigger="every 2s"' in text  # polls itself while sending
    assert "drafts-changed" in response["HX-Trigger"]
    counts = world.client_for(world.billing).get(
        reverse("billing:queue"), {"part": "counts"}, HTTP_HX_REQUEST="true"
    )
    assert "To approve" in counts.content.decode() and "<html" not in counts.content.decode()


def test_bulk_approve_approves_the_checked_drafts(syncro, world):
    drafts = [make_draft(syncro, world, minutes=m) for m in (15, 30, 60)]
    client = world.client_for(world.billing)
    page = client.get(reverse("billing:queue")).content.decode()
    choices = re.findall(r'name="drafts" value="([^"]+)"', page)
    chosen = [c for c in choices if c.split(":")[0] in {str(d.uuid) for d in drafts[:2]}]
    assert len(chosen) == 2
    response = client.post(reverse("billing:queue_approve"), {"drafts": chosen})
    assert response.status_code == 302
    statuses = [BillingDraft.objects.get(pk=d.pk).status for d in drafts]
    assert statuses == ["approved", "approved", "pending"]


def test_the_queue_filters_persist_between_visits(syncro, world):
    make_draft(syncro, world)
    client = world.client_for(world.billing)
    client.get(reverse("billing:queue"), {"status": "rejected", "filtered": "1"})
    page = client.get(reverse("billing:queue")).content.decode()
    assert '<option value="rejected" selected>' in page
    assert "No draft matches these filters." in page
    page = client.get(reverse("billing:queue"), {"reset": "1"}).content.decode()
    assert "#" + syncro.ticket.number in page


def test_the_audit_csv_covers_the_date_range(syncro, world):
    draft = make_draft(syncro, world)
    services.draft_reject(draft=draft, by=world.billing, reason="Duplicate")
    from django.utils import timezone

    today = timezone.localdate().isoformat()
    response = world.client_for(world.billing).get(
        reverse("billing:audit"), {"start": today, "end": today, "format": "csv"}
    )
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["kind"] for r in rows] == ["drafted", "rejected"]
    assert rows[1]["actor"] == world.billing.email and rows[1]["note"] == "Duplicate"
    assert world.client_for(world.tech).get(reverse("billing:audit")).status_code == 403


def test_only_owners_and_admins_change_labor_types(syncro, world):
    from connectors.syncro.models import SyncroProduct

    product = SyncroProduct.objects.filter(tenant=world.tenant, name__icontains="Remote").first()
    data = {
        k: product.vendor_id
        for k in ["remote", "onsite", "emergency", "project", "internal", "travel", "website"]
    }
    url = reverse("billing:labor_types")
    assert world.client_for(world.billing).post(url, data).status_code == 403
    assert world.client_for(world.owner).post(url, data).status_code == 302
    assert (
        LaborType.objects.get(tenant=world.tenant, kind="travel").product_vendor_id
        == product.vendor_id
    )


def test_an_unmapped_labor_type_cannot_be_billed(syncro, world):
    LaborType.objects.filter(tenant=world.tenant, kind="website").update(product_vendor_id=None)
    with pytest.raises(services.BillingError):
        make_draft(syncro, world, labor_type="website")


def test_without_any_syncro_key_approval_is_refused_and_nothing_changes(syncro, world):
    draft = make_draft(syncro, world)
    Credential.objects.filter(tenant=world.tenant).update(status="revoked")
    response = approve(world.client_for(world.billing), draft, HTTP_HX_REQUEST="true")
    assert "No Syncro" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "pending" and not VendorWrite.objects.exists()


def test_minutes_become_decimal_hours():
    from billing.models import minutes_to_hours

    assert [str(minutes_to_hours(m)) for m in (30, 45, 60, 20, 90)] == [
        "0.50",
        "0.75",
        "1.00",
        "0.33",
        "1.50",
    ]


def test_the_ticket_list_billing_state_follows_the_draft(syncro, world):
    make_draft(syncro, world)
    page = world.client_for(world.billing).get(
        reverse("billing:ticket_list"), {"q": "#" + syncro.ticket.number}
    )
    assert "1 draft to approve" in page.content.decode()
    assert SyncroTicket.objects.filter(pk=syncro.ticket.pk).exists()


def test_an_approval_of_a_draft_edited_since_it_was_shown_is_refused(syncro, world):
    draft = make_draft(syncro, world)
    approver = world.client_for(world.billing)
    page = approver.get(reverse("billing:draft_detail", args=[draft.uuid])).content.decode()
    shown = re.search(r'name="plan" value="([^"]+)"', page).group(1)
    services.draft_update(draft=draft, by=world.tech, minutes=240)  # edited behind their back
    response = approver.post(
        reverse("billing:draft_approve", args=[draft.uuid]), {"plan": shown}, HTTP_HX_REQUEST="true"
    )
    assert "changed since you looked at it" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == BillingDraft.Status.PENDING and not VendorWrite.objects.exists()


def test_an_approval_without_the_shown_plan_is_refused(syncro, world):
    draft = make_draft(syncro, world)
    response = world.client_for(world.billing).post(
        reverse("billing:draft_approve", args=[draft.uuid]), HTTP_HX_REQUEST="true"
    )
    assert "Open the draft" in response.content.decode()
    assert not VendorWrite.objects.exists()
