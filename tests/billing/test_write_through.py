"""Write-through: a confirmed write is in the mirror at once, and the pages follow it.

Every test approves a real draft against the in-process Syncro sandbox and runs the outbox; no
sync runs after the approval (`SyncRun` rows are counted), so what the mirror and the pages show
comes from the write-through alone. Expected values are read from the sandbox's own records.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import BillingDraft
from billing.templatetags.billing_tags import money
from connectors.models import SyncRun
from connectors.outbox import executor
from connectors.outbox.models import VendorWrite
from connectors.syncro import mirror
from connectors.syncro.client import SyncroClient
from connectors.syncro.models import (
    SyncroInvoice,
    SyncroLineItem,
    SyncroTicket,
    SyncroTicketComment,
)
from connectors.syncro.writes import (
    COMMENT_CREATE,
    INVOICE_CREATE,
    LINE_ITEM_CREATE,
    TICKET_UPDATE,
)
from tests.billing.test_drafts import approve, make_draft

pytestmark = pytest.mark.django_db(transaction=False)

POLL = "every 1s"


def _writes(draft: BillingDraft) -> dict[str, VendorWrite]:
    return {w.operation: w for w in VendorWrite.objects.filter(batch__draft=draft)}


def _records(syncro):
    return syncro.sandbox.syncro.ticket_records(syncro.ticket.vendor_id)


def _approved(syncro, world, **changes) -> BillingDraft:
    draft = make_draft(syncro, world, **changes)
    assert approve(world.client_for(world.billing), draft).status_code == 302
    return draft


def _settled(draft: BillingDraft) -> BillingDraft:
    executor.run_until_settled()
    draft.refresh_from_db()
    return draft


def _assert_mirror_matches_the_sandbox(syncro, draft: BillingDraft) -> SyncroInvoice:
    """The ticket, the comment, the line item and the invoice of `draft` are in the mirror as
    the sandbox holds them; returns the mirrored invoice."""
    writes = _writes(draft)
    assert {w.state for w in writes.values()} == {VendorWrite.State.CONFIRMED}
    rec = _records(syncro)
    ticket = SyncroTicket.objects.get(
        connection=syncro.connection, vendor_id=syncro.ticket.vendor_id
    )
    assert ticket.status == "Invoiced" == rec["ticket"]["status"]

    comment = SyncroTicketComment.objects.get(
        connection=syncro.connection, vendor_id=int(writes[COMMENT_CREATE].remote_id)
    )
    assert comment.ticket_vendor_id == syncro.ticket.vendor_id
    assert writes[COMMENT_CREATE].marker in comment.body and not comment.is_deleted

    vendor_line = next(
        li for li in rec["line_items"] if str(li["id"]) == writes[LINE_ITEM_CREATE].remote_id
    )
    ticket_line = SyncroLineItem.objects.get(
        connection=syncro.connection, vendor_id=vendor_line["id"]
    )
    assert ticket_line.price == Decimal(str(vendor_line["price_retail"])) > 0
    assert ticket_line.ticket_vendor_id == syncro.ticket.vendor_id

    invoice_id = int(writes[INVOICE_CREATE].remote_id)
    vendor_invoice = next(i for i in rec["invoices"] if i["id"] == invoice_id)
    invoice = SyncroInvoice.objects.get(connection=syncro.connection, vendor_id=invoice_id)
    assert invoice.total == Decimal(vendor_invoice["total"]) > 0
    assert invoice.number == str(vendor_invoice["number"])
    assert invoice.ticket_vendor_id == syncro.ticket.vendor_id
    vendor_lines = [li for li in rec["invoice_line_items"] if li["invoice_id"] == invoice_id]
    lines = SyncroLineItem.objects.filter(
        connection=syncro.connection, invoice_vendor_id=invoice_id, is_deleted=False
    )
    assert sorted(li.vendor_id for li in lines) == sorted(li["id"] for li in vendor_lines)
    ours = lines.get(name__contains=writes[LINE_ITEM_CREATE].marker)
    assert ours.price == ticket_line.price and ours.ticket_vendor_id == syncro.ticket.vendor_id
    # the pulled ticket line item is not also counted as "not invoiced"
    assert not SyncroLineItem.objects.filter(
        connection=syncro.connection,
        ticket_vendor_id=syncro.ticket.vendor_id,
        invoice_vendor_id__isnull=True,
        is_deleted=False,
    ).exists()
    return invoice


def test_an_approved_draft_is_in_the_mirror_and_on_the_ticket_page_without_a_sync(
    syncro, world, monkeypatch
):
    gets = []
    real_get_invoice = SyncroClient.get_invoice

    def counting_get_invoice(self, invoice_id):
        gets.append(str(invoice_id))
        return real_get_invoice(self, invoice_id)

    monkeypatch.setattr(SyncroClient, "get_invoice", counting_get_invoice)
    runs = SyncRun.objects.count()
    assert SyncroTicket.objects.get(pk=syncro.ticket.pk).status != "Invoiced"

    draft = _settled(_approved(syncro, world))

    assert SyncRun.objects.count() == runs  # no sync ran
    assert draft.status == BillingDraft.Status.INVOICED
    invoice = _assert_mirror_matches_the_sandbox(syncro, draft)
    assert gets == [str(invoice.vendor_id)]  # after_confirm's read is reused, not repeated

    client = world.client_for(world.billing)
    page = client.get(reverse("billing:ticket_detail", args=[syncro.ticket.vendor_id]))
    html = page.content.decode()
    assert re.search(r'id="ticket-status"[^>]*>Invoiced<', html)
    assert "Replaced the failed switch in the server room." in html  # the comment
    assert "Switch replacement" in html and "Labor - Onsite Business" in html  # the line item
    currency = world.tenant.currency
    line = SyncroLineItem.objects.get(
        connection=syncro.connection,
        invoice_vendor_id=invoice.vendor_id,
        name__contains=_writes(draft)[LINE_ITEM_CREATE].marker,
    )
    assert money(line.amount, currency) in html  # the line item's amount
    invoice_url = reverse("billing:invoice_detail", args=[invoice.vendor_id])
    assert f'href="{invoice_url}"' in html
    assert "Nothing sent from the portal" not in html

    invoice_page = client.get(invoice_url).content.decode()
    vendor_invoice = next(i for i in _records(syncro)["invoices"] if i["id"] == invoice.vendor_id)
    total = money(Decimal(vendor_invoice["total"]), currency)
    assert re.search(rf'id="invoice-total">{re.escape(total)}<', invoice_page)
    assert f"#{invoice.number}" in invoice_page and "Unpaid" in invoice_page
    assert "Switch replacement" in invoice_page and money(line.price, currency) in invoice_page


def test_the_invoice_is_linked_from_the_draft_page_and_the_queue(syncro, world):
    draft = _settled(_approved(syncro, world))
    invoice_url = reverse(
        "billing:invoice_detail", args=[int(_writes(draft)[INVOICE_CREATE].remote_id)]
    )
    client = world.client_for(world.billing)
    draft_page = client.get(reverse("billing:draft_detail", args=[draft.uuid])).content.decode()
    assert f'href="{invoice_url}"' in draft_page
    queue = client.get(reverse("billing:queue"), {"status": "all", "filtered": 1})
    assert f'href="{invoice_url}"' in queue.content.decode()


def test_writes_confirmed_by_a_look_after_an_ambiguous_answer_end_with_the_mirror_right(
    syncro, world
):
    # Every POST of the chain (comment, line item, invoice) commits and then loses its answer,
    # and so does the PUT of the status: each write is confirmed by `find`, without a body.
    syncro.sandbox.faults.add("syncro POST * reset_after_commit times=3")
    syncro.sandbox.faults.add("syncro PUT /tickets/* error_after_commit status=502 times=1")
    draft = _settled(_approved(syncro, world))

    writes = _writes(draft)
    for write in writes.values():
        kinds = list(write.attempts.values_list("kind", "outcome"))
        assert kinds[0] == ("send", "ambiguous") and ("verify", "found") in kinds, kinds
        assert write.response is None
    _assert_mirror_matches_the_sandbox(syncro, draft)
    marker = writes[COMMENT_CREATE].marker
    assert len([c for c in _records(syncro)["comments"] if marker in c["body"]]) == 1
    assert len(syncro.ledger("POST", "/invoices")) == 1


def test_a_failing_write_through_leaves_the_write_confirmed(syncro, world, monkeypatch):
    def broken_invoice(write):
        raise RuntimeError("mapping exploded")

    def duplicate_ticket(write):
        # a database error inside the savepoint: the confirming transaction must survive it
        row = SyncroTicket.objects.get(pk=syncro.ticket.pk)
        row.pk = None
        row.save()

    monkeypatch.setattr(mirror, "invoice", broken_invoice)
    monkeypatch.setattr(mirror, "ticket", duplicate_ticket)
    draft = _settled(_approved(syncro, world))

    writes = _writes(draft)
    assert {w.state for w in writes.values()} == {VendorWrite.State.CONFIRMED}
    assert draft.status == BillingDraft.Status.INVOICED
    invoice_id = int(writes[INVOICE_CREATE].remote_id)
    assert not SyncroInvoice.objects.filter(vendor_id=invoice_id).exists()
    assert SyncroTicket.objects.filter(vendor_id=syncro.ticket.vendor_id).count() == 1
    # the comment's and line item's write-through still happened
    assert SyncroTicketComment.objects.filter(
        vendor_id=int(writes[COMMENT_CREATE].remote_id)
    ).exists()
    # the invoice page says it is not mirrored yet, and links the write
    page = world.client_for(world.billing).get(reverse("billing:invoice_detail", args=[invoice_id]))
    html = page.content.decode()
    assert page.status_code == 200 and "not in the portal's mirror yet" in html
    assert reverse("billing:write_status", args=[writes[INVOICE_CREATE].uuid]) in html


def test_the_draft_and_ticket_pages_poll_while_writes_are_in_flight_and_stop_when_settled(
    syncro, world
):
    client = world.client_for(world.billing)
    draft = _approved(syncro, world)
    draft_url = reverse("billing:draft_detail", args=[draft.uuid])
    ticket_url = reverse("billing:ticket_detail", args=[syncro.ticket.vendor_id])

    draft_page = client.get(draft_url).content.decode()
    assert re.search(r'id="draft-writes"[^>]*hx-trigger="[^"]*every 1s', draft_page)
    assert re.search(r'id="draft-status"[^>]*>Approved, sending<', draft_page)
    ticket_page = client.get(ticket_url).content.decode()
    assert re.search(r'id="ticket-writes"[^>]*hx-trigger="[^"]*every 1s', ticket_page)
    assert ticket_page.count("/billing/writes/") >= 4  # the draft's four writes are listed

    _settled(draft)

    assert POLL not in client.get(draft_url).content.decode()
    assert POLL not in client.get(ticket_url).content.decode()
    part = client.get(draft_url, {"part": "writes"}, HTTP_HX_REQUEST="true").content.decode()
    assert POLL not in part and "<html" not in part
    assert re.search(r'id="draft-status"[^>]*hx-swap-oob="true"[^>]*>Invoiced<', part)
    live = client.get(ticket_url, {"part": "writes"}, HTTP_HX_REQUEST="true").content.decode()
    assert POLL not in live and "<html" not in live
    assert re.search(r'id="ticket-status"[^>]*hx-swap-oob="true"[^>]*>Invoiced<', live)
    assert 'id="ticket-billing" hx-swap-oob="true"' in live


def test_sent_from_the_portal_lists_ticket_actions_and_draft_writes(syncro, world):
    from billing.ticket_actions import comment_plan
    from connectors.outbox.plans import new_nonce
    from connectors.outbox.services import plan_enqueue

    draft = _settled(_approved(syncro, world))
    plan = comment_plan(
        connection=syncro.connection,
        user=world.billing,
        nonce=new_nonce(),
        ticket=syncro.ticket,
        subject="Follow-up",
        body="Called the customer back.",
        hidden=True,
        do_not_email=True,
    )
    plan_enqueue(plan, by=world.billing)
    executor.run_until_settled()

    html = (
        world.client_for(world.billing)
        .get(reverse("billing:ticket_detail", args=[syncro.ticket.vendor_id]))
        .content.decode()
    )
    section = html[html.index('id="ticket-writes"') :]
    writes = VendorWrite.objects.filter(target__ticket_id=syncro.ticket.vendor_id)
    assert writes.count() == 5
    for write in writes:
        assert reverse("billing:write_status", args=[write.uuid]) in section
    assert section.count(">Confirmed<") >= 5
    assert {w.operation for w in _writes(draft).values()} == {
        COMMENT_CREATE,
        LINE_ITEM_CREATE,
        INVOICE_CREATE,
        TICKET_UPDATE,
    }
    # the action's comment is in the mirror too
    assert SyncroTicketComment.objects.filter(body__contains="Called the customer back.").exists()


def test_the_invoice_page_is_the_tenants_only(syncro, world):
    draft = _settled(_approved(syncro, world))
    invoice_id = int(_writes(draft)[INVOICE_CREATE].remote_id)
    url = reverse("billing:invoice_detail", args=[invoice_id])
    assert world.client_for(world.billing).get(url).status_code == 200
    assert world.client_for(world.outsider).get(url).status_code == 404
    billing = world.client_for(world.billing)
    for unknown in (invoice_id + 999_999, 0, 10**30):
        assert billing.get(f"/billing/invoices/{unknown}/").status_code == 404, unknown
    # a synced invoice of another ticket opens too; an invoice of another tenant's mirror not
    other = SyncroInvoice.objects.exclude(vendor_id=invoice_id).first()
    assert billing.get(reverse("billing:invoice_detail", args=[other.vendor_id])).status_code == 200
    other.tenant = world.other_tenant
    other.save()
    assert billing.get(reverse("billing:invoice_detail", args=[other.vendor_id])).status_code == 404
