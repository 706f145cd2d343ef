"""The morning page and local time in a real browser: the owner, the billing clerk and the
technician each see their cards; a new company sees its checklist; a job's UTC time shows in
Los Angeles time, and a time the clocks skip is refused on the schedule form."""

from __future__ import annotations

import re
from functools import partial

import pytest

from accounts.localtime import load_zone
from tests.accounts.test_home import morning  # noqa: F401  (the fixture: a small mirror in LA)
from tests.conftest import PASSWORD
from tests.e2e import browser

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("morning"),
]


sign_in = partial(browser.sign_in, password=PASSWORD)


def test_each_role_sees_its_morning_and_a_new_company_its_checklist(
    live_server, browser, world, shots
):
    base = live_server.url
    for user, name, first_card in (
        (world.owner, "home-owner", "Drafts to approve"),
        (world.billing, "home-billing", "Drafts to approve"),
        (world.tech, "home-technician", "Your jobs today"),
    ):
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        sign_in(page, base, user.email)
        assert page.locator(".home-card h2").first.inner_text() == first_card
        assert page.locator(".zone-chip").inner_text() in ("PST", "PDT")
        shots(page, name)
        if user == world.billing:  # a card's link opens the list it counts
            page.click("#card-waiting_on_customer .home-card-link")
            page.wait_for_url("**/tickets/?status=Waiting+on+Customer&idle_days=3")
            assert page.locator("#ticket-results tbody tr").count() == 2
            shots(page, "waiting-on-customer-list")
        context.close()

    context = browser.new_context(viewport={"width": 1366, "height": 800})
    page = context.new_page()
    sign_in(page, base, world.outsider.email)
    assert page.locator("#first-run-title").inner_text() == "Get Other Co started"
    assert page.locator(".checklist li").count() == 4
    shots(page, "first-run-checklist")
    context.close()


def test_a_job_shows_local_time_and_the_schedule_form_refuses_a_skipped_time(
    live_server, browser, world, shots
):
    from accounts.models import Credential, Vendor

    Credential.create(tenant=world.tenant, vendor=Vendor.SYNCHROTEAM, label="Shared", secret="k")
    base = live_server.url
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    sign_in(page, base, world.dispatcher.email)
    page.goto(f"{base}/jobs/101/")
    scheduled = page.locator("dt:text('Scheduled') + dd").inner_text()
    assert re.search(r", 09:00 P[SD]T – 10:00$", scheduled), scheduled  # 17:00 UTC in winter
    shots(page, "job-local-time")
    page.goto(f"{base}/jobs/101/schedule/")
    page.fill("input[name=start]", "2026-03-08T02:30")
    page.fill("input[name=end]", "2026-03-08T04:00")
    page.click("button[value=preview]")
    page.wait_for_selector(".error")
    assert "does not exist in America/Los_Angeles" in page.content()
    shots(page, "schedule-dst-gap")
    context.close()


def test_a_person_picks_their_own_zone_and_the_pages_follow(live_server, browser, world, shots):
    base = live_server.url
    context = browser.new_context(viewport={"width": 1366, "height": 760})
    page = context.new_page()
    sign_in(page, base, world.owner.email)
    page.goto(f"{base}/company/")
    assert page.locator("select[name=time_zone]").input_value() == "America/Los_Angeles"
    shots(page, "company-time-zone")
    page.click(".zone-chip")
    page.wait_for_url(f"{base}/me/time-zone/")
    page.select_option("select[name=time_zone]", "Europe/Paris")
    page.click("main button[type=submit]")
    page.wait_for_selector(".msg-success")
    assert page.locator(".zone-chip").inner_text() in ("CET", "CEST")
    shots(page, "my-time-zone")
    page.goto(f"{base}/jobs/101/")
    from connectors.synchroteam.models import SynchroteamJob

    start = SynchroteamJob.objects.get(vendor_id=101).scheduled_start  # 09:00 in Los Angeles
    paris = start.astimezone(load_zone("Europe/Paris"))
    scheduled = page.locator("dt:text('Scheduled') + dd").inner_text()
    assert scheduled.endswith(f", {paris:%H:%M %Z} – {paris.hour + 1:02d}:{paris:%M}"), scheduled
    context.close()
