"""Issue 15 item 6: the lower-confidence behaviours, each decided and documented in
docs/sandbox.md "Decided behaviours" (source, or "open question" with the safest choice)."""

from __future__ import annotations

import httpx
import pytest

from connectors.sandbox import accounts
from connectors.sandbox.core import vendor_base_url

SHARED = accounts.syncro_user_by_id(1735).token
OTHER = accounts.syncro_user_by_id(1750).token


def _syncro(sandbox, *, header=None, api_key=None):
    headers = {"Accept": "application/json"}
    if header is not None:
        headers["Authorization"] = header
    params = {"api_key": api_key} if api_key is not None else None
    with httpx.Client(
        base_url=vendor_base_url("syncro"), transport=sandbox.transport(), headers=headers
    ) as client:
        return client.get("/me", params=params)


@pytest.mark.parametrize(
    "header,api_key,expected",
    [
        (f"Bearer {SHARED}", None, 200),
        (None, SHARED, 200),
        (SHARED, None, 200),  # bare token
        ("Bearer wrong", SHARED, 401),  # a bad header does not pass on a good api_key
        (f"Bearer {SHARED}", "wrong", 401),  # nor the reverse
        (f"Bearer {SHARED}", OTHER, 401),  # two valid tokens of different users
        (f"Bearer {SHARED}", SHARED, 200),
        (f"Bearer {SHARED}", "", 200),  # an empty api_key= is no credential
        (None, None, 401),
    ],
)
def test_syncro_header_and_api_key(sandbox, header, api_key, expected):
    response = _syncro(sandbox, header=header, api_key=api_key)
    assert response.status_code == expected
    if expected == 401:
        assert response.json() == {"error": "Not authorized"}


def test_synchroteam_equipment_details_by_name_is_not_a_lookup(sandbox):
    with sandbox.client("synchroteam") as st:
        equipment = st.get("/equipment/list").json()["data"][0]
        response = st.get("/equipment/details", params={"name": equipment["name"]})
        assert response.status_code == 400
        assert response.json() == {"message": "One of id, myId is required."}
        by_serial = st.get("/equipment/details", params={"myId": equipment["myId"]})
        assert by_serial.status_code == 200 and by_serial.json()["id"] == equipment["id"]


def test_synchroteam_job_send_without_customer(sandbox):
    with sandbox.client("synchroteam") as st:
        before = sandbox.store.count("synchroteam.job")
        response = st.post("/job/send", json={"description": "No customer"})
        assert response.status_code == 400
        assert response.json() == {"message": "Customer is required."}
        unknown = st.post("/job/send", json={"description": "x", "customer": {"id": 1}})
        assert unknown.status_code == 404
        assert unknown.json() == {"message": "Customer not found."}
        assert sandbox.store.count("synchroteam.job") == before
        # an update of an existing job needs no customer
        job = st.get("/job/list").json()["data"][0]
        update = st.post("/job/send", json={"id": job["id"], "description": "edited"})
        assert update.status_code == 200 and update.json()["customer"] == job["customer"]


def test_syncro_customer_put_answers_with_contacts_like_the_spec_example(syncro):
    customers = syncro.get("/customers").json()["customers"]
    with_contacts = next(
        c for c in customers if syncro.get(f"/customers/{c['id']}").json()["customer"]["contacts"]
    )
    cid = with_contacts["id"]
    response = syncro.put(f"/customers/{cid}", json={"notes": "called"})
    assert response.status_code == 200
    body = response.json()["customer"]
    assert body["notes"] == "called"
    detail = syncro.get(f"/customers/{cid}").json()["customer"]
    assert body["contacts"] == detail["contacts"] != []
    assert set(body) == set(detail)


def test_fieldcamp_trigger_and_status_are_in_the_v1_envelope(sandbox):
    with sandbox.client("fieldcamp") as fc:
        status = fc.get("/integrations/google-calendar/status")
        assert status.status_code == 200
        body = status.json()
        assert set(body) == {"success", "data", "meta"} and body["success"] is True
        assert {"integration", "connected", "last_synced_at"} <= set(body["data"])
        trigger = fc.post("/integrations/outlook-calendar/sync", json={})
        assert trigger.status_code == 202
        body = trigger.json()
        assert set(body) == {"success", "data", "meta"}
        assert body["data"]["status"] == "queued" and body["data"]["job_id"]
