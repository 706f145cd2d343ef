"""A new company connects Syncro in the browser without a superuser: the owner of Other Co
(``outsider@other.test`` from ``seed_demo``) opens Integrations, types a wrong token (refused
with Syncro's answer, the subdomain kept), then the sandbox's token: the verified identity shows,
the first sync runs and the tickets are there. Then My vendor keys."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import pytest
from django.core.management import call_command
from django_q.conf import Conf

from connectors.sandbox import accounts as demo
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.core import IN_PROCESS_BASE, Sandbox
from tests.e2e import browser

PASSWORD = "browser-test-password-2"
WRONG = "sx-wrong-token-00000000"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _own_limiter(settings, tmp_path):
    """A limiter file of this test's own: budgets another test spent do not carry over."""
    from connectors import ratelimit

    settings.RATE_LIMIT_SQLITE_PATH = str(tmp_path / "ratelimit.sqlite")
    ratelimit.reset_buckets()
    yield
    ratelimit.reset_buckets()


@pytest.fixture
def new_company(settings, monkeypatch):
    sandbox = Sandbox.create(
        seed=21, scale="small", clock_start="2026-11-02T09:00:00Z", config=SandboxConfig.unlimited()
    )
    settings.CONNECTORS_TRANSPORT = sandbox.transport()
    settings.SYNCRO_BASE_URL_TEMPLATE = IN_PROCESS_BASE + "/syncro/{account}/api/v1"
    settings.SYNCHROTEAM_BASE_URL = IN_PROCESS_BASE + "/synchroteam/api/v3"
    settings.FIELDCAMP_BASE_URL = IN_PROCESS_BASE + "/fieldcamp/api/v1"
    settings.SYNCRO_RATE_BUDGET_PER_MINUTE = 100_000
    settings.SYNCRO_RATE_LIMIT_PER_MINUTE = 100_000
    settings.SYNCRO_TENANT_READ_SHARE_PER_MINUTE = 100_000
    settings.SYNCRO_WRITE_RESERVE_PER_MINUTE = 10_000
    monkeypatch.setattr(Conf, "SYNC", True)  # django-q2 runs the first sync inline
    call_command("seed_demo", password=PASSWORD, stdout=open("/dev/null", "w"))  # noqa: SIM115
    yield sandbox
    sandbox.close()


sign_in = partial(browser.sign_in, password=PASSWORD)


def test_a_new_companys_owner_connects_syncro_and_reads_tickets(
    live_server, browser, new_company, shots
):
    from accounts.models import Tenant
    from connectors.syncro.models import SyncroTicket

    base = live_server.url
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    started = time.monotonic()
    sign_in(page, base, "outsider@other.test")
    page.click("nav >> text=Integrations")
    shots(page, "integrations-no-connection")
    page.click("text=Connect Syncro")
    page.wait_for_selector("input[name=account]")
    page.fill("input[name=account]", "demo")
    page.fill("input[name=secret]", WRONG)
    shots(page, "connect-form")
    page.click("button:has-text('Verify and connect')")
    page.wait_for_selector("text=Syncro refused this key")
    assert page.input_value("input[name=account]") == "demo"  # kept
    assert page.input_value("input[name=secret]") == ""  # never echoed
    assert "HTTP 401: Not authorized" in page.inner_text(".connect-card")
    shots(page, "connect-wrong-key")
    page.fill("input[name=secret]", demo.syncro_user_by_id(1735).token)
    page.click("button:has-text('Verify and connect')")
    page.wait_for_selector("text=Authenticated as Michael Swanson (user_id=1735)", timeout=120_000)
    assert "first sync started" in page.inner_text(".messages")
    shots(page, "connect-success")
    page.click("nav >> text=Tickets")
    page.wait_for_selector("table tbody tr")
    elapsed = time.monotonic() - started
    shots(page, "tickets")
    other = Tenant.objects.get(slug="other-co")
    mirrored = SyncroTicket.objects.filter(tenant=other).count()
    assert mirrored == new_company.store.counts_by_kind()["syncro.ticket"]
    assert page.locator("table tbody tr").count() > 0
    folder = Path(shots.taken[0]).parent
    (folder / "timing.txt").write_text(
        f"sign-in to first mirrored tickets: {elapsed:.1f} s ({mirrored} tickets)\n"
    )

    # FieldCamp asks for its key and an optional webhook secret; neither is echoed on refusal.
    page.click("nav >> text=Integrations")
    page.click("text=Connect FieldCamp")
    page.fill("input[name=account]", "Field crew")
    page.fill("input[name=secret]", "fc_live_wrong_key_0000")
    page.fill("input[name=webhook_secret]", "whsec_typed_0000")
    page.click("button:has-text('Verify and connect')")
    page.wait_for_selector("text=FieldCamp refused this key")
    assert page.input_value("input[name=account]") == "Field crew"
    assert page.input_value("input[name=webhook_secret]") == ""
    shots(page, "connect-fieldcamp-wrong-key")

    # My vendor keys: the owner has none yet and sees the team; a wrong token is refused.
    page.click("summary:has-text('Other Co')")
    page.click("text=My vendor keys")
    page.wait_for_selector("text=Team keys")
    shots(page, "my-keys-owner")
    page.fill("input[name=secret]", WRONG)
    page.click("button:has-text('Verify and save my token')")
    page.wait_for_selector("text=Not authorized")
    shots(page, "my-keys-wrong-token")
    page.fill("input[name=secret]", demo.syncro_user_by_id(1737).token)
    page.click("button:has-text('Verify and save my token')")
    page.wait_for_selector("text=Authenticated as Winter Reyes (user_id=1737)")
    shots(page, "my-keys-added")
    page.click("summary:has-text('Rotate')")
    page.fill("details[open] input[name=secret]", WRONG)
    page.click("button:has-text('Verify and save the new token')")
    page.wait_for_selector("details[open] >> text=Not authorized")
    shots(page, "my-keys-rotate-refused")
    assert "Winter Reyes (user_id=1737)" in page.inner_text(".key-card")  # the old key stays
    context.close()

    # The demo company's owner sees whose key is missing in a team of five.
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    sign_in(page, base, "owner@demo.test")
    page.goto(f"{base}/integrations/keys/")
    team = page.locator("section[aria-labelledby=team-keys]")
    assert "no key" in team.locator("tr", has_text="tech@demo.test").inner_text()
    assert "Howard Enos" in team.locator("tr", has_text="billing@demo.test").inner_text()
    assert "outsider@other.test" not in team.inner_text()
    shots(page, "my-keys-demo-owner-team")
    context.close()


class StopHere(Exception):
    """Raised from the page callback once the screenshot is taken (ends the sync early)."""


def test_the_first_sync_after_connecting_shows_its_forecast(live_server, browser, settings, shots):
    """No inline worker here: the connect queues the first sync, the test runs it as the worker
    would, throttled, and looks at the card mid-way."""
    from accounts.demo import seed_accounts
    from connectors.models import SyncRun
    from connectors.services import sync_execute

    pages = dict(SandboxConfig().syncro_page_sizes, tickets=5)
    sandbox = Sandbox.create(
        seed=21,
        scale="small",
        clock_start="2026-11-02T09:00:00Z",
        config=SandboxConfig.unlimited(syncro_page_sizes=pages),
    )
    settings.CONNECTORS_TRANSPORT = sandbox.transport()
    settings.SYNCRO_BASE_URL_TEMPLATE = IN_PROCESS_BASE + "/syncro/{account}/api/v1"
    settings.SYNCRO_TENANT_READ_SHARE_PER_MINUTE = 30  # 60 pages of tickets: about 2 minutes
    seed_accounts(PASSWORD)
    base = live_server.url
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    sign_in(page, base, "outsider@other.test")
    page.goto(f"{base}/integrations/connect/syncro/")
    page.fill("input[name=account]", "demo")
    page.fill("input[name=secret]", demo.syncro_user_by_id(1735).token)
    page.click("button:has-text('Verify and connect')")
    page.wait_for_selector("text=first sync started")
    runs = list(SyncRun.objects.filter(status="queued").order_by("pk").values_list("pk", flat=True))
    assert runs, "the connect queued the first sync"
    seen = {}

    def on_page(run):
        if run.stream.resource != "tickets" or run.pages < 6:
            return
        page.goto(f"{base}/integrations/")
        block = page.locator(".sync-progress").first
        block.wait_for()
        seen["text"] = page.locator(".conn-card").first.inner_text()
        seen["shot"] = shots(page, "first-sync-forecast")
        raise StopHere

    try:
        with pytest.raises(StopHere):
            sync_execute(runs, on_page=on_page)
    finally:
        sandbox.close()
    assert "Authenticated as Michael Swanson (user_id=1735)" in seen["text"]
    assert "Syncing tickets" in seen["text"] and "Done by" in seen["text"]
