"""The office's morning in a real browser: sync, bill 45 minutes, approve as someone else, see it
reach Syncro once; and an outsider sees none of it."""

from __future__ import annotations

from functools import partial

import pytest
from django_q.conf import Conf

from accounts.demo import seed_accounts
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.core import IN_PROCESS_BASE, Sandbox
from tests.e2e import browser

PASSWORD = "browser-test-password-1"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def office(settings, monkeypatch):
    sandbox = Sandbox.create(
        seed=21, scale="small", clock_start="2026-11-02T09:00:00Z", config=SandboxConfig.unlimited()
    )
    settings.CONNECTORS_TRANSPORT = sandbox.transport()
    settings.OUTBOX_VERIFY_DELAY_SECONDS = 0
    settings.SYNCRO_RATE_BUDGET_PER_MINUTE = 100_000
    settings.SYNCRO_RATE_LIMIT_PER_MINUTE = 100_000
    settings.SYNCRO_TENANT_READ_SHARE_PER_MINUTE = 100_000
    settings.SYNCRO_WRITE_RESERVE_PER_MINUTE = 10_000
    monkeypatch.setattr(Conf, "SYNC", True)  # django-q2 runs tasks inline
    accounts = seed_accounts(PASSWORD)
    from connectors.demo import seed_connections

    seed_connections(
        accounts.tenant, {u.email: u for u in accounts.users.values()}, root=IN_PROCESS_BASE
    )
    yield accounts, sandbox
    sandbox.close()


def _sync_runs() -> int:
    from connectors.models import SyncRun

    return SyncRun.objects.count()


sign_in = partial(browser.sign_in, password=PASSWORD)


def test_sync_bill_approve_and_invoice_in_the_browser(live_server, browser, office, shots):
    accounts, sandbox = office
    base = live_server.url
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()

    # 1. The owner signs in and syncs Syncro from the Integrations page.
    sign_in(page, base, "owner@demo.test")
    shots(page, "home")
    page.click("nav >> text=Integrations")
    card = page.locator("[id^=conn-]", has_text="Syncro").first
    shots(page, "integrations-before")
    card.locator("button", has_text="Sync now").click()
    page.wait_for_selector("text=Succeeded", timeout=120_000)
    shots(page, "integrations-synced")

    from billing.demo import seed_demo as seed_labor_types

    seed_labor_types(accounts, open("/dev/null", "w"))  # noqa: SIM115  labor types from mirrored products

    # 2. Open a ticket and bill 45 minutes of onsite labor.
    page.click("nav >> text=Tickets")
    page.wait_for_selector("table")
    shots(page, "tickets")
    page.locator("table tbody tr a").first.click()
    page.wait_for_selector("text=Bill time")
    ticket_url = page.url
    page.click("text=Bill time")
    page.wait_for_selector("input[name=minutes]")
    page.fill("input[name=minutes]", "45")
    page.select_option("select[name=labor_type]", "onsite")
    page.fill("input[name=comment_subject]", "Resolution")
    page.fill("textarea[name=comment_body]", "Replaced the failed switch in the server room.")
    page.select_option("select[name=visibility]", "public_quiet")
    page.fill("input[name=line_description]", "Onsite: switch replacement")
    shots(page, "bill-time")
    page.click("button:has-text('Save draft')")
    page.wait_for_selector("text=draft", timeout=30_000)
    shots(page, "draft-saved")
    context.close()

    # 3. The billing clerk approves it, sees the payloads, the amount and whose key, and watches
    #    the writes confirm: the draft page refreshes itself, nobody reloads and nothing syncs.
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    sign_in(page, base, "billing@demo.test")
    page.click("nav >> text=Billing")
    page.wait_for_selector("text=45")
    shots(page, "queue")
    page.locator("a[href*='/billing/drafts/']").first.click()
    approve = page.locator("button:has-text('Approve and send')")
    approve.wait_for()
    assert "$" in approve.inner_text()  # the button states the amount
    key_note = page.locator(".key-note").inner_text()
    assert "the key of the person who did the work" in key_note  # attribution: drafter, named
    shots(page, "draft-before-approval")
    approve.click()
    page.wait_for_selector("#draft-status:has-text('Invoiced')", timeout=60_000)
    shots(page, "draft-confirmed")

    from billing.models import BillingDraft

    draft = BillingDraft.objects.get()
    ticket_id = draft.ticket_vendor_id
    records = sandbox.syncro.ticket_records(ticket_id)
    assert len([c for c in records["comments"] if "Replaced the failed switch" in c["body"]]) == 1
    lines = [
        li for li in records["line_items"] if "switch replacement" in (li["description"] or "")
    ]
    assert len(lines) == 1
    assert len(records["invoices"]) == 1
    posts = sandbox.ledger.writes(
        vendor="syncro", method="POST", path=f"/tickets/{ticket_id}/add_line_item"
    )
    assert len(posts) == 1
    assert posts[0].body["quantity"] in (0.75, "0.75")
    assert posts[0].body["taxable"] is False
    drafter_key = sandbox.ledger.writes(vendor="syncro", method="POST")[0].auth
    assert {w.auth for w in sandbox.ledger.writes(vendor="syncro", method="POST")} == {drafter_key}
    assert drafter_key == "user:1737"  # the drafter's own Syncro key (attribution: drafter)

    # 4. Without any sync, the ticket page shows Invoiced, the comment, the line item with its
    #    amount, and links to the invoice page whose total is the sandbox's.
    runs_before = _sync_runs()
    page.goto(ticket_url)
    assert page.locator("#ticket-status").inner_text().strip() == "Invoiced"
    assert page.locator("#comments", has_text="Replaced the failed switch").count() == 1
    row = page.locator("#ticket-billing tr", has_text="switch replacement")
    amount = float(lines[0]["price_retail"]) * float(lines[0]["quantity"])
    assert f"${amount:,.2f}" in row.inner_text()
    assert "line item" in page.locator("#ticket-writes").inner_text().lower()
    shots(page, "ticket-after")
    invoice = records["invoices"][0]
    page.locator("#ticket-billing a[href*='/billing/invoices/']").first.click()
    page.wait_for_selector("#invoice-total")
    assert f"${float(invoice['total']):,.2f}" in page.locator("#invoice-total").inner_text()
    shots(page, "invoice-page")
    assert _sync_runs() == runs_before  # nothing was synced to show it
    context.close()

    # 5. An outsider from another company sees none of it.
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    sign_in(page, base, "outsider@other.test")
    response = page.goto(ticket_url)
    assert response.status == 404
    shots(page, "outsider-ticket-404")
    page.goto(f"{base}/billing/")
    assert "45" not in page.locator("main").inner_text() or "No drafts" in page.content()
    response = page.goto(f"{base}/billing/drafts/{draft.uuid}/")
    assert response.status == 404
    shots(page, "outsider-draft-404")
    context.close()
    assert len(shots.taken) >= 11
