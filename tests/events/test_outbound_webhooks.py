"""Acceptance (issue 16): a receiver sees each event once with a valid signature; a receiver
answering 500 gets the retries and the deliveries page shows them; re-send works."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

import pytest
from django.urls import reverse

from connectors.events import delivery
from connectors.events.models import DeliveryAttempt, OutboundEvent, WebhookDelivery
from connectors.events.registry import UnknownEventType
from connectors.events.services import emit_event
from connectors.services import connection_sync_now
from connectors.synchroteam.models import SynchroteamJob

SECRET_RE = re.compile(r"whsec_[A-Za-z0-9_\-]{20,}")


def _add_endpoint(client, url, types) -> str:
    """Add an endpoint through the portal; returns the secret shown once."""
    response = client.post(
        reverse("events:endpoint_new"), {"url": url, "event_types": types, "description": "BI"}
    )
    assert response.status_code == 200, response.content[:500]
    (secret,) = set(SECRET_RE.findall(response.content.decode()))
    return secret


def _verify(secret: str, received) -> dict:
    """What a receiver does (docs/webhooks.md): recompute the HMAC and compare."""
    header = received.headers["Fieldline-Signature"]
    parts = dict(p.split("=", 1) for p in header.split(","))
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + received.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected), "bad signature"
    return json.loads(received.body)


def test_each_job_event_arrives_once_with_a_valid_signature(
    world, mirrored, receiver, django_capture_on_commit_callbacks
):
    owner = world.client_for(world.owner)
    secret = _add_endpoint(owner, receiver.url, ["job.status_changed", "job.completed"])
    # the first scan is the baseline: the whole mirrored history raises nothing
    with django_capture_on_commit_callbacks(execute=True):
        connection_sync_now(mirrored.synchroteam, mode="incremental", resources=["jobs"])
    delivery.deliver_due()
    assert receiver.requests == []

    job = SynchroteamJob.objects.filter(connection=mirrored.synchroteam, status="started").first()
    with mirrored.sandbox.client("synchroteam") as st:
        st.post("/job/send", json={"id": job.vendor_id, "status": "completed"}).raise_for_status()
    for _ in range(2):  # a second sync of the same state raises nothing more
        with django_capture_on_commit_callbacks(execute=True):
            connection_sync_now(mirrored.synchroteam, mode="incremental", resources=["jobs"])
        delivery.deliver_due()

    events = [_verify(secret, r) for r in receiver.requests]
    assert sorted(e["type"] for e in events) == ["job.completed", "job.status_changed"]
    assert len({e["id"] for e in events}) == 2
    for e in events:
        assert e["data"]["job_id"] == job.vendor_id and e["data"]["status"] == "completed"
        assert e["data"]["previous_status"] == "started"
        assert e["company"] == str(world.tenant.uuid)
    headers = receiver.requests[0].headers
    assert headers["Fieldline-Event-Id"] == events[0]["id"]
    # the secret is never shown again
    for url in (reverse("events:endpoints"), reverse("events:deliveries")):
        assert secret not in owner.get(url).content.decode()
    endpoint_url = reverse(
        "events:endpoint_edit", args=[WebhookDelivery.objects.first().endpoint.uuid]
    )
    assert secret not in owner.get(endpoint_url).content.decode()


def test_a_failing_receiver_gets_the_retries_and_the_page_shows_them(world, receiver, settings):
    settings.OUTBOUND_WEBHOOK_MAX_ATTEMPTS = 3
    owner = world.client_for(world.owner)
    secret = _add_endpoint(owner, receiver.url, ["stock.below_threshold"])
    receiver.statuses = [500, 500, 500]
    event = emit_event(world.tenant, "stock.below_threshold", {"part_id": 7, "quantity": 1})
    assert event is not None
    for _ in range(5):
        delivery.deliver_due()
    assert len(receiver.requests) == 3  # the attempts, then no more
    bodies = {r.body for r in receiver.requests}
    assert len(bodies) == 1  # the same bytes every time, each attempt signed again
    for r in receiver.requests:
        _verify(secret, r)
    d = WebhookDelivery.objects.get()
    assert d.state == "failed" and d.attempts == 3 and d.last_status == 500
    attempts = list(DeliveryAttempt.objects.filter(delivery=d))
    assert [a.status_code for a in attempts] == [500, 500, 500]
    assert all(len(a.response_body) <= settings.OUTBOUND_WEBHOOK_RESPONSE_CHARS for a in attempts)

    page = owner.get(reverse("events:deliveries")).content.decode()
    assert "Failed" in page and "HTTP 500" in page
    detail = owner.get(reverse("events:delivery", args=[d.uuid])).content.decode()
    assert detail.count("HTTP 500") == 3 and "receiver exploded" in detail

    # re-send: a new delivery, the same event id, delivered this time
    token = re.search(r'name="token" value="([^"]+)"', detail).group(1)
    url = reverse("events:delivery_resend", args=[d.uuid])
    first = owner.post(url, {"token": token})
    again = owner.post(url, {"token": token})  # a double click
    assert first.status_code == again.status_code == 302
    assert WebhookDelivery.objects.count() == 2
    delivery.deliver_due()
    last = _verify(secret, receiver.requests[-1])
    assert last["id"] == str(event.uuid)
    assert receiver.requests[-1].headers["Fieldline-Delivery-Id"] != str(d.uuid)
    new = WebhookDelivery.objects.exclude(pk=d.pk).get()
    assert new.state == "succeeded" and new.resent_from == d and new.resent_by == world.owner


def test_a_retry_waits_for_its_backoff(world, receiver, settings):
    settings.OUTBOUND_WEBHOOK_RETRY_BASE_SECONDS = 3600
    _add_endpoint(world.client_for(world.owner), receiver.url, ["invoice.paid"])
    receiver.statuses = [503]
    emit_event(world.tenant, "invoice.paid", {"invoice_id": 1})
    delivery.deliver_due()
    delivery.deliver_due()
    assert len(receiver.requests) == 1
    d = WebhookDelivery.objects.get()
    assert d.state == "retrying"
    wait = (d.next_attempt_at - d.tries.get().started_at).total_seconds()
    assert 3600 <= wait <= 3600 * 1.1 + 5


def test_a_forged_or_foreign_resend_token_is_refused(world, receiver):
    _add_endpoint(world.client_for(world.owner), receiver.url, ["invoice.paid"])
    emit_event(world.tenant, "invoice.paid", {"invoice_id": 1})
    d = WebhookDelivery.objects.get()
    owner = world.client_for(world.owner)
    for token in ("", "forged", "x" * 5000):
        response = owner.post(reverse("events:delivery_resend", args=[d.uuid]), {"token": token})
        assert response.status_code == 302
    assert WebhookDelivery.objects.count() == 1


def test_only_subscribed_active_endpoints_get_events_and_unknown_types_raise(world, receiver):
    owner = world.client_for(world.owner)
    _add_endpoint(owner, receiver.url, ["invoice.created"])
    assert emit_event(world.tenant, "job.completed", {"job_id": 1}) is None
    assert emit_event(world.other_tenant, "invoice.created", {"invoice_id": 1}) is None
    with pytest.raises(UnknownEventType):
        emit_event(world.tenant, "job.exploded", {})
    assert OutboundEvent.objects.count() == 0


def test_a_synchroteam_invoice_paid_at_the_vendor_raises_invoice_paid_once(
    world, mirrored, receiver, django_capture_on_commit_callbacks
):
    from connectors.synchroteam.models import SynchroteamInvoice

    secret = _add_endpoint(
        world.client_for(world.owner), receiver.url, ["invoice.paid", "invoice.created"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        connection_sync_now(mirrored.synchroteam, mode="incremental", resources=["invoices"])
    invoice = SynchroteamInvoice.objects.filter(
        connection=mirrored.synchroteam, status="sent"
    ).first()
    with mirrored.sandbox.client("synchroteam") as st:
        st.post(
            "/invoice/send", json={"id": invoice.vendor_id, "status": "paid"}
        ).raise_for_status()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            connection_sync_now(mirrored.synchroteam, mode="incremental", resources=["invoices"])
        delivery.deliver_due()
    events = [_verify(secret, r) for r in receiver.requests]
    assert [(e["type"], e["data"]["invoice_id"]) for e in events] == [
        ("invoice.paid", invoice.vendor_id)
    ]


def test_an_inbound_synchroteam_webhook_refresh_raises_the_status_change(
    world, mirrored, receiver, django_capture_on_commit_callbacks
):
    from connectors.webhooks.services import inbound_event_process
    from tests.dispatch.conftest import WEBHOOK_TOKEN

    secret = _add_endpoint(world.client_for(world.owner), receiver.url, ["job.status_changed"])
    with django_capture_on_commit_callbacks(execute=True):
        connection_sync_now(mirrored.synchroteam, mode="incremental", resources=["jobs"])
    job = SynchroteamJob.objects.filter(connection=mirrored.synchroteam, status="scheduled").first()
    with mirrored.sandbox.client("synchroteam") as st:
        st.post("/job/send", json={"id": job.vendor_id, "status": "started"}).raise_for_status()
    body = json.dumps({"event": "job.updated", "job": {"id": job.vendor_id}}).encode()
    with django_capture_on_commit_callbacks(execute=True):
        world.client_for(world.owner).post(
            reverse("webhooks:synchroteam", args=[mirrored.synchroteam.uuid]),
            data=body,
            content_type="application/json",
            HTTP_X_WEBHOOK_TOKEN=WEBHOOK_TOKEN,
            HTTP_X_DELIVERY_ID="st-evt-1",
        )
        from connectors.webhooks.models import InboundEvent

        inbound_event_process(event_id=InboundEvent.objects.get().pk)
    delivery.deliver_due()
    (event,) = [_verify(secret, r) for r in receiver.requests]
    assert event["data"]["status"] == "started" and event["data"]["previous_status"] == "scheduled"


class Killed(Exception):
    """Stands for a worker killed between two pages."""


def test_a_first_sync_killed_midway_then_resumed_raises_no_history(
    world, dispatch, receiver, settings, django_capture_on_commit_callbacks
):
    """The baseline is taken from a whole mirror: rows a first sweep found before it was killed
    (and scanned by whatever wrote next) and rows it found after resuming are history alike."""
    from connectors.events import watch
    from connectors.events.models import WatchBaseline

    _add_endpoint(world.client_for(world.owner), receiver.url, ["job.status_changed"])
    pages = {"n": 0}

    def die(run):
        pages["n"] += 1
        if pages["n"] == 2:
            raise Killed

    with pytest.raises(Killed):
        connection_sync_now(dispatch.synchroteam, mode="full", resources=["jobs"], on_page=die)
    half = SynchroteamJob.objects.filter(connection=dispatch.synchroteam).count()
    assert half > 0
    # something else writes to the jobs mirror meanwhile (a write-through, a webhook refresh)
    assert watch.scan_connection(dispatch.synchroteam.pk, "jobs") == 0
    assert not WatchBaseline.objects.exists()

    settings.SYNC_HEARTBEAT_STALE_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        runs = connection_sync_now(dispatch.synchroteam, mode="full", resources=["jobs"])
    assert [r.status for r in runs] == ["succeeded"]
    assert SynchroteamJob.objects.filter(connection=dispatch.synchroteam).count() > half
    assert WatchBaseline.objects.filter(watch="synchroteam.jobs").count() == 1
    delivery.deliver_due()
    assert receiver.requests == []
    assert OutboundEvent.objects.count() == 0


def test_a_sync_scans_only_the_watchers_of_the_streams_it_ran(
    world, mirrored, receiver, django_capture_on_commit_callbacks, monkeypatch
):
    from connectors.events import watch

    _add_endpoint(world.client_for(world.owner), receiver.url, ["job.status_changed"])
    scanned = []
    real_scan = watch.scan
    monkeypatch.setattr(
        watch,
        "scan",
        lambda connection, watcher: scanned.append(watcher.name) or real_scan(connection, watcher),
    )
    with django_capture_on_commit_callbacks(execute=True):
        connection_sync_now(mirrored.synchroteam, mode="incremental", resources=["users"])
    assert scanned == []
    with django_capture_on_commit_callbacks(execute=True):
        connection_sync_now(mirrored.synchroteam, mode="incremental", resources=["jobs"])
    assert scanned == ["synchroteam.jobs"]
