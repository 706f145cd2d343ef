"""Synchroteam job writes and FieldCamp sync triggers go through the outbox exactly once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from connectors.outbox import executor
from connectors.outbox.models import VendorWrite
from connectors.synchroteam.models import SynchroteamCustomer, SynchroteamJob, SynchroteamSite
from dispatch import selectors
from dispatch import services as st

State = VendorWrite.State


def _connection(world):
    from dispatch.selectors import synchroteam_connection

    return synchroteam_connection(world.tenant)


def _plan(world, *, technician=None, window=None, token="nonce-1"):
    customer = SynchroteamCustomer.objects.for_tenant(world.tenant).order_by("vendor_id").first()
    site = (
        SynchroteamSite.objects.for_tenant(world.tenant)
        .filter(customer_vendor_id=customer.vendor_id)
        .first()
    )
    start, end = window or (None, None)
    return st.job_create_plan(
        connection=_connection(world),
        user=world.dispatcher,
        nonce=token,
        customer=customer,
        site=site,
        job_type="HVAC Repair",
        description="No cooling upstairs",
        technician=technician,
        start=start,
        end=end,
    )


def _enqueue(world, plan):
    with transaction.atomic():
        batch = st.job_writes_enqueue(plan=plan, by=world.dispatcher, reason="test")
        return list(batch.writes.order_by("id"))


def test_the_preview_shows_the_exact_job_send_body_with_the_marker_as_my_id(world, mirrored):
    plan = _plan(world, token="3f0c8b1e-1111-4222-8333-444455556666")
    (create,) = plan.writes
    assert create.body["myId"].startswith("FL-")
    (write,) = _enqueue(world, plan)
    assert write.payload == create.body
    executor.run_until_settled()
    write.refresh_from_db()
    assert write.state == State.CONFIRMED
    (sent,) = mirrored.sandbox.ledger.writes(vendor="synchroteam", method="POST", path="/job/send")
    jobs = mirrored.sandbox.synchroteam.find("job", my_id=create.body["myId"])
    assert [j["id"] for j in jobs] == [int(write.remote_id)]
    assert jobs[0]["description"] == "No cooling upstairs"
    mirrored_job = SynchroteamJob.objects.get(vendor_id=int(write.remote_id))  # at once, no sync
    assert (mirrored_job.my_id, mirrored_job.tenant_id) == (create.body["myId"], world.tenant.id)


def test_a_job_created_through_the_portal_appears_once_even_when_the_create_times_out_after_commit(
    world, mirrored, settings
):
    settings.CONNECTORS_HTTP_READ_TIMEOUT = 0.2
    mirrored.sandbox.faults.add("synchroteam POST /job/send timeout_after_commit times=1")
    plan = _plan(world, token="nonce-timeout")
    (write,) = _enqueue(world, plan)
    executor.run_until_settled()
    write.refresh_from_db()
    assert write.state == State.CONFIRMED
    kinds = [(a.kind, a.outcome) for a in write.attempts.all()]
    assert ("send", "ambiguous") in kinds and ("verify", "found") in kinds
    my_id = plan.writes[0].body["myId"]
    assert len(mirrored.sandbox.synchroteam.find("job", my_id=my_id)) == 1
    assert len(mirrored.sandbox.ledger.writes(vendor="synchroteam", path="/job/send")) == 1


def test_confirming_the_same_preview_twice_enqueues_the_job_once(world, mirrored):
    token = "9a9a9a9a-1111-4222-8333-444455556666"
    first = _enqueue(world, _plan(world, token=token))
    second = _enqueue(world, _plan(world, token=token))
    assert [w.pk for w in first] == [w.pk for w in second]
    executor.run_until_settled()
    assert len(mirrored.sandbox.ledger.writes(vendor="synchroteam", path="/job/send")) == 1


def test_create_and_schedule_sends_job_schedule_after_the_create_by_my_id(world, mirrored):
    tech = selectors.technicians(world.tenant).first()
    start = dt.datetime(2026, 11, 5, 8, 0, tzinfo=dt.UTC)
    plan = _plan(world, technician=tech, window=(start, start + dt.timedelta(hours=2)))
    create, schedule = _enqueue(world, plan)
    assert schedule.payload == {
        "myId": create.payload["myId"],
        "technician": {"id": tech.vendor_id},
        "scheduledStart": "2026-11-05 08:00:00",
        "scheduledEnd": "2026-11-05 10:00:00",
    }
    executor.run_until_settled()
    schedule.refresh_from_db()
    assert schedule.state == State.CONFIRMED
    (job,) = mirrored.sandbox.synchroteam.find("job", my_id=create.payload["myId"])
    assert job["status"] == "scheduled"
    assert job["technician"]["id"] == tech.vendor_id
    assert job["scheduledStart"] == "2026-11-05 08:00:00"
    paths = [e.path for e in mirrored.sandbox.ledger.writes(vendor="synchroteam", method="POST")]
    assert paths == ["/job/send", "/job/schedule"]


def test_rescheduling_an_existing_job_sends_job_schedule_by_id_once(world, mirrored):
    job = SynchroteamJob.objects.for_tenant(world.tenant).filter(status="created").first()
    assert job is not None
    tech = selectors.technicians(world.tenant).last()
    start = dt.datetime(2026, 11, 6, 13, 0, tzinfo=dt.UTC)
    plan = st.job_schedule_plan(
        connection=_connection(world),
        user=world.dispatcher,
        job=job,
        technician=tech,
        start=start,
        end=start + dt.timedelta(hours=1),
    )
    (write,) = _enqueue(world, plan)
    again = _enqueue(
        world,
        st.job_schedule_plan(
            connection=_connection(world),
            user=world.dispatcher,
            job=job,
            technician=tech,
            start=start,
            end=start + dt.timedelta(hours=1),
        ),
    )
    assert again[0].pk == write.pk
    executor.run_until_settled()
    write.refresh_from_db()
    assert write.state == State.CONFIRMED
    (sent,) = mirrored.sandbox.ledger.writes(vendor="synchroteam", path="/job/schedule")
    assert (
        mirrored.sandbox.synchroteam.job_records(job.vendor_id)["job"]["technician"]["id"]
        == tech.vendor_id
    )


def test_a_started_job_cannot_be_rescheduled(world, mirrored):
    job = SynchroteamJob.objects.for_tenant(world.tenant).filter(status="completed").first()
    tech = selectors.technicians(world.tenant).first()
    start = dt.datetime(2026, 11, 6, 13, 0, tzinfo=dt.UTC)
    with pytest.raises(st.DispatchError):
        st.job_schedule_plan(
            connection=_connection(world),
            user=world.dispatcher,
            job=job,
            technician=tech,
            start=start,
            end=start + dt.timedelta(hours=1),
        )


def test_a_schedule_marks_one_batched_calendar_sync(world, mirrored):
    from connectors.webhooks.models import CalendarSyncFlag

    tech = selectors.technicians(world.tenant).first()
    jobs = SynchroteamJob.objects.for_tenant(world.tenant).filter(status="created")[:3]
    for i, job in enumerate(jobs):
        start = dt.datetime(2026, 11, 9, 8 + i, 0, tzinfo=dt.UTC)
        _enqueue(
            world,
            st.job_schedule_plan(
                connection=_connection(world),
                user=world.dispatcher,
                job=job,
                technician=tech,
                start=start,
                end=start + dt.timedelta(hours=1),
            ),
        )
    (flag,) = CalendarSyncFlag.objects.all()
    assert flag.changes == 3
