"""Billing an office can trust (issue 11): what was approved is what is sent, once, by the key
the page named; double submits, duplicates and edits after review never bill twice or wrong."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from billing.models import ApprovalEvent, BillingDraft, TicketInvoice
from connectors.outbox import executor
from connectors.outbox.models import VendorWrite
from connectors.services import connection_client
from connectors.syncro.models import SyncroTicket
from tests.billing.test_drafts import FORM, make_draft, post_draft

pytestmark = pytest.mark.django_db(transaction=False)


def draft_url(draft) -> str:
    return reverse("billing:draft_detail", args=[draft.uuid])


def review_form(client, draft) -> dict:
    """The approve form's hidden fields as the draft page rendered them."""
    page = client.get(draft_url(draft)).content.decode()
    plan = re.search(r'name="plan" value="([^"]+)"', page)
    shown = re.search(r'name="shown" value="([^"]+)"', page)
    return {"plan": plan.group(1) if plan else "", "shown": shown.group(1) if shown else ""}


def approve_with(client, draft, form: dict, *, follow: bool = False, **extra):
    url = reverse("billing:draft_approve", args=[draft.uuid])
    return client.post(url, {**form, **extra}, follow=follow)


def ticket_writes(syncro):
    tid = syncro.ticket.vendor_id
    return {
        "comment": syncro.ledger("POST", f"/tickets/{tid}/comment"),
        "line_item": syncro.ledger("POST", f"/tickets/{tid}/add_line_item"),
        "invoice": syncro.ledger("POST", "/invoices"),
        "status": syncro.ledger("PUT", f"/tickets/{tid}"),
    }


# --- 1. approval bound to the reviewed plan ---------------------------------------------------
def test_an_edit_after_the_review_refuses_the_approval_and_sends_nothing(syncro, world):
    draft = make_draft(syncro, world, minutes=10)
    approver = world.client_for(world.billing)
    shown = review_form(approver, draft)
    world.client_for(world.tech).post(draft_url(draft), {**FORM, "minutes": "900"})
    draft.refresh_from_db()
    assert draft.minutes == 900

    response = approver.post(
        reverse("billing:draft_approve", args=[draft.uuid]), shown, follow=True
    )

    page = response.content.decode()
    assert "changed since you looked at it" in page
    assert "Minutes: 10 → 900" in page
    draft.refresh_from_db()
    assert draft.status == BillingDraft.Status.PENDING
    assert not VendorWrite.objects.filter(batch__draft=draft).exists()
    executor.run_until_settled()
    assert all(not entries for entries in ticket_writes(syncro).values())


def test_a_price_change_after_the_review_also_refuses(syncro, world):
    from connectors.syncro.models import SyncroProduct

    draft = make_draft(syncro, world)
    approver = world.client_for(world.billing)
    shown = review_form(approver, draft)
    SyncroProduct.objects.filter(tenant=world.tenant, vendor_id=draft.product_vendor_id).update(
        price_retail=999
    )
    response = approve_with(approver, draft, shown, follow=True)
    assert "Amount:" in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_pending


def test_four_eyes_blocks_the_drafter_and_whoever_edited_the_draft(syncro, world):
    world.tenant.four_eyes_approval = True
    world.tenant.save()
    draft = make_draft(syncro, world, by=world.tech, minutes=30)
    clerk = world.client_for(world.billing)
    clerk.post(draft_url(draft), {**FORM, "minutes": "60"})  # the clerk edits it

    page = clerk.get(draft_url(draft)).content.decode()
    assert "Four-eyes approval is on" in page
    assert "Blocked: Bill Barnes, Theo Tran" in page or "Blocked: Theo Tran, Bill Barnes" in page
    assert 'name="plan"' not in page  # no approve form for the editor

    forged = {"plan": f"{draft.uuid}:x"}
    response = approve_with(clerk, draft, forged, follow=True)
    assert "you edited this draft" in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_pending and not VendorWrite.objects.exists()

    owner = world.client_for(world.owner)
    approve_with(owner, draft, review_form(owner, draft))
    draft.refresh_from_db()
    assert draft.approved_by == world.owner


def test_an_edit_clears_an_earlier_rejection(syncro, world):
    draft = make_draft(syncro, world)
    world.client_for(world.billing).post(
        reverse("billing:draft_reject", args=[draft.uuid]), {"reason": "Too long"}
    )
    draft.refresh_from_db()
    assert draft.status == BillingDraft.Status.REJECTED
    world.client_for(world.tech).post(draft_url(draft), {**FORM, "minutes": "30"})
    draft.refresh_from_db()
    assert draft.status == BillingDraft.Status.PENDING and draft.rejected_by is None
    edited = ApprovalEvent.objects.get(draft=draft, kind="edited")
    assert "rejection" in edited.note


def test_bulk_approve_skips_a_draft_whose_review_changed(syncro, world):
    first = make_draft(syncro, world, minutes=15)
    second = make_draft(syncro, world, minutes=25)
    clerk = world.client_for(world.billing)
    page = clerk.get(reverse("billing:queue") + "?status=pending&filtered=1").content.decode()
    values = re.findall(r'name="drafts" value="([^"]+)"', page)
    assert len(values) == 2
    world.client_for(world.tech).post(draft_url(second), {**FORM, "minutes": "26"})
    response = clerk.post(reverse("billing:queue_approve"), {"drafts": values}, follow=True)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == BillingDraft.Status.APPROVED
    assert second.is_pending
    assert "changed since you looked at it" in response.content.decode()


# --- 2. one draft per piece of work -----------------------------------------------------------
def test_a_triple_submitted_form_makes_one_draft(syncro, world):
    client = world.client_for(world.tech)
    page = client.get(reverse("billing:draft_create", args=[syncro.ticket.vendor_id]))
    token = re.search(r'name="form_token" value="([^"]+)"', page.content.decode()).group(1)
    url = reverse("billing:draft_create", args=[syncro.ticket.vendor_id])
    for _ in range(3):
        assert client.post(url, {**FORM, "form_token": token}).status_code == 302
    assert BillingDraft.objects.count() == 1
    assert ApprovalEvent.objects.filter(kind="drafted").count() == 1


def test_a_forged_or_missing_form_token_saves_nothing_and_keeps_the_typing(syncro, world):
    client = world.client_for(world.tech)
    url = reverse("billing:draft_create", args=[syncro.ticket.vendor_id])
    for token in ["", "forged:token", "\x00\xff" * 40, "a" * 5000]:
        response = client.post(url, {**FORM, "form_token": token})
        assert response.status_code == 200
        assert "Replaced the failed switch" in response.content.decode()
    other = world.client_for(world.billing).get(url).content.decode()
    theirs = re.search(r'name="form_token" value="([^"]+)"', other).group(1)
    assert client.post(url, {**FORM, "form_token": theirs}).status_code == 200
    assert BillingDraft.objects.count() == 0


def test_the_same_work_twice_is_warned_and_needs_a_second_confirmation(syncro, world):
    client = world.client_for(world.tech)
    post_draft(client, syncro.ticket, FORM)
    post_draft(client, syncro.ticket, FORM)  # a new form: a second draft, flagged
    first, second = BillingDraft.objects.order_by("created_at", "id")
    assert first.duplicate_warning == ""
    assert "Possible duplicate" in second.duplicate_warning

    clerk = world.client_for(world.billing)
    queue = clerk.get(reverse("billing:queue") + "?status=pending&filtered=1").content.decode()
    assert queue.count("possible duplicate") == 1
    page = clerk.get(draft_url(second)).content.decode()
    assert "May bill the same work twice" in page and 'name="confirm_duplicate"' in page

    form = review_form(clerk, second)
    response = approve_with(clerk, second, form, follow=True)
    assert "Yes, bill this too" in response.content.decode()
    second.refresh_from_db()
    assert second.is_pending and not VendorWrite.objects.exists()

    approve_with(clerk, second, form, confirm_duplicate="yes")
    second.refresh_from_db()
    assert second.status == BillingDraft.Status.APPROVED
    note = ApprovalEvent.objects.get(draft=second, kind="approved").note
    assert "possible duplicate confirmed" in note


def test_a_draft_on_an_invoiced_ticket_is_warned(syncro, world):
    SyncroTicket.objects.filter(pk=syncro.ticket.pk).update(status="Invoiced")
    draft = make_draft(syncro, world)
    assert "already Invoiced" in draft.duplicate_warning


# --- 4. money ---------------------------------------------------------------------------------
def test_the_draft_and_the_queue_show_hours_times_rate(syncro, world):
    from billing import money

    draft = make_draft(syncro, world, minutes=45)
    rate = money.labor_rates(world.tenant)["onsite"].per_hour
    assert rate is not None and rate > 0
    expected = money.amount(45, rate)
    shown = f"${expected:,.2f}"
    clerk = world.client_for(world.billing)
    page = clerk.get(draft_url(draft)).content.decode()
    assert f"Approve and send {shown}" in page
    assert f"0.75 h × ${rate:,.2f}/h = <strong>{shown}</strong>" in page
    make_draft(syncro, world, minutes=30)
    queue = clerk.get(reverse("billing:queue") + "?status=pending&filtered=1").content.decode()
    total = expected + money.amount(30, rate)
    assert f'<strong class="queue-total">${total:,.2f}</strong>' in queue
    assert f"Approve {shown}" in queue


# --- 5. attribution ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("setting", "expected"),
    [("drafter", "user:1750"), ("approver", "user:1735")],
)
def test_the_ledger_shows_the_syncro_user_the_setting_names(syncro, world, setting, expected):
    """The clerk (Howard Enos, own key 1750) drafts; the owner (no key: shared, Michael Swanson
    1735) approves. The page names the user first; the sandbox ledger proves it."""
    world.tenant.billing_attribution = setting
    world.tenant.save()
    draft = make_draft(syncro, world, by=world.billing)
    owner = world.client_for(world.owner)
    page = owner.get(draft_url(draft)).content.decode()
    name = "Howard Enos" if setting == "drafter" else "Michael Swanson"
    assert f"done by <strong>{name}" in page
    assert ("This is the shared key" in page) is (setting == "approver")
    approve_with(owner, draft, review_form(owner, draft))
    executor.run_until_settled()
    writes = ticket_writes(syncro)
    for step in ("comment", "line_item", "invoice"):
        assert [e.auth for e in writes[step]] == [expected], step


@pytest.mark.parametrize("setting", ["drafter", "approver"])
def test_the_queue_says_whose_keys_approving_will_use(syncro, world, setting):
    """The owner has no key of their own (shared); the clerk has one. The queue's banner follows
    the setting, never claims a key is missing when the drafter's own key will be used."""
    world.tenant.billing_attribution = setting
    world.tenant.save()
    make_draft(syncro, world, by=world.billing)
    page = world.client_for(world.owner).get(reverse("billing:queue")).content.decode()
    assert "No Syncro key" not in page
    if setting == "drafter":
        assert "the key of the person who did the work" in page
        assert f"{world.billing}'s own key" in html.unescape(page)
        assert "Shared Syncro key" not in page
    else:
        assert "Shared Syncro key</strong> for #" in page


# --- 9. invoice per ticket --------------------------------------------------------------------
def test_invoice_per_ticket_carries_two_technicians_lines_on_one_invoice(syncro, world):
    world.tenant.invoice_mode = "per_ticket"
    world.tenant.save()
    owner = world.client_for(world.owner)
    drafts = [
        make_draft(syncro, world, by=world.tech, minutes=45),
        make_draft(syncro, world, by=world.billing, minutes=30, labor_type="remote"),
    ]
    for draft in drafts:
        approve_with(owner, draft, review_form(owner, draft))
        executor.run_until_settled()
    writes = ticket_writes(syncro)
    assert (len(writes["line_item"]), len(writes["invoice"]), len(writes["status"])) == (2, 0, 0)
    for draft in drafts:
        draft.refresh_from_db()
        assert draft.status == BillingDraft.Status.BILLED

    invoice = TicketInvoice.objects.get()
    url = reverse("billing:ticket_invoice", args=[invoice.uuid])
    queue = owner.get(reverse("billing:queue")).content.decode()
    assert "Invoices to approve" in queue and url in queue
    page = owner.get(url).content.decode()
    plan = re.search(r'name="plan" value="([^"]+)"', page).group(1)
    assert page.count("Labor - ") >= 2
    assert world.client_for(world.tech).post(url, {"plan": plan}).status_code == 403
    owner.post(url, {"plan": plan})
    executor.run_until_settled()

    writes = ticket_writes(syncro)
    assert (len(writes["line_item"]), len(writes["invoice"]), len(writes["status"])) == (2, 1, 1)
    invoice.refresh_from_db()
    assert invoice.status == BillingDraft.Status.INVOICED
    client, _ = connection_client(syncro.connection)
    remote = VendorWrite.objects.get(business_key=f"invoice:{invoice.uuid}:invoice").remote_id
    lines = client.get_invoice(remote)["line_items"]
    client.close()
    assert len(lines) == 2
    for draft in drafts:
        draft.refresh_from_db()
        assert draft.status == BillingDraft.Status.INVOICED
        assert draft.ticket_invoice_id == invoice.pk


def test_an_invoice_with_nothing_on_syncro_yet_cannot_be_approved(syncro, world):
    world.tenant.invoice_mode = "per_ticket"
    world.tenant.save()
    owner = world.client_for(world.owner)
    draft = make_draft(syncro, world)
    approve_with(owner, draft, review_form(owner, draft))  # queued, not sent yet
    invoice = TicketInvoice.objects.get()
    page = owner.get(reverse("billing:ticket_invoice", args=[invoice.uuid])).content.decode()
    assert "has reached Syncro yet" in page and "Still being sent" in page
    owner.post(reverse("billing:ticket_invoice", args=[invoice.uuid]), {"plan": "x:y"})
    invoice.refresh_from_db()
    assert invoice.is_pending


def test_another_tenants_invoice_page_is_404(syncro, world):
    world.tenant.invoice_mode = "per_ticket"
    world.tenant.save()
    draft = make_draft(syncro, world)
    owner = world.client_for(world.owner)
    approve_with(owner, draft, review_form(owner, draft))
    invoice = TicketInvoice.objects.get()
    outsider = world.client_for(world.outsider)
    url = reverse("billing:ticket_invoice", args=[invoice.uuid])
    assert outsider.get(url).status_code == 404
    assert outsider.post(url, {"plan": "x"}).status_code == 404
    assert owner.get("/billing/ticket-invoices/not-a-uuid/").status_code == 404
