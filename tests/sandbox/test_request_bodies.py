"""Issue 15 item 3: request bodies are parsed by their Content-Type. Syncro (Rails) takes JSON,
``application/x-www-form-urlencoded`` and ``multipart/form-data`` with Rails nested params
(``contact[name]=...``, ``a[]=...``, ``a[][k]=...``); a body of another type is not parsed
(params from the query only). No Content-Type is JSON. Synchroteam (ASP.NET Web API, documented
``application/json`` or ``text/json``) answers another type with Web API's 415; FieldCamp (JSON
everywhere, Express) leaves it unparsed. See docs/sandbox.md "Request bodies"."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.sandbox.bodies import rails_params

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def customer_id(syncro):
    return syncro.get("/customers").json()["customers"][0]["id"]


def test_form_encoded_contact_flat(syncro, customer_id):
    response = syncro.post("/contacts", data={"customer_id": customer_id, "name": "Ann Flat"})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Ann Flat"
    assert response.json()["customer_id"] == customer_id


def test_form_encoded_contact_rails_brackets(syncro, customer_id):
    body = f"contact[customer_id]={customer_id}&contact[name]=Bob+Bracket&contact[email]=b%40x.io"
    response = syncro.post("/contacts", content=body, headers=FORM)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Bob Bracket"
    assert response.json()["email"] == "b@x.io"


def test_form_encoded_contact_validation_is_the_documented_422(syncro, customer_id):
    response = syncro.post("/contacts", data={"customer_id": customer_id, "name": ""})
    assert response.status_code == 422
    assert response.json()["errors"] == "Name can't be blank"


def test_multipart_contact(syncro, customer_id):
    response = syncro.post(
        "/contacts",
        data={"contact[customer_id]": str(customer_id), "contact[name]": "Cy Multipart"},
        files={"attachment": ("a.txt", b"hello", "text/plain")},
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Cy Multipart"


def test_form_encoded_comment_and_ticket_with_nested_attributes(syncro, customer_id, ticket_id):
    comment = syncro.post(
        f"/tickets/{ticket_id}/comment", data={"subject": "Form", "body": "posted as a form"}
    )
    assert comment.status_code == 200, comment.text
    assert comment.json()["comment"]["body"] == "posted as a form"
    body = (
        f"customer_id={customer_id}&subject=Form+ticket"
        "&comments_attributes[][subject]=Initial&comments_attributes[][body]=first"
        "&comments_attributes[][subject]=Second&comments_attributes[][body]=second"
    )
    ticket = syncro.post("/tickets", content=body, headers=FORM)
    assert ticket.status_code == 200, ticket.text
    assert [c["body"] for c in ticket.json()["ticket"]["comments"]][:2] == ["first", "second"]


def test_form_body_is_recorded_in_the_ledger(sandbox, syncro, ticket_id):
    syncro.post(f"/tickets/{ticket_id}/comment", data={"subject": "L", "body": "ledger"})
    entry = sandbox.ledger.writes(vendor="syncro", path="/tickets/*/comment")[-1]
    assert entry.status == 200 and "ledger" in str(entry.body)


def test_json_without_content_type_is_still_json(syncro, ticket_id):
    response = syncro.post(
        f"/tickets/{ticket_id}/comment",
        content=json.dumps({"subject": "s", "body": "no content type"}),
        headers={"Content-Type": ""},
    )
    assert response.status_code == 200, response.text
    assert response.json()["comment"]["body"] == "no content type"


def test_bad_json_is_still_rails_400(syncro, ticket_id):
    response = syncro.post(
        f"/tickets/{ticket_id}/comment",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {"status": 400, "error": "Bad Request"}


def test_syncro_other_type_body_is_not_parsed_query_params_still_are(syncro, ticket_id):
    url = f"/tickets/{ticket_id}/comment"
    text = {"Content-Type": "text/plain"}
    body = json.dumps({"subject": "s", "body": "b"})
    response = syncro.post(url, content=body, headers=text)
    assert response.status_code == 422  # Rails did not read the body: both fields blank
    response = syncro.post(url, content=b"junk", headers=text, params={"subject": "q", "body": "q"})
    assert response.status_code == 200


def test_synchroteam_json_and_text_json(sandbox):
    with sandbox.client("synchroteam") as st_client:
        for ctype in ("application/json", "text/json", "application/json; charset=utf-8"):
            response = st_client.post(
                "/customer/send",
                content=json.dumps({"name": f"ACME {ctype}"}),
                headers={"Content-Type": ctype},
            )
            assert response.status_code == 200, (ctype, response.text)


@pytest.mark.parametrize(
    "ctype", ["application/x-www-form-urlencoded", "text/plain", "application/xml"]
)
def test_synchroteam_other_types_are_webapi_415(sandbox, ctype):
    before = sandbox.store.count("synchroteam.customer")
    with sandbox.client("synchroteam") as st_client:
        response = st_client.post(
            "/customer/send", content=b"name=ACME", headers={"Content-Type": ctype}
        )
        assert response.status_code == 415
        assert response.json()["message"] == (
            f"The request entity's media type '{ctype}' is not supported for this resource."
        )
        assert sandbox.store.count("synchroteam.customer") == before


def test_fieldcamp_non_json_body_is_not_parsed(sandbox):
    with sandbox.client("fieldcamp") as fc:
        response = fc.post(
            "/integrations/google-calendar/sync",
            content=b"mode=full",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code < 500
        assert response.status_code != 400 or "JSON" not in response.text


@pytest.mark.parametrize(
    "pairs,expected",
    [
        ([("a", "1")], {"a": "1"}),
        ([("a", "1"), ("a", "2")], {"a": "2"}),
        ([("a[]", "1"), ("a[]", "2")], {"a": ["1", "2"]}),
        ([("c[name]", "x"), ("c[email]", "y")], {"c": {"name": "x", "email": "y"}}),
        ([("c[addr][city]", "Lyon")], {"c": {"addr": {"city": "Lyon"}}}),
        (
            [("l[][s]", "1"), ("l[][b]", "2"), ("l[][s]", "3")],
            {"l": [{"s": "1", "b": "2"}, {"s": "3"}]},
        ),
        ([("l[0][s]", "1"), ("l[1][s]", "2")], {"l": {"0": {"s": "1"}, "1": {"s": "2"}}}),
        ([("a", "1"), ("a[b]", "2")], {"a": "1"}),  # conflict: the first shape wins
        ([("", "x"), ("[]", "y")], {}),
    ],
)
def test_rails_params(pairs, expected):
    assert rails_params(pairs) == expected


@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=5)), max_size=12))
def test_rails_params_never_raises(pairs):
    assert isinstance(rails_params(pairs), dict)


@given(st.binary(max_size=200))
def test_random_form_and_multipart_bodies_never_500(sandbox_for_property, data):
    client, ticket_id = sandbox_for_property
    for ctype in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        response = client.post(
            f"/tickets/{ticket_id}/comment", content=data, headers={"Content-Type": ctype}
        )
        assert response.status_code < 500


@pytest.fixture(scope="module")
def sandbox_for_property():
    from connectors.sandbox import Sandbox, SandboxConfig

    sb = Sandbox.create(
        seed=3,
        scale=10,
        clock_start="2026-05-01T09:00:00Z",
        frozen=True,
        config=SandboxConfig.unlimited(),
    )
    with sb.client("syncro") as client:
        yield client, client.get("/tickets").json()["tickets"][0]["id"]
    sb.close()
