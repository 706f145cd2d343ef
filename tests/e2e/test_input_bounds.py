"""A date out of range and an overtime threshold out of bounds, as a person sees them."""

from __future__ import annotations

import pytest

from accounts.demo import seed_accounts
from accounts.inputs import DATE_RANGE_MESSAGE
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_refused_dates_and_overtime_are_said_in_words(live_server, browser, shots):
    seed_accounts(PASSWORD)
    base = live_server.url
    page = browser.new_context(viewport={"width": 1366, "height": 860}).new_page()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "owner@demo.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/jobs/board/?date=9999-12-31")
    assert DATE_RANGE_MESSAGE in page.content()
    shots(page, "board-date-refused")
    page.goto(f"{base}/billing/audit/?start=2020-01-01&end=9999-12-31")
    assert DATE_RANGE_MESSAGE in page.content()
    shots(page, "audit-end-refused")
    page.goto(f"{base}/company/")
    page.fill("input[name=overtime_hours_per_week]", "-5")
    page.click('button:has-text("Save")')
    assert "between 1 and 168" in page.content()
    assert page.input_value("input[name=overtime_hours_per_week]") == "-5"
    shots(page, "overtime-refused")
