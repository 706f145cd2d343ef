"""Two workers and a sweeper running at once never send the same intent twice (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection as db_connection
from django.db import connections, transaction

from connectors.outbox import executor
from connectors.outbox.models import VendorWrite
from connectors.outbox.plans import PlannedWrite
from connectors.outbox.scenarios import plan_of
from connectors.outbox.services import plan_enqueue

pytestmark = pytest.mark.skipif(
    db_connection.vendor != "postgresql",
    reason="row locks (select_for_update skip_locked) are only real on PostgreSQL; SQLite serialises writers",
)


@pytest.mark.django_db(transaction=True)
def test_two_workers_and_a_sweeper_never_send_the_same_intent_twice(syncro, world):
    tid = syncro.ticket["id"]
    specs = [
        PlannedWrite(
            "syncro.comment.create",
            {"ticket_id": tid},
            {"subject": f"Update {i}", "body": f"Note {i}", "hidden": True, "do_not_email": True},
            f"race:{i}",
        )
        for i in range(60)
    ]
    syncro.sandbox.faults.add("syncro POST /tickets/*/comment timeout_after_commit probability=0.3")
    with transaction.atomic():
        batch = plan_enqueue(
            plan_of(syncro.connection, specs, user=world.billing), by=world.billing
        )
        writes = list(batch.writes.order_by("id"))
    ids = [w.id for w in writes]
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def worker(order: list[int]) -> None:
        try:
            barrier.wait()
            for _ in range(6):
                for write_id in order:
                    executor.process_write(write_id)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    def sweeper() -> None:
        try:
            barrier.wait()
            for _ in range(8):
                executor.sweep()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=worker, args=(ids,)),
        threading.Thread(target=worker, args=(ids[::-1],)),
        threading.Thread(target=sweeper),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    executor.run_until_settled()

    comments = syncro.sandbox.syncro.ticket_records(tid)["comments"]
    for write in VendorWrite.objects.filter(id__in=ids):
        assert write.state == VendorWrite.State.CONFIRMED
        assert len([c for c in comments if write.marker in c["body"]]) == 1, write.marker
    posts = syncro.sandbox.ledger.writes(vendor="syncro", method="POST", path="/tickets/*/comment")
    assert len(posts) == 60  # nothing here makes a blind re-send necessary: each intent posted once
