"""The Synchroteam v3 emulator: Basic auth, list/details/send/delete, paging, quotas."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from connectors.sandbox.synchroteam.records import STATUSES


@pytest.fixture
def st(sandbox):
    with sandbox.client("synchroteam") as client:
        yield client


def all_pages(client, path, **params):
    rows, page = [], 1
    while True:
        body = client.get(path, params={**params, "page": page, "pageSize": 100}).json()
        rows += body["data"]
        if len(body["data"]) < body["pageSize"]:
            return rows, body["recordsTotal"]
        page += 1


def test_wrong_key_is_denied_in_the_aspnet_shape(sandbox):
    with httpx.Client(
        transport=sandbox.transport(), base_url="http://sandbox.invalid/synchroteam/api/v3"
    ) as client:
        response = client.get("/job/list", auth=("demofield", "wrong"))
    assert response.status_code == 401
    assert response.json() == {"message": "Authorization has been denied for this request."}


def test_lists_answer_page_page_size_records_total_and_data_with_page_size_capped_at_100(st):
    body = st.get("/job/list", params={"pageSize": 500}).json()
    assert set(body) == {"page", "pageSize", "recordsTotal", "data"}
    assert (body["page"], body["pageSize"], body["recordsTotal"], len(body["data"])) == (
        1,
        100,
        60,
        60,
    )
    assert st.get("/job/list").json()["pageSize"] == 25


def test_paths_are_case_insensitive(st):
    assert st.get("/Job/List").status_code == 200


def test_jobs_come_in_all_eight_statuses_with_custom_fields(st):
    jobs, total = all_pages(st, "/job/list")
    assert len(jobs) == total
    assert set(Counter(j["status"] for j in jobs)) == set(STATUSES)
    labels = {cf["label"] for cf in jobs[0]["customFieldValues"]}
    assert "Customer PO Number:" in labels


@pytest.mark.parametrize("resource", ["customer", "site", "equipment", "user"])
def test_other_resources_carry_account_specific_custom_fields(st, resource):
    record = st.get(f"/{resource}/list").json()["data"][-1]
    assert record["customFieldValues"] and "dateModified" in record


@pytest.mark.parametrize("resource", ["activity", "part", "invoice", "quotation"])
def test_every_resource_lists_and_details(st, resource):
    first = st.get(f"/{resource}/list").json()["data"][0]
    assert st.get(f"/{resource}/details", params={"id": first["id"]}).json() == first


def test_activities_cover_clock_travel_work_and_unavailability(st):
    rows, _ = all_pages(st, "/activity/list")
    assert {"clockin", "clockout", "travel", "work", "unavailability"} <= {a["type"] for a in rows}


def test_job_status_filter_takes_a_comma_list(st):
    jobs = st.get("/job/list", params={"status": "completed,validated", "pageSize": 100}).json()[
        "data"
    ]
    assert jobs and {j["status"] for j in jobs} <= {"completed", "validated"}


def test_job_send_creates_then_partially_updates_by_my_id(sandbox, st):
    customer = st.get("/customer/list").json()["data"][0]
    created = st.post(
        "/job/send",
        json={
            "myId": "FL-1",
            "description": "Fix AC",
            "customer": {"id": customer["id"]},
            "customFieldValues": [{"label": "Customer PO Number:", "value": "PO-9"}],
        },
    ).json()
    assert created["status"] == "created" and created["customFieldValues"] == [
        {"id": 101, "label": "Customer PO Number:", "value": "PO-9"}
    ]
    updated = st.post("/job/send", json={"myId": "FL-1", "priority": "high"}).json()
    assert (
        updated["id"] == created["id"]
        and updated["description"] == "Fix AC"
        and updated["priority"] == "high"
    )
    assert len(sandbox.synchroteam.find("job", my_id="FL-1")) == 1
    by_id = st.post("/job/send", json={"id": created["id"], "description": "Fix AC now"}).json()
    assert by_id["description"] == "Fix AC now" and by_id["customFieldValues"][0]["value"] == "PO-9"


def test_job_send_without_my_id_twice_makes_two_jobs(sandbox, st):
    customer = st.get("/customer/list").json()["data"][0]
    for _ in range(2):
        st.post("/job/send", json={"description": "Dup", "customer": {"id": customer["id"]}})
    assert len(sandbox.ledger.writes(vendor="synchroteam", path="/job/send")) == 2
    assert st.get("/job/list", params={"pageSize": 100}).json()["recordsTotal"] == 62


def test_job_send_needs_a_customer_and_an_existing_id(st):
    assert st.post("/job/send", json={"description": "x"}).status_code == 400
    assert st.post("/job/send", json={"id": 1, "description": "x"}).status_code == 404


def test_job_schedule_needs_both_times_in_the_vendor_format(st):
    customer = st.get("/customer/list").json()["data"][0]
    tech = st.get("/user/list").json()["data"][1]
    job = st.post("/job/send", json={"description": "x", "customer": {"id": customer["id"]}}).json()
    base = {"id": job["id"], "technician": {"id": tech["id"]}}
    assert (
        st.post("/job/schedule", json={**base, "scheduledStart": "2026-05-02 08:00:00"}).status_code
        == 400
    )
    iso = st.post(
        "/job/schedule",
        json={
            **base,
            "scheduledStart": "2026-05-02T08:00:00",
            "scheduledEnd": "2026-05-02T10:00:00",
        },
    )
    assert iso.status_code == 400
    ok = st.post(
        "/job/schedule",
        json={
            **base,
            "scheduledStart": "2026-05-02 08:00:00",
            "scheduledEnd": "2026-05-02 10:00:00",
        },
    ).json()
    assert (ok["status"], ok["technician"]["id"], ok["scheduledEnd"]) == (
        "scheduled",
        tech["id"],
        "2026-05-02 10:00:00",
    )


def test_delete_takes_my_id_in_the_query_or_the_body(st):
    customer = st.get("/customer/list").json()["data"][0]
    st.post(
        "/job/send", json={"myId": "DEL-1", "description": "x", "customer": {"id": customer["id"]}}
    )
    st.post(
        "/job/send", json={"myId": "DEL-2", "description": "x", "customer": {"id": customer["id"]}}
    )
    assert st.delete("/job/delete", params={"myId": "DEL-1"}).status_code == 200
    assert st.request("DELETE", "/job/delete", json={"myId": "DEL-2"}).status_code == 200
    assert st.get("/job/details", params={"myId": "DEL-2"}).status_code == 404


def test_customfield_list_refuses_get_and_answers_post(st):
    assert st.get("/customfield/list").status_code == 405
    body = st.post("/customfield/list", json={"type": "equipment", "pageSize": 100}).json()
    assert body["recordsTotal"] == 4


def test_site_list_ignores_its_search_parameter(st):
    everything = st.get("/site/list").json()["recordsTotal"]
    assert (
        st.get("/site/list", params={"search": "zzz-no-such-site"}).json()["recordsTotal"]
        == everything
    )


def test_quota_header_counts_down_and_the_per_minute_limit_answers_429(sandbox, st):
    sandbox.configure(synchroteam_rate_limit_per_minute=3, synchroteam_daily_quota=100)
    remaining = [int(st.get("/part/list").headers["x-quota-remaining"]) for _ in range(3)]
    assert remaining == [99, 98, 97]
    limited = st.get("/part/list")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert limited.headers["x-quota-remaining"] == "97"


def test_daily_quota_exhaustion_answers_429_until_the_next_day(sandbox, st):
    sandbox.configure(synchroteam_rate_limit_per_minute=None, synchroteam_daily_quota=2)
    assert [st.get("/part/list").status_code for _ in range(3)] == [200, 200, 429]
    sandbox.clock.advance(86400)
    assert st.get("/part/list").status_code == 200


def test_churn_moves_job_date_modified_forward(sandbox, st):
    sandbox.clock.advance(3600)
    changed = sandbox.churn(10)["synchroteam"]
    jobs, _ = all_pages(st, "/job/list")
    recent = {j["id"] for j in jobs if j["dateModified"] >= "2026-05-01 10:00:00"}
    assert recent == set(changed["updated"]) | set(changed["created"])
    assert not {j["id"] for j in jobs} & set(changed["deleted"])
