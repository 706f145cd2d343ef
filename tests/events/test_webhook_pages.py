"""Outbound webhook pages: who may use them, another company's rows, odd input, where
receivers may be, and the secret kept out of pages, logs and task arguments."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from connectors.events import delivery, services
from connectors.events.models import WebhookDelivery, WebhookEndpoint
from connectors.events.services import emit_event
from connectors.events.urlcheck import RefusedURL, check_url


def _endpoint(tenant, url="https://bi.example.com/hook", types=("job.completed",)):
    secret = services.new_secret()
    return WebhookEndpoint.objects.create(
        tenant=tenant,
        url=url,
        event_types=list(types),
        secret=secret,
        secret_fingerprint=secret[-4:],
    ), secret


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/x",
        "https://127.0.0.1/x",
        "https://10.0.0.5/x",
        "https://192.168.1.10/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://localhost/x",
        "https://app.localhost/x",
        "https://user:pw@8.8.8.8/x",
        "http://8.8.8.8/x",
        "ftp://8.8.8.8/x",
        "https:///nohost",
        "not a url",
        "https://[::1",
    ],
)
def test_private_loopback_and_odd_urls_are_refused(url, settings):
    settings.OUTBOUND_WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    with pytest.raises(RefusedURL):
        check_url(url)


def test_a_public_address_is_accepted_and_the_setting_allows_loopback(settings):
    settings.OUTBOUND_WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    assert check_url(" https://8.8.8.8/hook ") == "https://8.8.8.8/hook"
    settings.OUTBOUND_WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    assert check_url("http://127.0.0.1:9/x") == "http://127.0.0.1:9/x"


def test_a_refused_url_keeps_what_was_typed(world, settings):
    settings.OUTBOUND_WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    client = world.client_for(world.owner)
    typed = "https://169.254.169.254/latest/"
    response = client.post(
        reverse("events:endpoint_new"), {"url": typed, "event_types": ["job.completed"]}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert typed in page and "link-local" in page
    assert not WebhookEndpoint.objects.exists()
    response = client.post(reverse("events:endpoint_new"), {"url": "https://8.8.8.8/h"})
    assert "Pick at least one event." in response.content.decode()


def test_only_owners_and_admins_and_only_their_companys_rows(world):
    mine, secret = _endpoint(world.tenant)
    theirs, other_secret = _endpoint(world.other_tenant)
    emit_event(world.other_tenant, "job.completed", {"job_id": 1})
    foreign = WebhookDelivery.objects.get()
    for person in (world.dispatcher, world.billing, world.tech):
        client = world.client_for(person)
        assert client.get(reverse("events:endpoints")).status_code == 403
        assert client.get(reverse("events:deliveries")).status_code == 403
    owner = world.client_for(world.owner)
    assert owner.get(reverse("events:endpoint_edit", args=[theirs.uuid])).status_code == 404
    assert owner.post(reverse("events:endpoint_rotate", args=[theirs.uuid])).status_code == 404
    assert owner.get(reverse("events:delivery", args=[foreign.uuid])).status_code == 404
    assert owner.post(reverse("events:delivery_resend", args=[foreign.uuid])).status_code == 404
    listing = owner.get(reverse("events:endpoints")).content.decode()
    assert mine.url in listing and secret not in listing and other_secret not in listing
    assert str(foreign.uuid) not in owner.get(reverse("events:deliveries")).content.decode()
    for params in (
        {"state": "x" * 300},
        {"endpoint": "not-a-uuid"},
        {"endpoint": str(theirs.uuid)},
        {"page": "\u2603"},
    ):
        response = owner.get(reverse("events:deliveries"), params)
        assert response.status_code == 200
    assert (
        "No such endpoint"
        in owner.get(reverse("events:deliveries"), {"endpoint": str(theirs.uuid)}).content.decode()
    )


def test_edit_disable_and_rotate(world, settings, receiver):
    owner = world.client_for(world.owner)
    endpoint, old = _endpoint(world.tenant, url=receiver.url, types=("invoice.paid",))
    url = reverse("events:endpoint_edit", args=[endpoint.uuid])
    response = owner.post(url, {"url": receiver.url, "event_types": ["invoice.paid"]})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.is_active is False  # the box was not ticked
    assert emit_event(world.tenant, "invoice.paid", {"invoice_id": 1}) is None
    owner.post(url, {"url": receiver.url, "event_types": ["invoice.paid"], "is_active": "on"})
    page = owner.post(reverse("events:endpoint_rotate", args=[endpoint.uuid])).content.decode()
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in page
    assert endpoint.secret not in owner.get(url).content.decode()


def test_the_secret_stays_out_of_logs_and_task_arguments(
    world, receiver, settings, caplog, monkeypatch, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    settings.OUTBOUND_WEBHOOK_ENQUEUE = True
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: calls.append((a, k)))
    endpoint, secret = _endpoint(world.tenant, url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        emit_event(world.tenant, "job.completed", {"job_id": 5})
    d = WebhookDelivery.objects.get()
    assert [a for a, _ in calls] == [("connectors.events.tasks.deliver", d.pk)]
    delivery.deliver(d.pk)
    assert len(receiver.requests) == 1 and WebhookDelivery.objects.get().state == "succeeded"
    assert secret not in caplog.text
    assert secret not in repr(calls)


def test_a_delivery_page_follows_a_delivery_until_its_first_answer(world):
    _endpoint(world.tenant)
    emit_event(world.tenant, "job.completed", {"job_id": 1})
    d = WebhookDelivery.objects.get()
    owner = world.client_for(world.owner)
    url = reverse("events:delivery", args=[d.uuid])
    assert d.state == WebhookDelivery.State.PENDING
    assert 'hx-trigger="every 2s"' in owner.get(url).content.decode()
    WebhookDelivery.objects.filter(pk=d.pk).update(state=WebhookDelivery.State.SUCCEEDED)
    assert 'hx-trigger="every 2s"' not in owner.get(url).content.decode()


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({"state": "exploded"}, "State “exploded”"),
        ({"endpoint": "not-a-uuid\x00"}, "Endpoint “not-a-uuid"),
        ({"endpoint": "00000000-0000-4000-8000-000000000000"}, "No such endpoint"),
        ({"page": "9" * 40}, None),
    ],
)
def test_odd_delivery_filters_are_named_and_not_applied(world, query, said):
    _endpoint(world.tenant)
    emit_event(world.tenant, "job.completed", {"job_id": 1})
    response = world.client_for(world.owner).get(reverse("events:deliveries"), query)
    assert response.status_code == 200
    page = response.content.decode()
    assert "1 delivery" in page and "job.completed" in page
    if said:
        assert said in page


def test_another_companys_endpoint_is_not_a_filter(world):
    theirs, _ = _endpoint(world.other_tenant)
    _endpoint(world.tenant)
    emit_event(world.tenant, "job.completed", {"job_id": 1})
    page = world.client_for(world.owner).get(
        reverse("events:deliveries"), {"endpoint": str(theirs.uuid)}
    )
    assert "No such endpoint" in page.content.decode() and "1 delivery" in page.content.decode()
