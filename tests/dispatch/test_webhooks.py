"""Inbound webhooks: signature checks, stored once, replay ignored, targeted refresh."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

from django.urls import reverse
from django.utils import timezone

from connectors.models import SyncRun
from connectors.sandbox import accounts as demo
from connectors.synchroteam.models import SynchroteamJob
from connectors.webhooks.models import InboundEvent
from connectors.webhooks.services import inbound_event_process

from .conftest import WEBHOOK_TOKEN

EVENT = {
    "id": "evt_01HZX9V0Q7K6F3JNYG6Q8E1P2A",
    "type": "visit.updated",
    "created_at": timezone.now().isoformat(),  # within FIELDCAMP_WEBHOOK_MAX_AGE_SECONDS
    "api_version": "2024-10-01",
    "data": {"object": {"id": "665f1c0a0000000000000001"}, "previous_attributes": {}},
}


def _sign(body: bytes, secret: str = demo.FIELDCAMP_WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post_fieldcamp(client, connection, body: bytes, *, signature=None, delivery="evt_1"):
    return client.post(
        reverse("webhooks:fieldcamp", args=[connection.uuid]),
        data=body,
        content_type="application/json",
        HTTP_X_FIELDCAMP_SIGNATURE=_sign(body) if signature is None else signature,
        HTTP_X_FIELDCAMP_DELIVERY_ID=delivery,
    )


def test_a_validly_signed_fieldcamp_event_is_stored_and_refreshes_its_stream(
    client, dispatch, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_PROCESS_INLINE = True
    body = json.dumps(EVENT).encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = _post_fieldcamp(client, dispatch.fieldcamp, body)
    assert response.status_code == 200
    (event,) = InboundEvent.objects.all()
    assert event.status == "accepted" and event.event_type == "visit.updated"
    assert event.delivery_id == "evt_1" and event.processed_at is not None
    run = SyncRun.objects.get(connection=dispatch.fieldcamp)
    assert run.trigger == SyncRun.Trigger.WEBHOOK and run.stream.resource == "visits"


def test_a_wrong_signature_is_refused_with_403_and_recorded(client, dispatch):
    body = json.dumps(EVENT).encode()
    response = _post_fieldcamp(
        client, dispatch.fieldcamp, body, signature=_sign(body, "wrong-secret")
    )
    assert response.status_code == 403
    (event,) = InboundEvent.objects.all()
    assert event.status == "bad_signature" and event.payload is None
    assert not SyncRun.objects.exists()


def test_a_replayed_delivery_is_accepted_and_ignored(
    client, dispatch, django_capture_on_commit_callbacks
):
    body = json.dumps(EVENT).encode()
    with django_capture_on_commit_callbacks() as first_callbacks:
        assert _post_fieldcamp(client, dispatch.fieldcamp, body).status_code == 200
    with django_capture_on_commit_callbacks() as replay_callbacks:
        response = _post_fieldcamp(client, dispatch.fieldcamp, body)
    assert response.status_code == 200
    assert "ignored" in response.json()["detail"]
    (event,) = InboundEvent.objects.all()
    assert event.replays == 1
    assert len(first_callbacks) == 1 and replay_callbacks == []


def test_an_unknown_connection_is_404_and_stores_nothing(client, dispatch):
    body = json.dumps(EVENT).encode()
    response = client.post(
        reverse("webhooks:fieldcamp", args=[uuid.uuid4()]),
        data=body,
        content_type="application/json",
        HTTP_X_FIELDCAMP_SIGNATURE=_sign(body),
    )
    assert response.status_code == 404
    assert not InboundEvent.objects.exists()


def test_a_synchroteam_url_is_not_a_fieldcamp_endpoint(client, dispatch):
    body = json.dumps(EVENT).encode()
    response = client.post(
        reverse("webhooks:fieldcamp", args=[dispatch.synchroteam.uuid]),
        data=body,
        content_type="application/json",
        HTTP_X_FIELDCAMP_SIGNATURE=_sign(body),
    )
    assert response.status_code == 404


def test_malformed_json_is_refused_with_400_and_recorded(client, dispatch):
    body = b'{"id": "evt_2", "type": '
    response = _post_fieldcamp(client, dispatch.fieldcamp, body, delivery="evt_2")
    assert response.status_code == 400
    (event,) = InboundEvent.objects.all()
    assert event.status == "malformed"


def test_webhooks_need_no_csrf_token_but_only_accept_post(dispatch):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    body = json.dumps(EVENT).encode()
    assert _post_fieldcamp(strict, dispatch.fieldcamp, body).status_code == 200
    assert (
        strict.get(reverse("webhooks:fieldcamp", args=[dispatch.fieldcamp.uuid])).status_code == 405
    )


def test_a_synchroteam_job_event_with_the_token_refreshes_that_one_job(
    client, mirrored, django_capture_on_commit_callbacks
):
    job = SynchroteamJob.objects.filter(connection=mirrored.synchroteam, status="created").first()
    with mirrored.sandbox.client("synchroteam") as st:
        st.post(
            "/job/send", json={"id": job.vendor_id, "description": "Changed at Synchroteam"}
        ).raise_for_status()
    body = json.dumps({"event": "job.updated", "job": {"id": job.vendor_id}}).encode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            reverse("webhooks:synchroteam", args=[mirrored.synchroteam.uuid]),
            data=body,
            content_type="application/json",
            HTTP_X_WEBHOOK_TOKEN=WEBHOOK_TOKEN,
            HTTP_X_DELIVERY_ID="st-1",
        )
    assert response.status_code == 200 and len(callbacks) == 1
    event = InboundEvent.objects.get()
    done = inbound_event_process(event_id=event.pk)
    assert "updated in the mirror" in done
    job.refresh_from_db()
    assert job.description == "Changed at Synchroteam"
    run = SyncRun.objects.filter(trigger=SyncRun.Trigger.WEBHOOK).get()
    assert run.status == "succeeded" and run.records_seen == 1


def test_a_synchroteam_event_with_a_wrong_token_is_refused(client, dispatch):
    body = json.dumps({"event": "job.updated", "job": {"id": 1}}).encode()
    response = client.post(
        reverse("webhooks:synchroteam_token", args=[dispatch.synchroteam.uuid, "not-the-token"]),
        data=body,
        content_type="application/json",
    )
    assert response.status_code == 403
    assert InboundEvent.objects.get().status == "bad_signature"


def test_the_webhook_secret_never_reaches_the_log(client, dispatch, caplog):
    body = json.dumps(EVENT).encode()
    _post_fieldcamp(client, dispatch.fieldcamp, body, signature="00")
    client.post(
        reverse("webhooks:synchroteam_token", args=[dispatch.synchroteam.uuid, WEBHOOK_TOKEN]),
        data=b"[]",
        content_type="application/json",
    )
    text = caplog.text
    assert demo.FIELDCAMP_WEBHOOK_SECRET not in text and WEBHOOK_TOKEN not in text
