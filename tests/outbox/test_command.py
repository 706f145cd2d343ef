"""The `outbox` management command: run due writes, list and resolve the ones waiting for a person."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from connectors.outbox.models import VendorWrite
from connectors.outbox.plans import PlannedWrite
from connectors.outbox.scenarios import plan_of
from connectors.outbox.services import plan_enqueue


def _comment(syncro, world, key="cmd:1"):
    spec = PlannedWrite(
        "syncro.comment.create",
        {"ticket_id": syncro.ticket["id"]},
        {"subject": "Update", "body": "Checked the backups.", "hidden": True, "do_not_email": True},
        key,
    )
    with transaction.atomic():
        batch = plan_enqueue(
            plan_of(syncro.connection, [spec], user=world.billing), by=world.billing
        )
        return list(batch.writes.order_by("id"))[0]


def test_running_the_command_sends_due_writes(syncro, world):
    write = _comment(syncro, world)
    out = io.StringIO()
    call_command("outbox", stdout=out)
    write.refresh_from_db()
    assert write.state == VendorWrite.State.CONFIRMED
    assert "confirmed 1" in out.getvalue()


def test_a_write_waiting_for_a_person_is_listed_and_can_be_marked_done(syncro, world):
    syncro.sandbox.faults.add("syncro POST /tickets/*/comment error_before_commit status=502")
    write = _comment(syncro, world)
    call_command("outbox", stdout=io.StringIO())
    write.refresh_from_db()
    assert write.state == VendorWrite.State.NEEDS_REVIEW
    listing = io.StringIO()
    call_command("outbox", "--waiting", stdout=listing)
    assert str(write.uuid) in listing.getvalue()
    call_command(
        "outbox",
        "--resolve",
        str(write.uuid),
        "--action",
        "mark_done",
        "--remote-id",
        "42",
        "--as",
        "owner@demo.test",
        "--note",
        "seen in Syncro",
        stdout=io.StringIO(),
    )
    write.refresh_from_db()
    assert (write.state, write.remote_id) == (VendorWrite.State.CONFIRMED, "42")
    assert "seen in Syncro" in write.attempts.last().detail


def test_resolving_a_write_that_is_not_waiting_is_refused(syncro, world):
    write = _comment(syncro, world)
    with pytest.raises(CommandError, match="not waiting"):
        call_command(
            "outbox", "--resolve", str(write.uuid), "--action", "cancel", stdout=io.StringIO()
        )
