"""The sync engine against a fake Syncro: pagination, incremental, resume, deletions,
quarantine, 429s, single flight."""

from __future__ import annotations

import datetime as dt
import hashlib

import httpx
import pytest
from django.utils import timezone

from connectors.models import LimitState, QuarantinedRecord, SyncRun, SyncStream
from connectors.services import connection_sync_now, sync_request
from connectors.sync import claim_stream
from connectors.syncro.models import SyncroTicket

from .fake_syncro import FakeSyncro


def checksum(rows) -> str:
    digest = hashlib.sha256()
    for vid, updated in sorted(rows):
        digest.update(f"{vid}|{updated}".encode())
    return digest.hexdigest()


def vendor_checksum(fake: FakeSyncro) -> str:
    return checksum(
        (t["id"], dt.datetime.fromisoformat(t["updated_at"].replace("Z", "+00:00")))
        for t in fake.tickets.values()
    )


def mirror_checksum(connection) -> str:
    return checksum(
        SyncroTicket.objects.filter(connection=connection, is_deleted=False).values_list(
            "vendor_id", "vendor_updated_at"
        )
    )


def sync(connection, fake, mode="incremental", **kwargs):
    return connection_sync_now(
        connection, mode=mode, resources=["tickets"], transport=fake.transport(), **kwargs
    )


class Killed(BaseException):
    """Stands in for SIGKILL: escapes every `except Exception`."""


def test_first_sync_is_a_full_sweep_that_mirrors_every_ticket(syncro_connection):
    fake = FakeSyncro(120)
    [run] = sync(syncro_connection, fake)
    assert run.status == "succeeded"
    assert run.mode == "full"
    assert (run.pages, run.pages_total, run.created, run.requests) == (3, 3, 120, 3)
    assert fake.ticket_pages_requested() == [1, 2, 3]
    assert "since_updated_at" not in str(fake.requests[0].url)
    assert mirror_checksum(syncro_connection) == vendor_checksum(fake)
    ticket = SyncroTicket.objects.get(connection=syncro_connection, vendor_id=1001)
    assert ticket.custom_fields == {"PO": "PO-1"}
    assert SyncroTicket.objects.filter(custom_fields__PO="PO-7").count() == 1


def test_incremental_asks_only_for_changes_since_the_high_water_mark(syncro_connection):
    fake = FakeSyncro(120)
    sync(syncro_connection, fake)
    fake.tick(3600)
    fake.touch(1005, status="Resolved")
    fake.touch(1100, subject="Changed")
    fake.requests.clear()
    [run] = sync(syncro_connection, fake)
    assert run.mode == "incremental"
    assert len(fake.requests) == 1  # ceil(2 changes / 50 per page)
    since = fake.requests[0].url.params["since_updated_at"]
    assert since.endswith("Z")
    assert (run.created, run.updated) == (0, 2)
    assert SyncroTicket.objects.get(vendor_id=1005).status == "Resolved"
    assert mirror_checksum(syncro_connection) == vendor_checksum(fake)


@pytest.mark.parametrize("kill_after_page", [1, 2])
def test_a_killed_sync_resumes_from_its_checkpoint(syncro_connection, settings, kill_after_page):
    fake = FakeSyncro(160)  # 4 pages

    def die(run):
        if run.pages == kill_after_page:
            raise Killed

    with pytest.raises(Killed):
        sync(syncro_connection, fake, on_page=die)
    stream = SyncStream.objects.get(connection=syncro_connection, resource="tickets")
    assert stream.checkpoint["page"] == kill_after_page + 1
    assert SyncroTicket.objects.count() == 50 * kill_after_page
    fake.requests.clear()
    settings.SYNC_HEARTBEAT_STALE_SECONDS = 0  # the killed worker's heartbeat is now stale
    [run] = sync(syncro_connection, fake)
    assert run.status == "succeeded"
    assert fake.ticket_pages_requested() == list(range(kill_after_page + 1, 5))
    assert mirror_checksum(syncro_connection) == vendor_checksum(fake)
    assert SyncRun.objects.filter(status="stale").count() == 1


def test_full_sweep_soft_deletes_what_the_vendor_no_longer_has(syncro_connection):
    fake = FakeSyncro(100)
    sync(syncro_connection, fake)
    del fake.tickets[1007]
    [run] = sync(syncro_connection, fake, mode="full")
    assert (run.status, run.deleted) == ("succeeded", 1)
    gone = SyncroTicket.objects.get(vendor_id=1007)
    assert gone.is_deleted and gone.deleted_at
    assert SyncroTicket.objects.alive().count() == 99


def test_incremental_never_deletes(syncro_connection):
    fake = FakeSyncro(100)
    sync(syncro_connection, fake)
    del fake.tickets[1007]
    [run] = sync(syncro_connection, fake)
    assert run.deleted == 0
    assert SyncroTicket.objects.alive().count() == 100


def test_full_sweep_refuses_to_delete_more_than_ten_percent(syncro_connection):
    fake = FakeSyncro(100)
    sync(syncro_connection, fake)
    for i in range(1001, 1012):  # 11 %
        del fake.tickets[i]
    [run] = sync(syncro_connection, fake, mode="full")
    assert run.status == "refused"
    assert "11 of 100" in run.error
    assert SyncroTicket.objects.alive().count() == 100


def test_an_interrupted_full_sweep_deletes_nothing(syncro_connection, settings):
    fake = FakeSyncro(100)
    sync(syncro_connection, fake)
    del fake.tickets[1099]

    def die(run):
        raise Killed

    with pytest.raises(Killed):
        sync(syncro_connection, fake, mode="full", on_page=die)
    assert SyncroTicket.objects.alive().count() == 100


def test_malformed_records_are_quarantined_and_the_rest_of_the_page_is_saved(syncro_connection):
    fake = FakeSyncro(10)
    fake.tickets[1003]["updated_at"] = "not a date"
    fake.tickets[9999] = {"subject": "no id"}
    [run] = sync(syncro_connection, fake)
    assert run.status == "succeeded"
    assert (run.created, run.quarantined) == (9, 2)
    reasons = sorted(QuarantinedRecord.objects.values_list("reason", flat=True))
    assert reasons == ["missing id", "updated_at is not a date-time: 'not a date'"]
    assert SyncroTicket.objects.count() == 9


def test_a_429_is_retried_after_retry_after_and_blocks_the_scope(syncro_connection):
    fake = FakeSyncro(10)
    fake.queue.append(httpx.Response(429, headers={"Retry-After": "1"}))
    [run] = sync(syncro_connection, fake)
    assert run.status == "succeeded"
    assert (run.requests, run.throttled) == (2, 1)
    state = LimitState.objects.get(scope="syncro:egress:default")
    assert state.blocked_until is not None


def test_a_long_retry_after_pauses_the_run_and_keeps_the_checkpoint(syncro_connection):
    fake = FakeSyncro(120)
    fake.queue.append(fake.handle(httpx.Request("GET", "https://x/api/v1/tickets?page=1")))
    fake.queue.append(httpx.Response(429, headers={"Retry-After": "3600"}))
    [run] = sync(syncro_connection, fake)
    assert run.status == "paused"
    assert run.resume_at > timezone.now() + dt.timedelta(minutes=59)
    stream = SyncStream.objects.get(connection=syncro_connection, resource="tickets")
    assert stream.checkpoint["page"] == 2 and stream.lock_run is None


def test_a_401_fails_the_run_and_marks_the_credential_failing(syncro_connection):
    fake = FakeSyncro(10)
    fake.queue.append(httpx.Response(401, json={"error": "Not authorized."}))
    [run] = sync(syncro_connection, fake)
    assert (run.status, run.error_kind) == ("failed", "auth")
    from accounts.models import Credential

    assert Credential.objects.get(vendor="syncro").status == "failing"


def test_only_one_run_per_stream_at_a_time(syncro_connection, world):
    req = sync_request(syncro_connection, resources=["tickets"], enqueue=False)
    assert sync_request(syncro_connection, resources=["tickets"], enqueue=False).already_running
    first = req.runs[0]
    assert claim_stream(first)
    second = SyncRun.objects.create(
        tenant=world.tenant, connection=syncro_connection, stream=first.stream
    )
    assert not claim_stream(second)
    second.refresh_from_db()
    assert second.status == "skipped"
