"""The Integrations page during a throttled first sync, in a real browser: the bar counts the
vendor's pages, the budget is shown and "Done by HH:MM" is given (not a bar stuck at 5 %)."""

from __future__ import annotations

import re

import pytest

from accounts.demo import seed_accounts
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.core import IN_PROCESS_BASE, Sandbox

PASSWORD = "browser-test-password-1"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class StopHere(Exception):
    """Raised from the page callback once the screenshot is taken (ends the sync early)."""


@pytest.fixture
def office(settings):
    pages = dict(SandboxConfig().syncro_page_sizes, tickets=5)
    sandbox = Sandbox.create(
        seed=21,
        scale="small",
        clock_start="2026-11-02T09:00:00Z",
        config=SandboxConfig.unlimited(syncro_page_sizes=pages),
    )
    settings.CONNECTORS_TRANSPORT = sandbox.transport()
    settings.SYNCRO_TENANT_READ_SHARE_PER_MINUTE = 30  # 60 pages of tickets: about 2 minutes
    accounts = seed_accounts(PASSWORD)
    from connectors.demo import seed_connections

    connections = seed_connections(
        accounts.tenant, {u.email: u for u in accounts.users.values()}, root=IN_PROCESS_BASE
    )
    yield next(c for c in connections if c.vendor == "syncro")
    sandbox.close()


def test_the_integrations_page_shows_a_running_syncs_forecast(live_server, browser, office, shots):
    from connectors.services import connection_sync_now

    base = live_server.url
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "owner@demo.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    seen = {}

    def on_page(run):
        if run.pages < 8:
            return
        page.goto(f"{base}/integrations/")
        block = page.locator(".sync-progress").first
        block.wait_for()
        seen["text"] = block.inner_text()
        seen["value"] = block.locator("progress").get_attribute("value")
        seen["shot"] = shots(page, "integrations-during-sync")
        raise StopHere

    with pytest.raises(StopHere):
        connection_sync_now(
            office,
            mode="full",
            resources=["tickets", "ticket_comments", "invoices"],
            on_page=on_page,
        )
    text = seen["text"]
    assert "Syncing tickets" in text
    assert "8 / 60 pages · 40 records" in text
    assert seen["value"] == "13"  # 8 of 60 pages
    assert re.search(r"Done by \d\d:\d\d UTC", text)
    assert "Budget 30 requests/min" in text
    assert "Then 2 more streams" in text


def test_a_sync_paused_for_the_daily_quota_says_when_it_will_finish(
    live_server, browser, settings, shots
):
    from connectors.demo import seed_connections
    from connectors.services import connection_sync_now

    sandbox = Sandbox.create(
        seed=21,
        scale="small",
        clock_start="2026-11-02T09:00:00Z",
        config=SandboxConfig.unlimited(synchroteam_daily_quota=6),
    )
    settings.CONNECTORS_TRANSPORT = sandbox.transport()
    settings.SYNCHROTEAM_QUOTA_RESERVE = 1
    accounts = seed_accounts(PASSWORD)
    connections = seed_connections(
        accounts.tenant, {u.email: u for u in accounts.users.values()}, root=IN_PROCESS_BASE
    )
    synchroteam = next(c for c in connections if c.vendor == "synchroteam")
    try:
        (run,) = connection_sync_now(synchroteam, mode="full", resources=["activities"])
    finally:
        sandbox.close()
    assert run.status == "paused"
    base = live_server.url
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "owner@demo.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/integrations/")
    block = page.locator("[id^=conn-]", has_text="Synchroteam").locator(".sync-progress")
    shots(page, "integrations-paused-for-quota")
    text = block.inner_text()
    assert "Paused activities" in text and "5 / 7 pages" in text
    assert "waits for the daily quota" in text and "resumes 00:00 UTC" in text
    assert re.search(r"Done by 00:0\d UTC", text)
