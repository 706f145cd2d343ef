"""Alerts in a real browser: problems made the real way on the sandbox (a spent Synchroteam quota,
a disconnected Google Calendar, a refused Syncro key) show in the header bell and the alerts list;
snoozing one from the list lowers the bell at once; the e-mail settings page keeps a choice; an
outsider sees none of it."""

from __future__ import annotations

import re
from functools import partial

import pytest
from django.core import mail

from accounts.demo import seed_accounts
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.core import IN_PROCESS_BASE, Sandbox
from tests.e2e import browser

PASSWORD = "browser-test-password-1"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def office(settings):
    from django.utils import timezone

    sandbox = Sandbox.create(
        seed=21, scale="small", clock_start=timezone.now(), frozen=True,
        config=SandboxConfig.unlimited(),
    )  # fmt: skip
    settings.CONNECTORS_TRANSPORT = sandbox.transport()
    settings.SYNCHROTEAM_QUOTA_RESERVE = 2
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    accounts = seed_accounts(PASSWORD)
    from connectors.demo import seed_connections

    connections = seed_connections(
        accounts.tenant, {u.email: u for u in accounts.users.values()}, root=IN_PROCESS_BASE
    )
    yield accounts, sandbox, {c.vendor: c for c in connections}
    sandbox.close()


def make_problems(sandbox, connections) -> None:
    """Three problems, each through the product's own path (autocommit: the hooks run)."""
    from accounts.models import Credential
    from connectors.services import connection_sync_now, connection_verify

    sandbox.configure(synchroteam_daily_quota=10)
    connection_sync_now(connections["synchroteam"], mode="full")
    sandbox.fieldcamp.set_connected("google-calendar", False)
    connection_sync_now(connections["fieldcamp"], resources=["sync_jobs"])
    shared = Credential.objects.get(vendor="syncro", owner__isnull=True)
    shared.rotate("sx-wrong-token-0000", by=None)
    assert not connection_verify(connections["syncro"]).ok


sign_in = partial(browser.sign_in, password=PASSWORD)


def bell(page) -> str:
    return page.locator("#alerts-bell").inner_text().strip()


def test_alerts_show_in_the_bell_and_the_list_and_snooze_from_the_browser(
    live_server, browser, office, shots
):
    accounts, sandbox, connections = office
    make_problems(sandbox, connections)
    from connectors.alerts.models import Alert

    assert Alert.objects.filter(cleared_at__isnull=True).count() == 3
    assert len(mail.outbox) == 3 and all(m.to == ["owner@demo.test"] for m in mail.outbox)

    base = live_server.url
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    sign_in(page, base, "owner@demo.test")
    assert bell(page) == "3"
    shots(page, "bell-with-count")

    page.click("#alerts-bell")
    page.wait_for_selector("#alerts-list")
    body = page.inner_text("#alerts-list")
    assert "daily request quota is spent" in body
    assert "Google Calendar is not connected" in body
    assert "was refused by Syncro" in body
    shots(page, "alerts-list")

    row = page.locator(".alert-row", has_text="Google Calendar")
    row.locator("button", has_text="1 day").click()
    page.wait_for_selector("text=Snoozed until")
    assert bell(page) == "2"  # swapped out of band by the same answer
    page.locator(".alert-row", has_text="quota").locator("button", has_text="Acknowledge").click()
    page.wait_for_selector("text=acknowledged by Olivia Owens")
    shots(page, "alerts-after-snooze-and-acknowledge")

    page.click("text=E-mail settings")
    page.wait_for_selector("text=Alert e-mail")
    page.uncheck("input[value=integration_disconnected]")
    shots(page, "alert-email-settings")
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Your alert e-mail settings are saved.")
    assert not page.is_checked("input[value=integration_disconnected]")
    assert page.is_checked("input[value=stream_failing]")
    context.close()

    tech = browser.new_context(viewport={"width": 1366, "height": 860})
    page = tech.new_page()
    sign_in(page, base, "tech@demo.test")
    assert bell(page) == ""  # none of the three is a technician's
    page.goto(f"{base}/alerts/settings/")
    assert page.locator("input[name=email_kinds]").count() == 2  # the kinds that can be theirs
    assert page.locator("text=only your own keys").count() == 1
    shots(page, "alert-email-settings-technician")
    tech.close()

    other = browser.new_context(viewport={"width": 1366, "height": 860})
    page = other.new_page()
    sign_in(page, base, "outsider@other.test")
    assert re.fullmatch(r"", bell(page))  # no count at all
    page.goto(f"{base}/alerts/")
    assert "No open alerts" in page.inner_text("#alerts-list")
    alert = Alert.objects.filter(cleared_at__isnull=True).first()
    response = page.request.post(f"{base}/alerts/{alert.uuid}/snooze/", form={"duration": "1h"})
    assert response.status in (403, 404)  # no CSRF token from here; with one it is a 404 (tests)
    other.close()
