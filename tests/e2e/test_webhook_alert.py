"""Forged webhooks against the live server (real HTTP, raw header bytes): every one is a clean
403 or 400, a flood writes a handful of rows, and the owner sees one "signature failures spiking"
alert in the browser; the Calendars panel's webhook log shows the first refusal only."""

from __future__ import annotations

import http.client
import os
from urllib.parse import urlsplit

import pytest

from accounts.demo import seed_accounts
from connectors.sandbox import accounts as demo
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.core import IN_PROCESS_BASE, Sandbox

from .test_alerts_flow import PASSWORD, bell, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _send(base: str, path: str, headers: list[tuple[str, bytes]], body: bytes) -> int:
    """POST with exactly these header bytes (no client-side encoding or checks)."""
    where = urlsplit(base)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    conn.putrequest("POST", path)
    for name, value in headers:
        conn.putheader(name, value)
    conn.endheaders(body)
    status = conn.getresponse().status
    conn.close()
    return status


def test_a_flood_of_forged_webhooks_is_refused_counted_and_alerted(
    live_server, browser, shots, settings
):
    from connectors.alerts.models import Alert
    from connectors.alerts.services import evaluate
    from connectors.demo import seed_connections
    from connectors.webhooks.models import InboundEvent, WebhookFailureWindow

    sandbox = Sandbox.create(seed=21, scale="small", config=SandboxConfig.unlimited())
    settings.CONNECTORS_TRANSPORT = sandbox.transport()
    accounts = seed_accounts(PASSWORD)
    connections = seed_connections(
        accounts.tenant, {u.email: u for u in accounts.users.values()}, root=IN_PROCESS_BASE
    )
    fc = next(c for c in connections if c.vendor == "fieldcamp")
    path = f"/webhooks/fieldcamp/{fc.uuid}/"
    body = b'{"id": "evt_forged", "type": "visit.updated", "data": {}}'
    length = str(len(body)).encode()
    statuses = [
        _send(
            live_server.url,
            path,
            [
                ("Content-Type", b"application/json"),
                ("Content-Length", length),
                ("X-FieldCamp-Signature", os.urandom(32).replace(b"\n", b"").replace(b"\r", b"")),
                ("X-FieldCamp-Delivery-Id", f"dlv_{n}".encode()),
            ],
            body,
        )
        for n in range(40)
    ]
    assert set(statuses) == {403}
    bad_length = [("Content-Type", b"application/json"), ("Content-Length", b"abc")]
    assert _send(live_server.url, path, bad_length, body) == 400
    assert sum(w.failures for w in WebhookFailureWindow.objects.all()) == 40
    assert InboundEvent.objects.count() <= 2
    evaluate(accounts.tenant)
    assert Alert.objects.filter(kind="webhook_signature_failures").count() == 1
    assert demo.FIELDCAMP_WEBHOOK_SECRET not in Alert.objects.get().message

    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    sign_in(page, live_server.url, "owner@demo.test")
    assert bell(page) == "1"
    page.click("#alerts-bell")
    page.wait_for_selector("#alerts-list")
    text = page.inner_text("#alerts-list")
    assert "FieldCamp webhooks: 40 deliveries with a wrong signature" in text
    shots(page, "signature-failures-alert")
    page.goto(f"{live_server.url}/fieldcamp/")
    shots(page, "calendars-webhook-log")
    context.close()
    sandbox.close()
