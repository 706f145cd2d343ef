"""Fault rules fire where and when they say, and in-process clients see real httpx failures."""

from __future__ import annotations

import json

import httpx
import pytest

from connectors.sandbox import FaultRule
from connectors.sandbox.faults import FaultSet


def comment(client, ticket_id, body="b"):
    return client.post(f"/tickets/{ticket_id}/comment", json={"subject": "s", "body": body})


def test_timeout_after_commit_raises_read_timeout_but_the_comment_exists(
    sandbox, syncro, ticket_id
):
    sandbox.faults.add("syncro POST /tickets/*/comment timeout_after_commit times=1")
    with pytest.raises(httpx.ReadTimeout):
        comment(syncro, ticket_id, "first")
    assert [c["body"] for c in sandbox.syncro.ticket_records(ticket_id)["comments"]][-1] == "first"
    [entry] = sandbox.ledger.writes(path="/tickets/*/comment")
    assert entry.fault == "timeout_after_commit" and entry.committed
    assert comment(syncro, ticket_id, "second").status_code == 200  # times=1


def test_reset_after_commit_raises_a_connection_reset_after_committing(sandbox, syncro, ticket_id):
    sandbox.faults.add(
        FaultRule(
            action="reset_after_commit",
            vendor="syncro",
            method="POST",
            path="/tickets/*/add_line_item",
        )
    )
    with pytest.raises(httpx.ReadError, match="reset"):
        syncro.post(f"/tickets/{ticket_id}/add_line_item", json={"name": "a", "description": "b"})
    assert len(sandbox.syncro.ticket_records(ticket_id)["line_items"]) == 1


def test_error_before_commit_changes_nothing(sandbox, syncro, ticket_id):
    sandbox.faults.add("syncro POST /tickets/*/comment error_before_commit status=502")
    response = comment(syncro, ticket_id)
    assert response.status_code == 502 and "text/html" in response.headers["content-type"]
    assert len(sandbox.syncro.ticket_records(ticket_id)["comments"]) == 1
    assert sandbox.ledger.writes()[0].records == []


def test_error_after_commit_answers_500_with_the_record_made(sandbox, syncro, ticket_id):
    sandbox.faults.add("syncro POST /tickets/*/comment error_after_commit")
    response = comment(syncro, ticket_id)
    assert response.status_code == 500
    assert len(sandbox.syncro.ticket_records(ticket_id)["comments"]) == 2
    entry = sandbox.ledger.writes()[0]
    assert (entry.status, entry.handler_status) == (500, 200)


@pytest.mark.parametrize("action", ["malformed_json", "truncated_json"])
def test_broken_json_bodies_cannot_be_parsed_but_the_write_happened(
    sandbox, syncro, ticket_id, action
):
    sandbox.faults.add(f"syncro POST /tickets/*/comment {action}")
    response = comment(syncro, ticket_id)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert len(sandbox.syncro.ticket_records(ticket_id)["comments"]) == 2


def test_rate_limit_burst_answers_the_vendors_429_for_count_requests(sandbox, syncro):
    sandbox.faults.add("syncro GET /me rate_limit_burst count=3 times=1")
    codes = [syncro.get("/me").status_code for _ in range(5)]
    assert codes == [429, 429, 429, 200, 200]


def test_every_nth_fires_on_the_nth_match_only(sandbox, syncro):
    sandbox.faults.add("syncro GET /me error_before_commit every=3 status=503")
    assert [syncro.get("/me").status_code for _ in range(6)] == [200, 200, 503, 200, 200, 503]


def test_latency_longer_than_the_read_timeout_is_a_read_timeout(sandbox):
    sandbox.faults.add("syncro GET /me latency seconds=0.3")
    with sandbox.client("syncro", timeout=0.05) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.get("/me")
    with sandbox.client("syncro") as patient:
        response = patient.get("/me")
    assert response.status_code == 200 and "x-sandbox-fault" not in response.headers


def test_probabilistic_rules_are_reproducible_for_a_seed():
    def run(seed):
        faults = FaultSet(seed)
        faults.add("* * * error_before_commit probability=0.3")
        return [faults.decide("syncro", "GET", "/me").action for _ in range(50)]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_rules_only_match_their_vendor_method_and_path(sandbox, syncro, ticket_id):
    sandbox.faults.add("synchroteam POST /tickets/*/comment error_before_commit")
    sandbox.faults.add("syncro PUT /tickets/*/comment error_before_commit")
    sandbox.faults.add("syncro POST /tickets/*/add_line_item error_before_commit")
    assert comment(syncro, ticket_id).status_code == 200


def test_fault_rules_parse_and_reject_nonsense():
    rule = FaultRule.parse("syncro post /invoices error_after_commit every=2 status=503")
    assert (rule.method, rule.every, rule.status) == ("POST", 2, 503)
    with pytest.raises(ValueError):
        FaultRule.parse("syncro POST /x explode")
    with pytest.raises(ValueError):
        FaultRule.parse("syncro POST /x latency colour=red")


def test_faults_can_be_set_and_cleared_through_the_control_endpoint(sandbox, syncro):
    with httpx.Client(transport=sandbox.transport(), base_url="http://sandbox.invalid") as control:
        created = control.post(
            "/_sandbox/faults", json={"rule": "syncro GET /me error_before_commit status=500"}
        )
        assert created.status_code == 201
        assert syncro.get("/me").status_code == 500
        assert control.get("/_sandbox/faults").json()["rules"][0]["fired"] == 1
        control.delete("/_sandbox/faults")
    assert syncro.get("/me").status_code == 200
