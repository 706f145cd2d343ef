"""Behaviour and shape tests of the Synchroteam and FieldCamp routes added for issue 15
(finding 5); the Syncro ones, checked against the official spec, are in
``test_new_endpoints.py``.

Neither vendor has a machine-readable spec: responses are validated with jsonschema against the
shapes documented in ``reference/vendor-apis.md`` (§2.3 ``jobPhoto`` with ``comment``, report
``items`` by ``name``, 404 when a job has no report; §3.2/§3.3 v1 envelopes, string or object
``error``, 409 on a duplicate ``jobNumber``; §3.6 one auto-generated visit, payment link).
Writes are counted in the sandbox ledger; fault rules are checked on ``POST /jobs``.
"""

from __future__ import annotations

import httpx
import pytest
from jsonschema import Draft202012Validator

from connectors.sandbox.transport import SandboxTransport

# --- Synchroteam: job/photos, jobReport/details ---------------------------------------------
PHOTOS_SCHEMA = {  # vendor-apis.md §2.3: {"jobPhoto": [{..., "comment"}]}
    "type": "object",
    "required": ["jobPhoto"],
    "properties": {
        "jobPhoto": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "comment", "url", "name", "dateTaken"],
                "properties": {
                    "id": {"type": "integer"},
                    "comment": {"type": "string"},
                    "url": {"type": "string"},
                    "dateTaken": {
                        "type": ["string", "null"],
                        "pattern": r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$",
                    },
                },
            },
        }
    },
}
REPORT_SCHEMA = {  # vendor-apis.md §2.3: report items {"name", ...}
    "type": "object",
    "required": ["id", "job", "items"],
    "properties": {
        "job": {"type": "object", "required": ["id", "num", "myId"]},
        "items": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "type", "value"],
                "properties": {"name": {"type": "string"}},
            },
        },
    },
}


def jobs_in(st, status: str) -> list[dict]:
    return st.get("/job/list", params={"status": status, "pageSize": 100}).json()["data"]


def test_job_photos_shape_and_files(sandbox):
    st = sandbox.client("synchroteam")
    photos = []
    for job in jobs_in(st, "completed"):
        r = st.get("/Job/Photos", params={"id": job["id"]})  # paths are case-insensitive
        assert r.status_code == 200
        Draft202012Validator(PHOTOS_SCHEMA).validate(r.json())
        photos += r.json()["jobPhoto"]
    assert photos, "some completed job has photos"
    image = st.get(photos[0]["url"])
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n") and len(image.content) < 200
    assert st.get("/job/photos/file", params={"id": photos[0]["id"] + 50}).status_code == 404
    assert st.get("/job/photos/file", params={"id": "x"}).status_code == 404


def test_job_photos_are_stable_and_empty_before_work(sandbox):
    st = sandbox.client("synchroteam")
    job = jobs_in(st, "completed")[0]
    by_id = st.get("/job/photos", params={"id": job["id"]}).json()
    by_num = st.get("/job/photos", params={"num": job["num"]}).json()
    assert by_id == by_num
    created = jobs_in(st, "created")[0]
    assert st.get("/job/photos", params={"id": created["id"]}).json() == {"jobPhoto": []}
    r = st.get("/job/photos", params={"id": 1})
    assert (r.status_code, r.json()) == (404, {"message": "Job not found."})
    assert st.get("/job/photos").status_code == 400


def test_job_report_fields_follow_the_job_type(sandbox):
    st = sandbox.client("synchroteam")
    names_by_template = {}
    for job in jobs_in(st, "completed") + jobs_in(st, "validated"):
        r = st.get("/jobReport/details", params={"id": job["id"]})
        assert r.status_code == 200
        report = r.json()
        Draft202012Validator(REPORT_SCHEMA).validate(report)
        assert report["job"] == {"id": job["id"], "num": job["num"], "myId": job["myId"]}
        assert report["reportTemplate"] == job["reportTemplate"]
        assert all(item["value"] is not None for item in report["items"])
        names_by_template.setdefault(job["reportTemplate"]["name"], set()).add(
            tuple(i["name"] for i in report["items"])
        )
    assert all(len(v) == 1 for v in names_by_template.values())  # same trade, same fields
    fields = {template: next(iter(v)) for template, v in names_by_template.items()}
    assert len(set(fields.values())) == len(fields) >= 2  # different trades, different fields
    assert "Refrigerant type" in fields["HVAC Service Report"]


def test_job_report_404_without_a_report(sandbox):
    st = sandbox.client("synchroteam")
    for status in ("created", "scheduled", "cancelled"):
        for job in jobs_in(st, status)[:2]:
            r = st.get(
                "/jobreport/details",
                params={"myId": job["myId"]} if job["myId"] else {"id": job["id"]},
            )
            assert (r.status_code, r.json()) == (404, {"message": "Job report not found."})
    assert st.get("/jobReport/details", params={"id": "abc"}).status_code == 404
    assert st.get("/jobReport/details").status_code == 400


def test_synchroteam_new_routes_need_basic_auth(sandbox):
    with httpx.Client(
        base_url="http://sandbox.invalid/synchroteam/api/v3",
        transport=SandboxTransport(sandbox.app),
    ) as c:
        for path in ("/job/photos?id=1", "/jobReport/details?id=1"):
            assert c.get(path).status_code == 401


# --- FieldCamp: POST /jobs with jobNumber, payment links ------------------------------------
ENVELOPE_OK = {
    "type": "object",
    "required": ["success", "data"],
    "properties": {"success": {"const": True}},
}
ENVELOPE_ERROR = {  # vendor-apis.md §3.3: "error" is a string or an object
    "type": "object",
    "required": ["success", "error"],
    "properties": {"success": {"const": False}, "error": {"type": ["string", "object"]}},
}
JOB_SCHEMA = {
    "type": "object",
    "required": [
        "id",
        "jobNumber",
        "clientId",
        "jobStatus",
        "startDateTime",
        "endDateTime",
        "assignedToTeams",
        "visits",
    ],
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
        "visits": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "jobId", "scheduledStart", "scheduledEnd", "visitStatus"],
            },
        },
    },
}


def a_client_and_tech(fc) -> tuple[str, str]:
    visit = next(v for v in fc.get("/visits").json()["data"] if v["technicianId"])
    return visit["clientId"], visit["technicianId"]


def job_body(fc, number: str = "ACME-5512-MOVE", **extra) -> dict:
    client_id, tech = a_client_and_tech(fc)
    return {
        "jobNumber": number,
        "clientId": client_id,
        "title": "Boiler check",
        "startDateTime": "2026-05-03T14:00:00Z",
        "endDateTime": "2026-05-03T15:30:00Z",
        "assignedToTeams": [tech],
        "visits": [],
        **extra,
    }


def test_job_create_auto_generates_one_visit(sandbox):
    fc = sandbox.client("fieldcamp")
    body = job_body(fc)
    r = fc.post("/jobs", json=body)
    assert r.status_code == 200
    Draft202012Validator(ENVELOPE_OK).validate(r.json())
    job = r.json()["data"]
    Draft202012Validator(JOB_SCHEMA).validate(job)
    (visit,) = job["visits"]
    assert (visit["jobId"], visit["jobNumber"], visit["technicianId"]) == (
        job["id"],
        body["jobNumber"],
        body["assignedToTeams"][0],
    )
    assert (visit["scheduledStart"], visit["scheduledEnd"], visit["serviceDuration"]) == (
        body["startDateTime"],
        body["endDateTime"],
        90,
    )
    assert fc.get(f"/visits/{visit['id']}").json()["data"]["jobNumber"] == body["jobNumber"]
    assert fc.get(f"/jobs/{job['id']}").json()["data"]["visitIds"] == [visit["id"]]
    (entry,) = sandbox.ledger.writes(vendor="fieldcamp", method="POST", path="/jobs")
    assert sorted(r["kind"] for r in entry.records) == ["fieldcamp.job", "fieldcamp.visit"]


def test_job_create_with_explicit_visits(sandbox):
    fc = sandbox.client("fieldcamp")
    visits = [
        {"scheduledStart": "2026-05-04T08:00:00Z", "scheduledEnd": "2026-05-04T09:00:00Z"},
        {"scheduledStart": None, "scheduledEnd": None},
    ]
    job = fc.post("/jobs", json=job_body(fc, "BOOKING-7-MULTI", visits=visits)).json()["data"]
    assert [v["visitStatus"] for v in job["visits"]] == ["scheduled", "unscheduled"]


def test_same_job_number_twice_is_409_with_the_existing_job_and_writes_once(sandbox):
    fc = sandbox.client("fieldcamp")
    body = job_body(fc)
    first = fc.post("/jobs", json=body).json()["data"]
    again = fc.post("/jobs", json={**body, "title": "retry"}, headers={"Idempotency-Key": "k1"})
    assert again.status_code == 409
    Draft202012Validator(ENVELOPE_ERROR).validate(again.json())
    assert again.json()["error"]["code"] == "DUPLICATE_JOB_NUMBER"
    assert again.json()["error"]["jobId"] == first["id"]
    found = fc.get("/jobs", params={"jobNumber": body["jobNumber"]}).json()["data"]
    assert [j["id"] for j in found] == [first["id"]] and found[0]["title"] == "Boiler check"
    writes = sandbox.ledger.writes(vendor="fieldcamp", method="POST", path="/jobs")
    assert [(e.status, e.committed) for e in writes] == [(200, True), (409, False)]


def test_a_generated_job_number_is_taken_too(sandbox):
    fc = sandbox.client("fieldcamp")
    visit = fc.get("/visits").json()["data"][0]
    r = fc.post("/jobs", json=job_body(fc, visit["jobNumber"]))
    assert r.status_code == 409 and r.json()["error"]["jobId"] == visit["jobId"]
    (summary,) = fc.get("/jobs", params={"jobNumber": visit["jobNumber"]}).json()["data"]
    assert summary["id"] == visit["jobId"] and visit["id"] in summary["visitIds"]


def test_job_create_after_a_timeout_retries_into_409(sandbox):
    """The documented recovery: the first POST committed but the answer was lost; the retry
    with the same jobNumber gets 409 naming the job that exists, so exactly one job exists."""
    fc = sandbox.client("fieldcamp")
    body = job_body(fc, "ACME-TIMEOUT-1")
    sandbox.faults.add("fieldcamp POST /jobs timeout_after_commit times=1")
    with pytest.raises(httpx.ReadTimeout):
        fc.post("/jobs", json=body)
    retry = fc.post("/jobs", json=body)
    assert retry.status_code == 409
    (job,) = fc.get("/jobs", params={"jobNumber": "ACME-TIMEOUT-1"}).json()["data"]
    assert retry.json()["error"]["jobId"] == job["id"]
    assert len(fc.get("/jobs").json()["data"]) == 1


@pytest.mark.parametrize(
    ("patch", "status", "error"),
    [
        ({"jobNumber": None}, 400, "jobNumber is required"),
        ({"jobNumber": "  "}, 400, "jobNumber is required"),
        ({"jobNumber": 17}, 400, "jobNumber is required"),
        ({"jobNumber": "x" * 101}, 400, "jobNumber must be at most 100 characters"),
        ({"clientId": None}, 400, "clientId is required"),
        ({"clientId": "665d0c22ffffffffffffffff"}, 404, "Client not found"),
        ({"clientId": "nope"}, 404, "Client not found"),
        ({"endDateTime": None}, 400, "startDateTime and endDateTime must be given together"),
        ({"endDateTime": "2026-05-03T13:00:00Z"}, 400, "endDateTime must be after startDateTime"),
        ({"startDateTime": "31/02/2026"}, 400, "startDateTime must be an ISO-8601 UTC timestamp"),
        ({"assignedToTeams": "abc"}, 400, "assignedToTeams must be a list of user ids"),
        ({"visits": [1]}, 400, "visits must be a list of objects"),
        (
            {"jobStatus": "lost"},
            400,
            "jobStatus must be one of unscheduled, scheduled, in_progress, on_hold, completed, cancelled",
        ),
    ],
)
def test_job_create_validation(sandbox, patch, status, error):
    fc = sandbox.client("fieldcamp")
    r = fc.post("/jobs", json={**job_body(fc, "VALID-1"), **patch})
    assert (r.status_code, r.json()) == (status, {"success": False, "error": error})
    assert fc.get("/jobs").json()["data"] == []


def test_job_create_rejects_a_non_object_body(sandbox):
    fc = sandbox.client("fieldcamp")
    for content in (b"[1, 2]", b"\xff\xfe garbage"):
        r = fc.post("/jobs", content=content, headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["success"] is False


def test_job_lookups(sandbox):
    fc = sandbox.client("fieldcamp")
    job = fc.post("/jobs", json=job_body(fc)).json()["data"]
    assert fc.get("/jobs", params={"jobNumber": "NOPE"}).json()["data"] == []
    assert (
        fc.get(
            "/jobs", params={"jobNumber": job["jobNumber"], "clientId": "665d0c22000000000000ffff"}
        ).json()["data"]
        == []
    )
    assert [
        j["id"] for j in fc.get("/jobs", params={"clientId": job["clientId"]}).json()["data"]
    ] == [job["id"]]
    for bad in ("zzz", "665e0b11ffffffffffffffff", "665f1c0a0000000000000001"):
        r = fc.get(f"/jobs/{bad}")
        assert (r.status_code, r.json()) == (404, {"success": False, "error": "Job not found"})


PAYMENT_LINK_SCHEMA = {
    "type": "object",
    "required": ["success", "data"],
    "properties": {
        "success": {"const": True},
        "data": {
            "type": "object",
            "required": ["invoiceId", "url", "amount", "currency", "expiresAt"],
            "properties": {
                "url": {
                    "type": "string",
                    "pattern": r"^https://checkout\.stripe\.com/c/pay/cs_live_[0-9a-f]+$",
                }
            },
        },
    },
}


def test_payment_link_for_an_open_invoice(sandbox):
    fc = sandbox.client("fieldcamp")
    invoice = next(
        i for i in fc.get("/invoices", params={"limit": 100}).json()["data"] if i["balance"] > 0
    )
    r = fc.get(f"/invoices/{invoice['id']}/payment-link")
    assert r.status_code == 200
    Draft202012Validator(PAYMENT_LINK_SCHEMA).validate(r.json())
    data = r.json()["data"]
    assert (data["invoiceId"], data["amount"], data["currency"]) == (
        invoice["id"],
        invoice["balance"],
        "USD",
    )
    assert data["expiresAt"] == "2026-05-02T09:00:00Z"
    assert fc.get(f"/invoices/{invoice['id']}/payment-link").json() == r.json()  # stable
    assert sandbox.ledger.writes(vendor="fieldcamp") == []  # a GET writes nothing


def test_payment_link_refusals(sandbox):
    fc = sandbox.client("fieldcamp")
    paid = fc.get("/invoices", params={"status": "paid"}).json()["data"][0]
    r = fc.get(f"/invoices/{paid['id']}/payment-link")
    assert (r.status_code, r.json()) == (
        400,
        {"success": False, "error": "Invoice is already paid"},
    )
    for bad in ("x", "6660aa01ffffffffffffffff"):
        r = fc.get(f"/invoices/{bad}/payment-link")
        assert (r.status_code, r.json()) == (404, {"success": False, "error": "Invoice not found"})


def test_fieldcamp_new_routes_need_a_key(sandbox):
    with httpx.Client(
        base_url="http://sandbox.invalid/fieldcamp/api/v1", transport=SandboxTransport(sandbox.app)
    ) as c:
        assert c.post("/jobs", json={}).status_code == 401
        assert c.get("/invoices/x/payment-link").status_code == 401
        assert c.get("/jobs").status_code == 401
