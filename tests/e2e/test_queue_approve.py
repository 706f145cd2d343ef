"""Approving from the billing queue in a real browser: the row's button (HTMX) swaps the row
for its new state at once, with the same amount, and the row follows the writes to Invoiced
without a reload or a sync (`billing/rows.py` renders both)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_billing_flow import office, sign_in  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_queue_row_approves_in_place_and_keeps_its_amount(
    live_server,
    browser,
    office,  # noqa: F811 (the fixture imported above)
    shots,
):
    accounts, _sandbox = office
    from billing import services
    from billing.demo import seed_demo as seed_labor_types
    from connectors.models import Connection
    from connectors.services import connection_sync_now
    from connectors.syncro.models import SyncroTicket

    connection = Connection.objects.get(tenant=accounts.tenant, vendor="syncro")
    connection_sync_now(connection, mode="full")
    seed_labor_types(accounts, open("/dev/null", "w"))  # noqa: SIM115
    ticket = SyncroTicket.objects.filter(tenant=accounts.tenant).order_by("vendor_id").first()
    draft = services.draft_create(
        tenant=accounts.tenant,
        connection=connection,
        ticket=ticket,
        by=accounts.users["owner"],
        minutes=45,
        labor_type="onsite",
        comment_subject="Resolution",
        comment_body="Replaced the failed switch.",
        comment_hidden=False,
        comment_do_not_email=True,
        line_description="Onsite: switch replacement",
    )
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    sign_in(page, live_server.url, "billing@demo.test")
    page.goto(f"{live_server.url}/billing/")
    row = page.locator(f"#draft-row-{draft.uuid}")
    button = row.locator("button[name=plan]")
    label = button.inner_text()
    amount = re.search(r"\$[\d,]+\.\d\d", label).group(0)
    assert row.locator("td.num").inner_text().strip() == amount
    shots(page, "queue-before-approve")
    url = page.url
    button.click()
    page.wait_for_selector(f"#draft-row-{draft.uuid} .badge:has-text('Invoiced')", timeout=60_000)
    assert page.url == url  # swapped in place, never reloaded
    row = page.locator(f"#draft-row-{draft.uuid}")
    assert row.locator("td.num").inner_text().strip() == amount
    assert row.locator("button[name=plan]").count() == 0
    assert row.locator("a", has_text="Open invoice").count() == 1
    shots(page, "queue-after-approve")
    context.close()
