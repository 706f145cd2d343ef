"""Contract and behaviour tests of the Syncro sandbox routes added for issue 15 (finding 5);
the Synchroteam and FieldCamp ones are in ``test_new_endpoints_vendors.py``.

Each response is validated with openapi-core against the official spec
(``connectors/sandbox/specs/syncro-openapi.json``), with response schemas derived from the
spec's own examples as ``test_contract.py`` does, and its keys are compared with the example's
keys exactly. Writes are counted in the sandbox ledger; fault rules are checked on the new
POST.
"""

from __future__ import annotations

import copy
import json
import re

import httpx
import pytest
from openapi_core import OpenAPI

import connectors.sandbox
from connectors.sandbox.transport import SandboxTransport

from .test_contract import SPEC_FILE, Recorder, schema_from_example, to_spec

NEW_SYNCRO_PATHS = [
    "/invoices/{id}/line_items",
    "/contacts/{id}",
    "/customers/autocomplete",
    "/customers/latest",
    "/search",
]
#: The new operations (method, path regex): only their exchanges are checked here; the other
#: calls a test makes (set-up reads) are test_contract.py's business.
NEW_OPERATIONS = [
    ("POST", re.compile(r"/invoices/[^/]+/line_items")),
    ("PUT", re.compile(r"/contacts/[^/]+")),
    ("DELETE", re.compile(r"/contacts/[^/]+")),
    ("GET", re.compile(r"/customers/(autocomplete|latest)")),
    ("GET", re.compile(r"/search")),
]
RAW_SPEC = json.loads(SPEC_FILE.read_text())


def example(path: str, method: str, status: str = "200") -> dict:
    """The spec's example answer of ``method path`` with ``status``."""
    return RAW_SPEC["paths"][path][method]["responses"][status]["content"]["application/json"][
        "example"
    ]


LINE_ITEM_EXAMPLE = example("/line_items", "get")["line_items"][0]


def new_routes_spec() -> dict:
    """The spec cut to the new routes, with schemas derived from its examples. Patches, each a
    spec defect or silence: the security scheme (``apiKey`` + ``bearer``, read as HTTP
    bearer); GET /search types ``query`` as an integer (it is a search string); the 200 of
    POST /invoices/{id}/line_items has no example, so it gets the schema of the line item in
    GET /line_items' example; /search ``results`` are typed per hit (``_type``) while the only
    example is a customer, so ``_source.table`` is left free-form here and the customer hit's
    keys are compared with the example separately."""
    spec = copy.deepcopy(RAW_SPEC)
    spec["paths"] = paths = {p: spec["paths"][p] for p in NEW_SYNCRO_PATHS}
    spec["components"]["securitySchemes"]["bearerAuth"] = {"type": "http", "scheme": "bearer"}
    for ops in paths.values():
        for op in ops.values():
            for resp in op.get("responses", {}).values():
                if "*/*" in resp.get("content", {}):
                    resp["content"]["application/json"] = resp["content"].pop("*/*")
                for media in resp.get("content", {}).values():
                    if "schema" not in media and "example" in media:
                        media["schema"] = schema_from_example(media["example"])
    for param in paths["/search"]["get"]["parameters"]:
        param["schema"] = {"type": "string"}
    paths["/invoices/{id}/line_items"]["post"]["responses"]["200"]["content"] = {
        "application/json": {"schema": schema_from_example(LINE_ITEM_EXAMPLE)}
    }
    hit = paths["/search"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    table = hit["properties"]["results"]["items"]["properties"]["table"]
    table["properties"]["_source"]["properties"]["table"] = {"type": "object"}
    return spec


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    return OpenAPI.from_dict(new_routes_spec())


@pytest.fixture
def recorded(sandbox):
    """A Syncro client (user 1750, Bearer) whose exchanges are recorded for the spec check."""
    recorder = Recorder(SandboxTransport(sandbox.app))
    token = connectors.sandbox.accounts.syncro_user_by_id(1750).token
    with httpx.Client(
        base_url="http://sandbox.invalid/syncro/demo/api/v1",
        transport=recorder,
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        yield client, recorder


def assert_matches_spec(openapi: OpenAPI, recorder: Recorder) -> None:
    failures = []
    checked = 0
    for request, response in recorder.exchanges:
        path = request.url.path.split("/api/v1", 1)[1]
        if not any(request.method == m and rx.fullmatch(path) for m, rx in NEW_OPERATIONS):
            continue
        checked += 1
        try:
            openapi.validate_response(*to_spec(request, response))
        except Exception as exc:  # collect them all
            failures.append(
                f"{request.method} {request.url.path} -> {response.status_code}: "
                f"{getattr(exc, '__cause__', None) or exc}"
            )
    assert checked, "no exchange of a new operation was recorded"
    assert not failures, "\n".join(failures)


def unpaid_invoice(client) -> dict:
    return client.get("/invoices", params={"unpaid": "true"}).json()["invoices"][0]


# --- Syncro: POST /invoices/{id}/line_items -------------------------------------------------
def test_invoice_line_item_matches_the_spec_and_fills_from_the_product(sandbox, recorded, openapi):
    client, recorder = recorded
    invoice = unpaid_invoice(client)
    before = client.get(f"/invoices/{invoice['id']}").json()["invoice"]
    sandbox.ledger.clear()
    r = client.post(
        f"/invoices/{invoice['id']}/line_items", json={"product_id": 1190473, "quantity": 2}
    )
    assert r.status_code == 200
    line = r.json()
    assert set(line) == set(LINE_ITEM_EXAMPLE)
    product = client.get("/products/1190473").json()["product"]
    assert line["item"] == product["name"]
    assert line["name"] == product["description"]
    assert float(line["price"]) == product["price_retail"]
    assert line["taxable"] is product["taxable"]
    assert line["quantity"] == "2.0"
    assert line["position"] == len(before["line_items"]) + 1
    after = client.get(f"/invoices/{invoice['id']}").json()["invoice"]
    assert [li["id"] for li in after["line_items"]][-1] == line["id"]
    added = float(line["price"]) * 2
    assert float(after["subtotal"]) == pytest.approx(float(before["subtotal"]) + added)
    (entry,) = sandbox.ledger.writes(vendor="syncro", method="POST")
    assert entry.path == f"/invoices/{invoice['id']}/line_items"
    assert entry.created("syncro.invoice_line_item") == [line["id"]]
    assert_matches_spec(openapi, recorder)


def test_invoice_line_item_explicit_fields_win_over_the_product(recorded, openapi):
    client, recorder = recorded
    invoice = unpaid_invoice(client)
    line = client.post(
        f"/invoices/{invoice['id']}/line_items",
        json={
            "product_id": 1190473,
            "item": "Custom",
            "name": "On site",
            "price": 99.5,
            "cost": 10,
            "taxable": True,
            "line_discount_percent": 5,
        },
    ).json()
    assert (line["item"], line["name"], line["price"], line["cost"]) == (
        "Custom",
        "On site",
        "99.5",
        "10.0",
    )
    assert line["taxable"] is True and line["discount_percent"] == 5
    assert_matches_spec(openapi, recorder)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"name": "no item"}, "Item can't be blank"),
        ({"product_id": 424242}, "Product must exist"),
        ({"item": "x", "price": "abc"}, "Price is not a number"),
        ({"item": "x", "quantity": "NaN"}, "Quantity is not a number"),
        ({"item": "x", "price": "1e999"}, "Price is too large"),
    ],
)
def test_invoice_line_item_rejections_write_nothing(sandbox, syncro, body, error):
    invoice = unpaid_invoice(syncro)
    count = len(
        syncro.get("/line_items", params={"invoice_id": invoice["id"]}).json()["line_items"]
    )
    r = syncro.post(f"/invoices/{invoice['id']}/line_items", json=body)
    assert r.status_code == 422
    assert r.json() == {"errors": error, "params": {}}
    assert (
        len(syncro.get("/line_items", params={"invoice_id": invoice["id"]}).json()["line_items"])
        == count
    )
    assert not any(e.committed for e in sandbox.ledger.writes(vendor="syncro"))


def test_invoice_line_item_on_a_paid_invoice_or_missing_invoice(syncro):
    paid = syncro.get("/invoices", params={"paid": "true"}).json()["invoices"][0]
    r = syncro.post(f"/invoices/{paid['id']}/line_items", json={"item": "Late"})
    assert (r.status_code, r.json()["errors"]) == (422, "Invoice is already paid")
    r = syncro.post("/invoices/99999999/line_items", json={"item": "x"})
    assert (r.status_code, r.json()) == (404, {"message": "Not found"})


def test_invoice_line_item_faults_apply(sandbox, syncro):
    invoice = unpaid_invoice(syncro)
    sandbox.faults.add("syncro POST /invoices/*/line_items error_before_commit status=503 times=1")
    assert (
        syncro.post(f"/invoices/{invoice['id']}/line_items", json={"item": "A"}).status_code == 503
    )
    sandbox.faults.add("syncro POST /invoices/*/line_items timeout_after_commit times=1")
    with pytest.raises(httpx.ReadTimeout):
        syncro.post(f"/invoices/{invoice['id']}/line_items", json={"item": "B"})
    items = syncro.get("/line_items", params={"invoice_id": invoice["id"]}).json()["line_items"]
    assert [li["item"] for li in items].count("A") == 0
    assert [li["item"] for li in items].count("B") == 1
    statuses = [(e.status, e.committed) for e in sandbox.ledger.writes(vendor="syncro")]
    assert statuses == [(503, False), (200, True)]


# --- Syncro: PUT and DELETE /contacts/{id} --------------------------------------------------
def test_contact_update_matches_the_spec_example(sandbox, recorded, openapi):
    client, recorder = recorded
    contact = client.get("/contacts").json()["contacts"][0]
    r = client.put(
        f"/contacts/{contact['id']}", json={"name": "Boba Fett", "title": "CTO", "city": "Tuanside"}
    )
    assert r.status_code == 200
    body = r.json()
    assert set(body) == set(example("/contacts/{id}", "put"))
    assert (body["name"], body["city"], body["email"]) == (
        "Boba Fett",
        "Tuanside",
        contact["email"],
    )
    assert client.get(f"/contacts/{contact['id']}").json()["name"] == "Boba Fett"
    (entry,) = sandbox.ledger.writes(vendor="syncro", method="PUT")
    assert entry.records == [{"kind": "syncro.contact", "id": contact["id"], "op": "updated"}]
    assert_matches_spec(openapi, recorder)


@pytest.mark.parametrize(
    ("body", "error"),
    [({"customer_id": 123}, "Customer can't be blank"), ({"name": "  "}, "Name can't be blank")],
)
def test_contact_update_422_is_the_spec_shape_and_keeps_the_record(recorded, openapi, body, error):
    client, recorder = recorded
    contact = client.get("/contacts").json()["contacts"][0]
    r = client.put(f"/contacts/{contact['id']}", json=body)
    assert r.status_code == 422
    spec_422 = example("/contacts/{id}", "put", "422")
    assert set(r.json()) == set(spec_422)
    assert set(r.json()["record"]) == set(spec_422["record"])
    assert r.json()["errors"] == error
    assert client.get(f"/contacts/{contact['id']}").json() == contact
    assert_matches_spec(openapi, recorder)


def test_contact_delete_then_404(sandbox, recorded, openapi):
    client, recorder = recorded
    contact = client.get("/contacts").json()["contacts"][0]
    r = client.delete(f"/contacts/{contact['id']}")
    assert (r.status_code, r.json()) == (200, {"message": "Contact was successfully deleted."})
    assert client.get(f"/contacts/{contact['id']}").status_code == 404
    for again in (
        client.delete(f"/contacts/{contact['id']}"),
        client.put(f"/contacts/{contact['id']}", json={"name": "x"}),
    ):
        assert (again.status_code, again.json()) == (404, {"message": "Not found"})
    deleted = [e for e in sandbox.ledger.writes(vendor="syncro", method="DELETE") if e.committed]
    assert [e.records for e in deleted] == [
        [{"kind": "syncro.contact", "id": contact["id"], "op": "deleted"}]
    ]
    assert_matches_spec(openapi, recorder)


# --- Syncro: customers autocomplete / latest, search ----------------------------------------
def test_autocomplete_matches_the_example_and_filters(recorded, openapi):
    client, recorder = recorded
    customer = client.get("/customers").json()["customers"][3]
    word = (customer["business_name"] or customer["lastname"]).split()[0]
    body = client.get("/customers/autocomplete", params={"query": word.upper()}).json()
    assert set(body) == set(example("/customers/autocomplete", "get"))  # no meta
    assert customer["id"] in [c["id"] for c in body["customers"]]
    expected_keys = set(example("/customers/autocomplete", "get")["customers"][0])
    for c in body["customers"]:
        assert set(c) == expected_keys
        text = " ".join(
            str(c[k] or "") for k in ("business_name", "firstname", "lastname", "email")
        )
        assert word.lower() in text.lower()
    none = client.get("/customers/autocomplete", params={"query": "%zz_no_such%"}).json()
    assert none == {"customers": []}
    assert_matches_spec(openapi, recorder)


def test_autocomplete_pages(syncro, sandbox):
    sandbox.configure(
        syncro_page_sizes={**sandbox.config.syncro_page_sizes, "customers_autocomplete": 2}
    )
    first = syncro.get("/customers/autocomplete").json()["customers"]
    second = syncro.get("/customers/autocomplete", params={"page": 2}).json()["customers"]
    assert len(first) == len(second) == 2
    assert {c["id"] for c in first}.isdisjoint(c["id"] for c in second)


def test_latest_customer_is_the_newest_one(recorded, openapi):
    client, recorder = recorded
    body = client.get("/customers/latest").json()
    assert set(body) == {"customer"}
    assert set(body["customer"]) == set(example("/customers/latest", "get")["customer"])
    created = client.post("/customers", json={"business_name": "Newest LLC"}).json()["customer"]
    latest = client.get("/customers/latest").json()["customer"]
    assert (latest["id"], latest["business_name"], latest["contacts"]) == (
        created["id"],
        "Newest LLC",
        [],
    )
    assert_matches_spec(openapi, recorder)


def test_search_matches_the_example(recorded, openapi):
    client, recorder = recorded
    customer = client.get("/customers").json()["customers"][0]
    ticket = client.get("/tickets").json()["tickets"][0]
    spec = example("/search", "get")
    body = client.get("/search", params={"query": customer["email"]}).json()
    assert set(body) == set(spec) and body["quick_result"] is None and body["error"] is None
    hit = next(h for h in body["results"] if h["table"]["_type"] == "customer")
    spec_hit = spec["results"][0]
    assert set(hit) == set(spec_hit) and set(hit["table"]) == set(spec_hit["table"])
    assert set(hit["table"]["_source"]["table"]) == set(spec_hit["table"]["_source"]["table"])
    phone = hit["table"]["_source"]["table"]["phones"][0]
    assert set(phone) == set(spec_hit["table"]["_source"]["table"]["phones"][0])
    assert hit["table"]["_id"] == customer["id"] and hit["table"]["_index"] == "customers"
    by_number = client.get("/search", params={"query": str(ticket["number"])}).json()["results"]
    assert ticket["id"] in [h["table"]["_id"] for h in by_number if h["table"]["_type"] == "ticket"]
    assert client.get("/search").json() == {"quick_result": None, "results": [], "error": None}
    assert_matches_spec(openapi, recorder)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/customers/autocomplete"),
        ("GET", "/customers/latest"),
        ("GET", "/search?query=a"),
        ("PUT", "/contacts/1"),
        ("DELETE", "/contacts/1"),
        ("POST", "/invoices/1/line_items"),
    ],
)
def test_new_syncro_routes_need_a_token(sandbox, method, path):
    with httpx.Client(
        base_url="http://sandbox.invalid/syncro/demo/api/v1",
        transport=SandboxTransport(sandbox.app),
    ) as c:
        r = c.request(method, path)
    assert (r.status_code, r.json()) == (401, {"error": "Not authorized"})


def test_the_new_syncro_routes_are_exercised_only_through_spec_paths():
    """Guard: every new route is an operation of the official spec."""
    ops = {
        ("post", "/invoices/{id}/line_items"),
        ("put", "/contacts/{id}"),
        ("delete", "/contacts/{id}"),
        ("get", "/customers/autocomplete"),
        ("get", "/customers/latest"),
        ("get", "/search"),
    }
    assert all(m in RAW_SPEC["paths"][p] for m, p in ops)


def test_the_request_bodies_the_sandbox_accepted_match_the_spec(recorded, openapi):
    """What a spec-following client sends is accepted: each 2xx write's request validates
    against the spec's request schema (``LineItem2``, the contact PUT schema)."""
    client, recorder = recorded
    invoice = unpaid_invoice(client)
    contact = client.get("/contacts").json()["contacts"][0]
    client.post(
        f"/invoices/{invoice['id']}/line_items",
        json={"item": "Cable", "name": "CAT6", "price": 6.5, "cost": 2, "taxable": False},
    )
    client.put(f"/contacts/{contact['id']}", json={"name": "Boba Fett", "zip": "02293"})
    client.delete(f"/contacts/{contact['id']}")
    writes = [(q, r) for q, r in recorder.exchanges if q.method != "GET"]
    assert [r.status_code for _, r in writes] == [200, 200, 200]
    for request, response in writes:
        openapi.validate_request(to_spec(request, response)[0])


def test_a_ticket_of_a_deleted_contact_still_loads(syncro):
    ticket = next(t for t in syncro.get("/tickets").json()["tickets"] if t.get("contact_id"))
    assert syncro.delete(f"/contacts/{ticket['contact_id']}").status_code == 200
    detail = syncro.get(f"/tickets/{ticket['id']}")
    assert detail.status_code == 200
    assert detail.json()["ticket"]["contact_id"] == ticket["contact_id"]  # kept (spec silent)
    assert detail.json()["ticket"]["contact"] is None
