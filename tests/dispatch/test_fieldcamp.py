"""FieldCamp integrations: Refresh now through the outbox, 409 followed, not connected, batching."""

from __future__ import annotations

import datetime as dt

import httpx
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from connectors.fieldcamp import services as fc
from connectors.fieldcamp.models import FieldCampCalendarChange
from connectors.outbox import executor
from connectors.outbox.models import VendorWrite
from connectors.webhooks.models import CalendarSyncFlag

State = VendorWrite.State


def _trigger(world, dispatch, integration="google-calendar", mode="incremental"):
    with transaction.atomic():
        return fc.integration_sync_trigger(
            tenant=world.tenant,
            connection=dispatch.fieldcamp,
            integration=integration,
            mode=mode,
            by=world.dispatcher,
        )


def test_triggering_a_calendar_sync_twice_in_a_row_makes_one_fieldcamp_job(world, dispatch):
    first = _trigger(world, dispatch)
    executor.run_until_settled()
    first.write.refresh_from_db()
    assert first.write.state == State.CONFIRMED
    assert first.write.remote_id.startswith("syn_")

    second = _trigger(world, dispatch)
    executor.run_until_settled()
    second.write.refresh_from_db()
    assert second.write.pk != first.write.pk
    assert second.write.state == State.CONFIRMED
    assert second.write.remote_id == first.write.remote_id
    assert "already running" in fc.trigger_message(second.write)

    jobs = dispatch.sandbox.fieldcamp.sync_jobs("google-calendar")
    assert [j["job_id"] for j in jobs] == [first.write.remote_id]
    posts = dispatch.sandbox.ledger.writes(
        vendor="fieldcamp", method="POST", path="/integrations/google-calendar/sync"
    )
    assert [p.status for p in posts] == [202, 409]


def test_a_second_click_before_the_first_is_sent_follows_the_first_request(world, dispatch):
    first = _trigger(world, dispatch)
    second = _trigger(world, dispatch)
    assert second.already and second.write.pk == first.write.pk
    assert "following it" in second.message
    executor.run_until_settled()
    assert len(dispatch.sandbox.fieldcamp.sync_jobs("google-calendar")) == 1


class RecordingTransport(httpx.BaseTransport):
    """The sandbox transport, remembering each request's headers."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)


def test_the_trigger_sends_an_idempotency_key_and_the_seed_body(world, dispatch, settings):
    recorder = RecordingTransport(dispatch.sandbox.transport())
    settings.CONNECTORS_TRANSPORT = recorder
    result = _trigger(world, dispatch, integration="outlook-calendar", mode="full")
    executor.run_until_settled()
    (post,) = dispatch.sandbox.ledger.writes(vendor="fieldcamp", method="POST")
    assert post.path == "/integrations/outlook-calendar/sync"
    assert post.body == {"mode": "full"} == result.write.payload
    (sent,) = [r for r in recorder.requests if r.method == "POST"]
    assert sent.headers["Idempotency-Key"] == str(result.write.uuid)


def test_quickbooks_not_connected_is_rejected_with_reconnect_instructions(world, dispatch):
    result = _trigger(world, dispatch, integration="quickbooks")
    assert result.write.payload == {"scope": "all"}
    executor.run_until_settled()
    result.write.refresh_from_db()
    assert result.write.state == State.REJECTED
    assert "INTEGRATION_NOT_CONNECTED" in result.write.vendor_message
    (state,) = fc.integration_panel(connection=dispatch.fieldcamp, only="quickbooks")
    assert state.not_connected
    assert "QuickBooks" in state.reconnect_help
    assert result.write.send_count == 1  # never retried


def test_the_panel_follows_the_running_job_until_it_finishes(world, dispatch):
    result = _trigger(world, dispatch)
    executor.run_until_settled()
    (state,) = fc.integration_panel(connection=dispatch.fieldcamp, only="google-calendar")
    assert state.connected is True
    assert state.is_running and state.job_status == "running"
    dispatch.sandbox.clock.advance(120)
    (state,) = fc.integration_panel(connection=dispatch.fieldcamp, only="google-calendar")
    assert not state.is_running
    assert state.job_status in ("succeeded", "failed")
    from connectors.fieldcamp.models import FieldCampSyncJob

    job = FieldCampSyncJob.objects.get(connection=dispatch.fieldcamp)
    result.write.refresh_from_db()
    assert job.vendor_id == result.write.remote_id and job.status == state.job_status


def test_ten_portal_changes_are_batched_into_one_calendar_sync(world, dispatch, settings):
    settings.DISPATCH_CALENDAR_SYNC_DEBOUNCE_SECONDS = 60
    for i in range(10):
        with transaction.atomic():
            fc.calendar_sync_mark(tenant=world.tenant, reason=f"visit {i} moved")
    assert fc.calendar_sync_flush() == []  # still within the quiet window
    later = timezone.now() + dt.timedelta(seconds=61)
    (write,) = fc.calendar_sync_flush(now=later)
    assert not CalendarSyncFlag.objects.exists()
    executor.run_until_settled()
    assert len(dispatch.sandbox.fieldcamp.sync_jobs("google-calendar")) == 1
    write.refresh_from_db()
    assert write.state == State.CONFIRMED


def test_google_calendar_changes_are_pulled_into_the_mirror_with_since_and_cursor(world, dispatch):
    runs = fc.calendar_changes_pull(connection=dispatch.fieldcamp, now=True)
    assert runs and runs[0].status == "succeeded", runs[0].error
    assert FieldCampCalendarChange.objects.filter(connection=dispatch.fieldcamp).exists()


def test_technicians_see_the_panel_but_cannot_refresh(world, dispatch):
    tech = world.client_for(world.tech)
    assert tech.get(reverse("dispatch:calendars")).status_code == 200
    url = reverse("dispatch:calendar_refresh", args=["google-calendar"])
    assert tech.post(url).status_code == 403
    assert not VendorWrite.objects.exists()


def test_a_dispatcher_refreshes_from_the_panel_and_sees_the_row(world, dispatch):
    client = world.client_for(world.dispatcher)
    url = reverse("dispatch:calendar_refresh", args=["google-calendar"])
    response = client.post(url, {"mode": "incremental"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"sync requested" in response.content
    assert VendorWrite.objects.filter(operation="fieldcamp.sync.trigger").count() == 1


def test_another_tenant_has_no_fieldcamp_panel_rows(world, dispatch):
    outsider = world.client_for(world.outsider)
    response = outsider.post(reverse("dispatch:calendar_refresh", args=["google-calendar"]))
    assert response.status_code in (403, 404)
    assert not VendorWrite.objects.exists()
