"""Staff and two-step sign-in in a real browser: the owner invites, the invitee sets a password,
enrols an authenticator (QR on the page) and signs in with a code. Screenshots of each page."""

from __future__ import annotations

import re
import time

import pytest
from django.core import mail
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.demo import seed_accounts
from tests.accounts.otp_helpers import code_for

PASSWORD = "browser-test-password-1"
NEW_PASSWORD = "invitee-browser-passphrase-5"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_invite_set_password_enrol_and_sign_in_with_a_code(live_server, browser, shots):
    accounts = seed_accounts(PASSWORD)
    base = live_server.url
    owner = browser.new_context(viewport={"width": 1366, "height": 860}).new_page()
    owner.goto(f"{base}/login/")
    owner.fill("input[name=username]", "owner@demo.test")
    owner.fill("input[name=password]", PASSWORD)
    owner.click("button[type=submit]")
    owner.wait_for_url(f"{base}/")

    owner.goto(f"{base}/company/staff/")
    shots(owner, "staff-page")
    owner.click("text=Invite someone")
    owner.fill("input[name=email]", "nora@demo.test")
    owner.select_option("select[name=role]", "billing")
    shots(owner, "invite-form")
    owner.click("button:has-text('Send invitation')")
    owner.wait_for_selector("text=Invitation sent to nora@demo.test")
    shots(owner, "staff-page-invited")
    (message,) = mail.outbox
    path = re.search(r"https?://[^/]+(/invite/\S+/)", message.body).group(1)

    accounts.tenant.require_mfa = True
    accounts.tenant.save()

    nora = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    nora.goto(base + path)
    nora.fill("input[name=first_name]", "Nora")
    nora.fill("input[name=last_name]", "Novak")
    nora.fill("input[name=password1]", NEW_PASSWORD)
    nora.fill("input[name=password2]", NEW_PASSWORD)
    shots(nora, "set-password")
    nora.click("button[type=submit]")
    nora.wait_for_selector("text=Your password is set")
    used = browser.new_context().new_page()
    used.goto(base + path)
    assert used.locator("h1").inner_text() == "This invitation was already used"
    shots(used, "used-link")
    used.context.close()

    nora.fill("input[name=username]", "nora@demo.test")
    nora.fill("input[name=password]", NEW_PASSWORD)
    nora.click("button[type=submit]")
    nora.wait_for_url(f"{base}/account/two-step/enrol/")
    assert nora.locator(".mfa-qr svg").count() == 1
    shots(nora, "mfa-enrol")
    device = TOTPDevice.objects.get(user__email="nora@demo.test", confirmed=False)
    nora.fill("input[name=code]", code_for(device, time.time()))
    nora.click("button:has-text('Confirm and turn on')")
    nora.wait_for_selector("text=Your recovery codes")
    assert nora.locator(".mfa-codes li").count() == 10
    shots(nora, "recovery-codes")

    nora.click(".whoami summary")
    nora.click("button:has-text('Sign out')")
    nora.wait_for_url(f"{base}/login/")
    nora.fill("input[name=username]", "nora@demo.test")
    nora.fill("input[name=password]", NEW_PASSWORD)
    nora.click("button[type=submit]")
    nora.wait_for_url(f"{base}/login/code/")
    shots(nora, "second-step")
    device.refresh_from_db()
    nora.fill("input[name=code]", code_for(device, time.time(), offset_steps=1))
    nora.click("button[type=submit]")
    nora.wait_for_url(f"{base}/")
    assert "Nora" in nora.content()
    shots(nora, "signed-in")

    # The owner (also an approver role) has no authenticator yet: sent to enrol at the next page.
    owner.goto(f"{base}/company/staff/")
    assert owner.url == f"{base}/account/two-step/enrol/"
    accounts.tenant.require_mfa = False
    accounts.tenant.save()
    owner.goto(f"{base}/company/staff/")
    shots(owner, "staff-page-after")
    assert owner.locator("tr", has_text="nora@demo.test").locator(".badge-success").count() == 2
