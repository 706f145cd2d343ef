"""Issue 15 items 1 and the unknown-route rule: specific routes win over generic ones, and an
unknown route answers the vendor framework's own 404 (never a missing record's body) with
``X-Sandbox-Route: unknown`` so no client confuses the two."""

from __future__ import annotations

import pytest

from connectors.sandbox.vendor import Vendor, route, url_map
from connectors.sandbox.web import json_response

ROUTE_HEADER = "X-Sandbox-Route"


def test_jobtype_list_reaches_its_own_handler(sandbox):
    with sandbox.client("synchroteam") as st:
        response = st.get("/jobtype/list")
        assert response.status_code == 200
        body = response.json()
        assert body["recordsTotal"] == len(body["data"]) > 0
        assert {"id", "name", "category"} <= set(body["data"][0])
        assert ROUTE_HEADER not in response.headers
        # the case-insensitive path too, as Synchroteam's IIS matches it
        assert st.get("/JobType/List").status_code == 200


def test_specific_rule_wins_over_generic_whatever_the_declaration_order():
    table = [("GET", "/{resource}/list", "generic"), ("GET", "/jobtype/list", "specific")]
    for rows in (table, table[::-1]):
        urls = url_map(rows).bind("x")
        assert urls.match("/jobtype/list", method="GET") == ("specific", {})
        assert urls.match("/job/list", method="GET") == ("generic", {"resource": "job"})


def test_generic_route_declines_an_unknown_resource_as_an_unknown_route(sandbox):
    with sandbox.client("synchroteam") as st:
        for method, path in [
            ("GET", "/nosuch/list"),
            ("GET", "/nosuch/details?id=1"),
            ("POST", "/nosuch/send"),
            ("DELETE", "/nosuch/delete?id=1"),
            ("GET", "/job/nosuch"),
        ]:
            response = st.request(method, path, json={} if method == "POST" else None)
            assert response.status_code == 404, path
            assert response.headers[ROUTE_HEADER] == "unknown", path
            assert response.json()["message"].startswith("No HTTP resource was found"), path


def test_missing_record_is_not_an_unknown_route(sandbox):
    with sandbox.client("synchroteam") as st:
        response = st.get("/job/details", params={"id": 999999999})
        assert response.status_code == 404
        assert ROUTE_HEADER not in response.headers
        assert not response.json()["message"].startswith("No HTTP resource")


def test_syncro_unknown_route_differs_from_a_missing_record(sandbox, syncro):
    missing = syncro.get("/tickets/999999999")
    assert missing.status_code == 404 and missing.json() == {"message": "Not found"}
    assert ROUTE_HEADER not in missing.headers

    unknown = syncro.get("/no_such_resource")
    assert unknown.status_code == 404
    assert unknown.headers[ROUTE_HEADER] == "unknown"
    # Rails' ActionDispatch::PublicExceptions for a JSON request
    assert unknown.json() == {"status": 404, "error": "Not Found"}
    assert unknown.json() != missing.json()


def test_a_real_syncro_route_not_emulated_is_not_a_record_of_the_show_route(sandbox, syncro):
    """GET /products/categories is Syncro's own action (in the spec), not GET /products/{id}
    of a record named "categories": the sandbox says it has no such route."""
    unknown = syncro.get("/products/categories")
    assert unknown.status_code == 404 and unknown.headers[ROUTE_HEADER] == "unknown"
    missing = syncro.get("/products/999999999")
    assert missing.json() == {"message": "Not found"} and ROUTE_HEADER not in missing.headers
    found = syncro.get("/products/barcode", params={"barcode": "no-such-barcode"})
    assert found.status_code == 404 and ROUTE_HEADER not in found.headers  # emulated route


def test_syncro_unknown_route_for_a_browser_is_the_rails_html_page(sandbox, syncro):
    response = syncro.get("/no_such_resource", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "The page you were looking for doesn't exist" in response.text
    assert response.headers[ROUTE_HEADER] == "unknown"


def test_syncro_wrong_method_is_a_rails_routing_error(sandbox, syncro, ticket_id):
    # Rails has no 405: a known path with another verb is "No route matches" (404).
    response = syncro.patch(f"/tickets/{ticket_id}/comment", json={})
    assert response.status_code == 404
    assert response.json() == {"status": 404, "error": "Not Found"}
    assert response.headers[ROUTE_HEADER] == "method-not-allowed"


def test_synchroteam_wrong_method_is_405_with_the_header(sandbox):
    with sandbox.client("synchroteam") as st:
        response = st.get("/customfield/list")
        assert response.status_code == 405
        assert response.headers[ROUTE_HEADER] == "method-not-allowed"


@pytest.mark.parametrize(
    "method,path",
    [("GET", "/nothing"), ("POST", "/integrations/nosuch/sync"), ("GET", "/integrations/x/status")],
)
def test_fieldcamp_unknown_route(sandbox, method, path):
    with sandbox.client("fieldcamp") as fc:
        response = fc.request(method, path)
        assert response.status_code == 404
        assert response.headers[ROUTE_HEADER] == "unknown"
        assert response.json()["error"]["code"] == "NOT_FOUND"
        missing = fc.get("/visits/999999999")
        assert missing.status_code == 404 and ROUTE_HEADER not in missing.headers
        assert missing.json()["error"] != response.json()["error"]


def test_unknown_route_header_is_added_by_the_framework(sandbox):
    class Tiny(Vendor):
        name = "tiny"

        @route("GET", "/a/{x}")
        def a(self, ctx):
            return json_response({})

    tiny = Tiny(sandbox)
    assert tiny.unknown_route(None).headers[ROUTE_HEADER] == "unknown"
    assert tiny.match("GET", "/a/1")[0] is not None
    assert tiny.match("GET", "/b")[0] is None
