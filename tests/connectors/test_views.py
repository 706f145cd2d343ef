"""The Integrations page: tenant scoping, roles, "already running", HTMX fragment, advice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from connectors.models import SyncRun
from connectors.ratelimit import record_usage
from connectors.services import sync_request
from connectors.vendors import vendor_for


@pytest.fixture
def url():
    return reverse("connectors:integrations")


def test_every_member_sees_the_cards(world, syncro_connection, url):
    response = world.client_for(world.tech).get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Syncro" in body and "demo.syncromsp.com" in body
    assert "Sync now" not in body  # technicians cannot trigger


def test_outsider_sees_no_foreign_connection_and_gets_404_on_it(world, syncro_connection, url):
    client = world.client_for(world.outsider)
    assert "demo.syncromsp.com" not in client.get(url).content.decode()
    sync_url = reverse("connectors:sync", args=[syncro_connection.uuid])
    assert client.post(sync_url).status_code == 404
    assert not SyncRun.objects.exists()


def test_technician_cannot_trigger_a_sync(world, syncro_connection):
    sync_url = reverse("connectors:sync", args=[syncro_connection.uuid])
    assert world.client_for(world.tech).post(sync_url).status_code == 403
    assert world.client_for(world.billing).post(sync_url).status_code == 403
    assert not SyncRun.objects.exists()


def test_sync_now_queues_runs_once_then_says_already_running(
    world, syncro_connection, django_capture_on_commit_callbacks
):
    client = world.client_for(world.dispatcher)
    sync_url = reverse("connectors:sync", args=[syncro_connection.uuid])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(sync_url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Trigger"] == "sync-changed"
    queued = SyncRun.objects.filter(status="queued").count()
    assert queued == len(vendor_for("syncro").streams)  # one run per Syncro stream
    from django_q.models import OrmQ

    assert OrmQ.objects.count() == 1  # one task, enqueued on commit
    response = client.post(sync_url, headers={"HX-Request": "true"})
    assert "already running" in response.content.decode()
    assert SyncRun.objects.count() == queued
    assert OrmQ.objects.count() == 1


def test_the_page_polls_itself_only_while_a_run_is_active(world, syncro_connection, url):
    client = world.client_for(world.owner)
    assert "every 3s" not in client.get(url).content.decode()
    sync_request(syncro_connection, enqueue=False)
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "every 3s" in fragment
    assert "<html" not in fragment
    assert 'href="/integrations/"' in client.get(url).content.decode()


def test_a_401_run_tells_staff_to_rotate_the_credential(world, syncro_connection, url):
    run = sync_request(syncro_connection, resources=["tickets"], enqueue=False).runs[0]
    SyncRun.objects.filter(pk=run.pk).update(
        status="failed", error_kind="auth", error="401", finished_at=timezone.now()
    )
    body = world.client_for(world.owner).get(url).content.decode()
    assert "Rotate the credential" in body
    assert "/integrations/connect/syncro/" in body  # the portal form, not the admin
    dispatcher = world.client_for(world.dispatcher).get(url).content.decode()
    assert "Ask an owner or admin to rotate the credential." in dispatcher
    assert "/integrations/connect/syncro/" not in dispatcher  # no link to a page they cannot open


def test_a_quota_pause_says_when_it_resumes(world, syncro_connection, url):
    run = sync_request(syncro_connection, resources=["tickets"], enqueue=False).runs[0]
    at = timezone.now() + dt.timedelta(hours=3)
    SyncRun.objects.filter(pk=run.pk).update(
        status="paused", error_kind="quota", resume_at=at, finished_at=timezone.now()
    )
    body = world.client_for(world.owner).get(url).content.decode()
    assert f"resumes at {timezone.localtime(at):%H:%M}" in body


def test_budget_bars_and_sparkline_show_recorded_usage(world, syncro_connection, url):
    for _ in range(7):
        record_usage("syncro:egress:default", syncro_connection.pk, throttled=False)
    body = world.client_for(world.owner).get(url).content.decode()
    assert "7 / 100000" in body  # this minute against the configured budget
    assert "<svg" in body and "<rect" in body
