"""The FieldCamp v1 emulator: envelopes, integration sync jobs, change feed, rate headers."""

from __future__ import annotations

import pytest


@pytest.fixture
def fc(sandbox):
    with sandbox.client("fieldcamp") as client:
        yield client


def test_a_wrong_key_gets_an_object_shaped_error(sandbox):
    with sandbox.client("fieldcamp", token="fc_live_wrong") as client:
        response = client.get("/visits")
    assert response.status_code == 401
    assert (
        response.json()["success"] is False and response.json()["error"]["code"] == "UNAUTHORIZED"
    )


def test_the_key_is_also_accepted_as_x_api_key(sandbox, fc):
    fc.headers.pop("Authorization")
    assert (
        fc.get("/visits", headers={"X-Api-Key": "fc_live_demo_9d2f10c52a0a4f44"}).status_code == 200
    )


def test_every_answer_carries_rate_limit_headers_and_the_limit_answers_429(sandbox, fc):
    sandbox.configure(fieldcamp_rate_limit_per_minute=2)
    first = fc.get("/visits")
    assert (first.headers["x-ratelimit-limit"], first.headers["x-ratelimit-remaining"]) == (
        "2",
        "1",
    )
    assert int(first.headers["x-ratelimit-reset"]) > 0
    fc.get("/visits")
    limited = fc.get("/visits")
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "RATE_LIMITED"
    assert "retry-after" in limited.headers


def test_visits_page_with_a_cursor_and_filter_by_since_and_status(fc):
    seen, cursor = [], None
    while True:
        body = fc.get(
            "/visits", params={"limit": 7, **({"cursor": cursor} if cursor else {})}
        ).json()
        assert body["success"] is True
        seen += [v["id"] for v in body["data"]]
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 30
    since = fc.get("/visits", params={"since": "2026-04-20T00:00:00Z", "limit": 100}).json()["data"]
    assert all(v["updatedAt"] > "2026-04-20T00:00:00Z" for v in since)
    done = fc.get("/visits", params={"visitStatus": "completed", "limit": 100}).json()["data"]
    assert done and {v["visitStatus"] for v in done} == {"completed"}


def test_resource_validation_errors_are_strings(fc):
    body = fc.get("/invoices", params={"status": "lost"}).json()
    assert body["success"] is False and isinstance(body["error"], str)
    assert isinstance(fc.get("/visits/665f1c0a00000000000fffff").json()["error"], str)


def test_invoices_filter_by_status_and_since(fc):
    paid = fc.get("/invoices", params={"status": "paid", "limit": 100}).json()["data"]
    assert paid and {i["status"] for i in paid} == {"paid"}
    one = fc.get(f"/invoices/{paid[0]['id']}").json()["data"]
    assert one == paid[0]


def test_a_sync_trigger_answers_the_job_descriptor_and_conflicts_while_in_flight(sandbox, fc):
    created = fc.post("/integrations/google-calendar/sync", json={"mode": "incremental"})
    descriptor = created.json()["data"]
    assert set(descriptor) == {"job_id", "integration", "mode", "status", "created_at"}
    assert (descriptor["integration"], descriptor["mode"], descriptor["status"]) == (
        "google_calendar",
        "incremental",
        "queued",
    )
    again = fc.post(
        "/integrations/google-calendar/sync",
        json={"mode": "incremental"},
        headers={"Idempotency-Key": "same"},
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "SYNC_IN_PROGRESS"
    assert fc.post("/integrations/outlook-calendar/sync", json={}).status_code == 202


def test_sync_jobs_move_from_queued_through_running_to_a_result(sandbox, fc):
    sandbox.configure(fieldcamp_sync_failure_rate=0.0)
    job_id = fc.post("/integrations/google-calendar/sync", json={"mode": "full"}).json()["data"][
        "job_id"
    ]
    status = lambda: fc.get("/integrations/google-calendar/status").json()["data"]  # noqa: E731
    assert status()["active_job_id"] == job_id
    sandbox.clock.advance(3)
    assert sandbox.fieldcamp.sync_jobs("google-calendar")[-1]["status"] == "running"
    sandbox.clock.advance(10)
    assert sandbox.fieldcamp.sync_jobs("google-calendar")[-1]["status"] == "succeeded"
    now = status()
    assert now["active_job_id"] is None and now["errors"] == []
    assert now["last_synced_at"] == "2026-05-01T09:00:10Z"
    assert fc.post("/integrations/google-calendar/sync", json={}).status_code == 202


def test_a_failed_sync_shows_in_the_status_errors(sandbox, fc):
    sandbox.configure(fieldcamp_sync_failure_rate=1.0)
    job_id = fc.post("/integrations/google-calendar/sync", json={}).json()["data"]["job_id"]
    sandbox.clock.advance(60)
    errors = fc.get("/integrations/google-calendar/status").json()["data"]["errors"]
    assert [e["job_id"] for e in errors] == [job_id]


def test_quickbooks_is_not_connected_by_default_and_can_be_connected(sandbox, fc):
    refused = fc.post("/integrations/quickbooks/sync", json={"scope": "all"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "INTEGRATION_NOT_CONNECTED"
    sandbox.fieldcamp.set_connected("quickbooks", True)
    assert fc.post("/integrations/quickbooks/sync", json={"scope": "all"}).status_code == 202


def test_the_calendar_change_feed_pages_with_next_cursor(sandbox, fc):
    changes, cursor = [], None
    while True:
        params = {
            "since": "2026-04-01T00:00:00Z",
            "limit": 4,
            **({"cursor": cursor} if cursor else {}),
        }
        data = fc.get("/integrations/google-calendar/sync", params=params).json()["data"]
        changes += data["changes"]
        cursor = data["next_cursor"]
        if cursor is None:
            break
    assert changes and {c["action"] for c in changes} <= {"created", "updated", "deleted"}
    assert all(c["google_event_id"] and c["visit_id"] for c in changes)
    assert [c["changed_at"] for c in changes] == sorted(c["changed_at"] for c in changes)


def test_without_since_the_feed_starts_at_the_last_successful_sync(sandbox, fc):
    last_sync = fc.get("/integrations/google-calendar/status").json()["data"]["last_synced_at"]
    pending = fc.get("/integrations/google-calendar/sync").json()["data"]["changes"]
    assert all(c["changed_at"] > last_sync for c in pending)
    sandbox.clock.advance(60)
    churned = sandbox.churn(10)["fieldcamp"]
    sandbox.clock.advance(1)
    changes = fc.get("/integrations/google-calendar/sync").json()["data"]["changes"]
    new = [c for c in changes if c not in pending]
    assert {c["visit_id"] for c in new} == set(
        churned["updated"] + churned["created"] + churned["deleted"]
    )
