"""Vendor clients over httpx.MockTransport: auth, envelopes, pagination, errors, retries."""

from __future__ import annotations

import json

import httpx
import pytest
import stamina

from connectors import errors
from connectors.errors import vendor_messages
from connectors.syncro.client import SyncroClient

BASE = "https://demo.syncromsp.com/api/v1"


@pytest.fixture(autouse=True)
def _no_retry_sleep():
    stamina.set_testing(True, attempts=3)
    yield
    stamina.set_testing(False)


class Recorder:
    """A MockTransport handler that replays `responses` in order and records every request."""

    def __init__(self, *responses: httpx.Response | Exception):
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(item, Exception):
            raise item
        return item


def syncro(recorder: Recorder, **kwargs) -> SyncroClient:
    return SyncroClient.build(BASE, "tok-123456", transport=httpx.MockTransport(recorder), **kwargs)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": "Customer required field"}, ["Customer required field"]),
        ({"success": False, "message": ["Subject can't be blank"]}, ["Subject can't be blank"]),
        (
            {"errors": "Name can't be blank, Description can't be blank", "params": {}},
            ["Name can't be blank, Description can't be blank"],
        ),
        ({"errors": ["billable must be true or false"]}, ["billable must be true or false"]),
        (
            {"record": {"name": None}, "errors": "Name can't be blank"},
            ["Name can't be blank"],
        ),
        (
            {"customer_id": ["can't be blank"], "date": ["can't be blank"]},
            ["customer_id can't be blank", "date can't be blank"],
        ),
        (
            {"success": False, "errors": {"appointments": {"summary": ["can't be blank"]}}},
            ["appointments summary can't be blank"],
        ),
        (
            {"error": ["Frequency Must be a valid selection"]},
            ["Frequency Must be a valid selection"],
        ),
        ({"message": "Not found"}, ["Not found"]),
        # FieldCamp: string or object
        ({"success": False, "error": "jobNumber is required"}, ["jobNumber is required"]),
        (
            {
                "success": False,
                "error": {"code": "INTEGRATION_NOT_CONNECTED", "message": "Connect"},
            },
            ["INTEGRATION_NOT_CONNECTED: Connect"],
        ),
    ],
)
def test_every_documented_error_shape_normalises_to_messages(body, expected):
    assert vendor_messages(body) == expected


def test_syncro_sends_bearer_header_by_default_and_no_api_key():
    rec = Recorder(httpx.Response(200, json={"user_id": 1737, "user_name": "Winter Reyes"}))
    me = syncro(rec).me()
    assert me["user_name"] == "Winter Reyes"
    request = rec.requests[0]
    assert request.headers["Authorization"] == "Bearer tok-123456"
    assert "api_key" not in str(request.url)
    assert request.url.path == "/api/v1/me"


def test_syncro_query_auth_mode_sends_api_key_and_no_header():
    rec = Recorder(httpx.Response(200, json={"user_id": 1}))
    syncro(rec, auth_mode="query").me()
    request = rec.requests[0]
    assert request.url.params["api_key"] == "tok-123456"
    assert "Authorization" not in request.headers


def test_syncro_pages_follow_total_pages_whatever_the_page_size():
    pages = [
        httpx.Response(
            200, json={"tickets": [{"id": i} for i in range(50)], "meta": {"total_pages": 3}}
        ),
        httpx.Response(
            200, json={"tickets": [{"id": i} for i in range(50)], "meta": {"total_pages": 3}}
        ),
        httpx.Response(200, json={"tickets": [{"id": 1}], "meta": {"total_pages": 3}}),
    ]
    rec = Recorder(*pages)
    result = list(syncro(rec).iter_pages("tickets", params={"since_updated_at": "2026-01-01"}))
    assert [len(p.records) for p in result] == [50, 50, 1]
    assert [r.url.params["page"] for r in rec.requests] == ["1", "2", "3"]
    assert all(r.url.params["since_updated_at"] == "2026-01-01" for r in rec.requests)
    assert result[-1].is_last


def test_syncro_without_meta_stops_at_an_empty_page():
    rec = Recorder(
        httpx.Response(200, json={"products": [{"id": 1}]}),
        httpx.Response(200, json={"products": []}),
    )
    result = list(syncro(rec).iter_pages("products"))
    assert len(rec.requests) == 2
    assert result[-1].records == []


def test_syncro_422_raises_validation_with_vendor_message():
    rec = Recorder(httpx.Response(422, json={"success": False, "message": ["Body can't be blank"]}))
    with pytest.raises(errors.ValidationError) as info:
        syncro(rec).create_comment(7, subject="s", body="")
    assert info.value.vendor_message == "Body can't be blank"
    assert info.value.permanent


def test_syncro_401_is_a_permanent_auth_error():
    rec = Recorder(httpx.Response(401, json={"error": "Not authorized."}))
    with pytest.raises(errors.AuthError) as info:
        syncro(rec).me()
    assert info.value.permanent
    assert len(rec.requests) == 1


def test_get_retries_a_429_and_honours_retry_after(monkeypatch):
    waits = []
    rec = Recorder(
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(200, json={"tickets": [], "meta": {"total_pages": 1}}),
    )
    client = syncro(rec)
    hook = client._api._retry_hook

    def spy(exc):
        result = hook(exc)
        waits.append(result)
        return result

    monkeypatch.setattr(client._api, "_retry_hook", spy)
    client.list_page("tickets")
    assert len(rec.requests) == 2
    assert waits == [7.0]


def test_syncro_429_without_retry_after_waits_sixty_seconds():
    response = httpx.Response(429, request=httpx.Request("GET", BASE + "/tickets"))
    exc = errors.error_from_response("syncro", response, safe=True, retry_after_default=60)
    assert isinstance(exc, errors.RateLimited)
    assert exc.retry_after == 60


def test_get_retries_5xx_then_gives_up_with_transient():
    rec = Recorder(httpx.Response(503, text="busy"))
    with pytest.raises(errors.TransientError):
        syncro(rec).list_page("tickets")
    assert len(rec.requests) == 3  # stamina testing attempts


def test_post_is_never_retried_and_a_5xx_is_ambiguous():
    rec = Recorder(httpx.Response(502, text="bad gateway"))
    with pytest.raises(errors.AmbiguousError):
        syncro(rec).create_comment(7, subject="s", body="b")
    assert len(rec.requests) == 1


def test_post_read_timeout_is_ambiguous_and_connect_error_is_transient():
    rec = Recorder(httpx.ReadTimeout("slow"))
    with pytest.raises(errors.AmbiguousError):
        syncro(rec).add_line_item(7, {"name": "x", "description": "y"})
    assert len(rec.requests) == 1
    rec = Recorder(httpx.ConnectError("refused"))
    with pytest.raises(errors.TransientError):
        syncro(rec).add_line_item(7, {"name": "x", "description": "y"})
    assert len(rec.requests) == 1


def test_comment_post_unwraps_the_comment_envelope_and_sends_safe_defaults():
    rec = Recorder(httpx.Response(200, json={"comment": {"id": 2, "subject": "S"}}))
    comment = syncro(rec).create_comment(13, subject="S", body="B")
    assert comment == {"id": 2, "subject": "S"}
    sent = json.loads(rec.requests[0].content)
    assert rec.requests[0].url.path == "/api/v1/tickets/13/comment"
    assert sent == {"subject": "S", "body": "B", "hidden": True, "do_not_email": True}
