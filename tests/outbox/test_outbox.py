"""The outbox sends each approved write to Syncro exactly once, whatever the network does."""

from __future__ import annotations

import pytest
from django.db import transaction

from accounts.models import NoCredential
from connectors.outbox import executor
from connectors.outbox.models import VendorWrite, VendorWriteAttempt
from connectors.outbox.plans import PlannedWrite
from connectors.outbox.scenarios import billing_chain, plan_of
from connectors.outbox.services import plan_enqueue, resolve_write

State = VendorWrite.State


def billing_specs(ticket: dict, key: str = "draft:1") -> list[PlannedWrite]:
    return billing_chain(
        ticket,
        key=key,
        product_id=_labor_product_id(),
        body="Replaced the switch.",
        description="Replaced the switch",
        hidden=False,
    )


_PRODUCT: dict = {}


def _labor_product_id() -> int:
    return _PRODUCT["id"]


@pytest.fixture(autouse=True)
def labor_product(syncro):
    with syncro.sandbox.client("syncro") as client:
        products = client.get("/products", params={"query": "Onsite"}).json()["products"]
    _PRODUCT["id"] = next(p["id"] for p in products if "Onsite" in p["name"])


def enqueue(syncro, world, specs, user=None):
    with transaction.atomic():
        batch = plan_enqueue(
            plan_of(syncro.connection, specs, user=user or world.billing), by=user or world.billing
        )
        return list(batch.writes.order_by("id"))


def records(syncro, ticket_id):
    return syncro.sandbox.syncro.ticket_records(ticket_id)


def posts(syncro, path_glob: str):
    import fnmatch

    return [
        w
        for w in syncro.sandbox.ledger.writes(vendor="syncro", method="POST")
        if fnmatch.fnmatch(w.path, path_glob)
    ]


def assert_no_blind_resend(write: VendorWrite) -> None:
    """Every send after the first follows looks that found nothing, after the previous send."""
    misses = None
    for attempt in write.attempts.order_by("at", "id"):
        if attempt.kind == "send" and attempt.outcome != "not_sent":
            if misses is not None:
                assert misses >= 2, (
                    f"write {write.id} was re-sent after only {misses} negative look(s)"
                )
            misses = 0
        elif attempt.kind == "verify" and attempt.outcome == "not_found" and misses is not None:
            misses += 1


def test_approved_billing_is_posted_once_and_the_ticket_ends_invoiced(syncro, world):
    writes = enqueue(syncro, world, billing_specs(syncro.ticket))
    executor.run_until_settled()
    assert [VendorWrite.objects.get(pk=w.pk).state for w in writes] == [State.CONFIRMED] * 4
    rec = records(syncro, syncro.ticket["id"])
    marker = writes[0].marker
    assert len([c for c in rec["comments"] if marker in c["body"]]) == 1
    assert len([li for li in rec["line_items"] if writes[1].marker in li["description"]]) == 1
    assert len(rec["invoices"]) == 1
    with syncro.sandbox.client("syncro") as client:
        invoice_id = VendorWrite.objects.get(pk=writes[2].pk).remote_id
        invoice = client.get(f"/invoices/{invoice_id}").json()["invoice"]
        ticket = client.get(f"/tickets/{syncro.ticket['id']}").json()["ticket"]
    assert len(invoice["line_items"]) >= 1
    assert ticket["status"] == "Invoiced"


def test_the_line_item_is_sent_as_the_runbook_requires(syncro, world):
    enqueue(syncro, world, billing_specs(syncro.ticket)[:2])
    executor.run_until_settled()
    body = posts(syncro, f"/tickets/{syncro.ticket['id']}/add_line_item")[0].body
    assert body["taxable"] is False
    assert body["quantity"] == 0.75
    assert "price_retail" not in body
    assert body["name"] and body["description"].endswith("]")


def test_the_preview_is_exactly_the_body_the_vendor_receives(syncro, world):
    spec = billing_specs(syncro.ticket)[0]
    preview = spec.body
    enqueue(syncro, world, [spec])
    executor.run_until_settled()
    assert posts(syncro, "/tickets/*/comment")[0].body == preview


def test_a_timeout_after_commit_is_verified_not_resent(syncro, world):
    syncro.sandbox.faults.add("syncro POST /tickets/*/comment timeout_after_commit times=1")
    (write,) = enqueue(syncro, world, billing_specs(syncro.ticket)[:1])
    executor.run_until_settled()
    write.refresh_from_db()
    assert write.state == State.CONFIRMED
    assert write.send_count == 1
    assert len(posts(syncro, "/tickets/*/comment")) == 1
    kinds = list(write.attempts.values_list("kind", "outcome"))
    assert kinds == [("send", "ambiguous"), ("verify", "found")]


def test_a_503_before_commit_is_looked_for_twice_then_sent_again(syncro, world):
    syncro.sandbox.faults.add(
        "syncro POST /tickets/*/comment error_before_commit status=503 times=1"
    )
    (write,) = enqueue(syncro, world, billing_specs(syncro.ticket)[:1])
    executor.run_until_settled()
    write.refresh_from_db()
    assert write.state == State.CONFIRMED
    assert write.send_count == 2
    assert (
        len(
            [
                c
                for c in records(syncro, syncro.ticket["id"])["comments"]
                if write.marker in c["body"]
            ]
        )
        == 1
    )
    assert_no_blind_resend(write)
    assert list(write.attempts.values_list("kind", "outcome")) == [
        ("send", "ambiguous"),
        ("verify", "not_found"),
        ("verify", "not_found"),
        ("send", "confirmed"),
    ]


@pytest.mark.parametrize(
    "fault",
    ["reset_after_commit", "error_after_commit status=502", "malformed_json", "truncated_json"],
)
def test_every_ambiguous_answer_after_commit_ends_in_one_record(syncro, world, fault):
    syncro.sandbox.faults.add(f"syncro POST * {fault} times=3")
    writes = enqueue(syncro, world, billing_specs(syncro.ticket))
    executor.run_until_settled()
    rec = records(syncro, syncro.ticket["id"])
    assert len([c for c in rec["comments"] if writes[0].marker in c["body"]]) == 1
    assert len([li for li in rec["line_items"] if writes[1].marker in li["description"]]) == 1
    assert len(rec["invoices"]) == 1
    for write in writes:
        write.refresh_from_db()
        assert write.state == State.CONFIRMED, (write.operation, write.state, write.last_error)
        assert_no_blind_resend(write)


def test_a_vendor_422_goes_back_to_a_person_with_the_vendors_message(syncro, world):
    spec = PlannedWrite(
        "syncro.line_item.create",
        {"ticket_id": syncro.ticket["id"]},
        {"product_id": _labor_product_id(), "quantity": 1, "taxable": False},
        "draft:x:line_item",
    )
    follow = PlannedWrite(
        "syncro.invoice.create",
        {"ticket_id": syncro.ticket["id"]},
        {"ticket_id": syncro.ticket["id"], "customer_id": 1, "category": "Standard"},
        "draft:x:invoice",
        depends_on="draft:x:line_item",
    )
    line_item, invoice = enqueue(syncro, world, [spec, follow])
    executor.run_until_settled()
    line_item.refresh_from_db()
    invoice.refresh_from_db()
    assert line_item.state == State.REJECTED
    assert "Name can't be blank" in line_item.vendor_message
    assert invoice.state == State.PENDING  # waits on the person, never sent
    assert posts(syncro, "/invoices") == []


def test_cancelling_a_rejected_step_cancels_what_depends_on_it(syncro, world):
    spec = PlannedWrite(
        "syncro.line_item.create",
        {"ticket_id": syncro.ticket["id"]},
        {"product_id": _labor_product_id(), "quantity": 1, "taxable": False},
        "draft:y:line_item",
    )
    follow = PlannedWrite(
        "syncro.ticket.update",
        {"ticket_id": syncro.ticket["id"]},
        {"status": "Invoiced"},
        "draft:y:status",
        depends_on="draft:y:line_item",
    )
    line_item, status = enqueue(syncro, world, [spec, follow])
    executor.run_until_settled()
    resolve_write(
        write=VendorWrite.objects.get(pk=line_item.pk),
        by=world.owner,
        action="cancel",
        note="wrong ticket",
    )
    status.refresh_from_db()
    assert status.state == State.CANCELLED


def test_after_three_unconfirmed_sends_a_person_decides(syncro, world, settings):
    syncro.sandbox.faults.add("syncro POST /tickets/*/comment error_before_commit status=502")
    (write,) = enqueue(syncro, world, billing_specs(syncro.ticket)[:1])
    executor.run_until_settled()
    write.refresh_from_db()
    assert write.state == State.NEEDS_REVIEW
    assert write.send_count == 3
    assert len(posts(syncro, "/tickets/*/comment")) == 3  # all refused before commit
    assert records(syncro, syncro.ticket["id"])["comments"] == [
        c for c in records(syncro, syncro.ticket["id"])["comments"] if write.marker not in c["body"]
    ]
    syncro.sandbox.faults.clear()
    resolve_write(write=write, by=world.owner, action="send_again")
    executor.run_until_settled()
    write.refresh_from_db()
    assert write.state == State.CONFIRMED
    assert write.send_count == 4


def test_a_worker_that_died_mid_send_is_picked_up_by_the_sweeper_and_verified(
    syncro, world, settings
):
    (write,) = enqueue(syncro, world, billing_specs(syncro.ticket)[:1])
    claimed = executor._claim(write.id)  # the worker claims, posts, then dies before recording
    assert claimed is not None
    client = executor.client_for_write(claimed[0])
    from connectors.outbox.handlers import handler_for

    handler_for(write.operation).send(client, claimed[0])
    VendorWrite.objects.filter(pk=write.pk).update(
        lease_until=write.created_at
    )  # the lease runs out
    result = executor.sweep()
    write.refresh_from_db()
    assert result["processed"] == 1
    assert write.state == State.CONFIRMED
    assert len(posts(syncro, "/tickets/*/comment")) == 1


def test_enqueuing_the_same_business_key_twice_makes_one_write(syncro, world):
    first = enqueue(syncro, world, billing_specs(syncro.ticket))
    second = enqueue(syncro, world, billing_specs(syncro.ticket))
    assert [w.pk for w in first] == [w.pk for w in second]
    assert VendorWrite.objects.count() == 4


def test_writes_use_the_acting_users_key_or_say_the_shared_one_was_used(syncro, world):
    (own,) = enqueue(syncro, world, billing_specs(syncro.ticket, "a")[:1], user=world.billing)
    (shared,) = enqueue(syncro, world, billing_specs(syncro.ticket, "b")[:1], user=world.owner)
    assert (own.used_shared_key, shared.used_shared_key) == (False, True)
    executor.run_until_settled()
    authors = {
        p.body["body"].rsplit("Ref: ", 1)[1]: p.auth for p in posts(syncro, "/tickets/*/comment")
    }
    assert authors[own.marker] == "user:1750"
    assert authors[shared.marker] == "user:1735"


def test_no_credential_at_all_refuses_to_enqueue(syncro, world):
    from accounts.models import Credential

    Credential.objects.all().delete()
    with pytest.raises(NoCredential):
        enqueue(syncro, world, billing_specs(syncro.ticket)[:1])


def test_the_batch_state_follows_its_writes_in_the_same_transaction(syncro, world):
    writes = enqueue(syncro, world, billing_specs(syncro.ticket)[:1])
    batch = writes[0].batch
    assert batch.state == batch.State.OPEN
    executor.run_until_settled()
    batch.refresh_from_db()
    assert batch.state == batch.State.DONE


def test_a_refused_write_puts_its_batch_in_attention_with_the_vendors_message(syncro, world):
    refused = PlannedWrite(
        "syncro.line_item.create",
        {"ticket_id": syncro.ticket["id"]},
        {"product_id": _labor_product_id(), "quantity": 1, "taxable": False},
        "draft:z:line_item",
    )
    (write,) = enqueue(syncro, world, [refused])
    executor.run_until_settled()
    batch = VendorWrite.objects.get(pk=write.pk).batch
    assert batch.state == batch.State.ATTENTION
    assert "Name can't be blank" in batch.vendor_message


def test_confirming_the_same_plan_twice_makes_one_batch_and_one_write(syncro, world):
    specs = billing_specs(syncro.ticket, "draft:twice")[:1]
    first = enqueue(syncro, world, specs)
    second = enqueue(syncro, world, specs)
    assert [w.pk for w in first] == [w.pk for w in second]
    executor.run_until_settled()
    assert len(posts(syncro, "/tickets/*/comment")) == 1


def test_charging_a_timer_already_recorded_sends_nothing(syncro, world):
    tid = syncro.ticket["id"]
    with syncro.sandbox.client("syncro") as client:
        timer = client.post(
            f"/tickets/{tid}/timer_entry",
            json={
                "start_at": "2026-11-01T10:00:00Z",
                "end_at": "2026-11-01T10:30:00Z",
                "notes": "onsite",
            },
        ).json()
        client.post(f"/tickets/{tid}/charge_timer_entry", json={"timer_entry_id": timer["id"]})
    before = len(posts(syncro, "/tickets/*/charge_timer_entry"))
    (write,) = enqueue(
        syncro,
        world,
        [
            PlannedWrite(
                "syncro.timer.charge",
                {"ticket_id": tid, "timer_entry_id": timer["id"]},
                {"timer_entry_id": timer["id"]},
                "timer:1",
            )
        ],
    )
    executor.run_until_settled()
    write.refresh_from_db()
    assert write.state == State.CONFIRMED
    assert write.send_count == 0
    assert len(posts(syncro, "/tickets/*/charge_timer_entry")) == before
    assert write.attempts.get().kind == VendorWriteAttempt.Kind.PRECHECK


def test_two_drafts_on_one_ticket_make_one_invoice_not_an_empty_second_one(syncro, world):
    first = enqueue(syncro, world, billing_specs(syncro.ticket, "draft:a"))
    second = enqueue(syncro, world, billing_specs(syncro.ticket, "draft:b"))
    executor.run_until_settled()
    states = [VendorWrite.objects.get(pk=w.pk).state for w in first + second]
    assert states == [State.CONFIRMED] * 8
    invoice_a = VendorWrite.objects.get(pk=first[2].pk)
    invoice_b = VendorWrite.objects.get(pk=second[2].pk)
    assert invoice_b.remote_id == invoice_a.remote_id  # the first invoice holds both lines
    assert invoice_b.send_count == 0
    assert invoice_b.attempts.get().kind == VendorWriteAttempt.Kind.PRECHECK
    assert len(posts(syncro, "/invoices")) == 1
    rec = records(syncro, syncro.ticket["id"])
    assert len(rec["invoices"]) == 1
    from connectors.sandbox.checks import vendor_copies

    assert [vendor_copies(VendorWrite.objects.get(pk=w.pk), rec) for w in first + second] == [1] * 8


def test_a_ticket_created_through_the_portal_is_in_the_mirror_at_once(syncro, world):
    from connectors.syncro.models import SyncroTicket

    spec = PlannedWrite(
        "syncro.ticket.create",
        {"customer_id": syncro.ticket["customer_id"]},
        {
            "customer_id": syncro.ticket["customer_id"],
            "subject": "Job #10286 HVAC Repair",
            "problem_type": "HVAC",
            "status": "New",
            "priority": "Normal",
            "user_id": 1750,
        },
        "recon:job:10286",
    )
    (write,) = enqueue(syncro, world, [spec])
    executor.run_until_settled()
    write.refresh_from_db()
    assert write.state == State.CONFIRMED
    mirrored = SyncroTicket.objects.get(
        connection=syncro.connection, vendor_id=int(write.remote_id)
    )
    assert (mirrored.subject, mirrored.status, mirrored.tenant_id) == (
        "Job #10286 HVAC Repair",
        "New",
        world.tenant.id,
    )


def test_a_confirmed_write_never_changes_state_again(syncro, world):
    from connectors.outbox.services import InvalidTransition, set_state

    (write,) = enqueue(syncro, world, billing_specs(syncro.ticket, "draft:once")[:1])
    executor.run_until_settled()
    write.refresh_from_db()
    assert write.state == State.CONFIRMED
    for state in (State.PENDING, State.IN_FLIGHT, State.CANCELLED):
        with pytest.raises(InvalidTransition), transaction.atomic():
            set_state(write, state)
        write.refresh_from_db()
        assert write.state == State.CONFIRMED
