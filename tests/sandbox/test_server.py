"""Over loopback, faults are real network failures and a held response blocks nobody else."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from connectors.sandbox import accounts
from connectors.sandbox.core import vendor_base_url
from connectors.sandbox.server import start_in_thread


@pytest.fixture
def server(sandbox):
    srv = start_in_thread(sandbox.app)
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def http(server):
    token = accounts.syncro_user_by_id(1750).token
    with httpx.Client(
        base_url=vendor_base_url("syncro", server.base_url),
        headers={"Authorization": f"Bearer {token}"},
        timeout=0.5,
    ) as client:
        yield client


def test_reset_after_commit_resets_the_tcp_connection_after_the_write(sandbox, http, ticket_id):
    sandbox.faults.add("syncro POST /tickets/*/comment reset_after_commit times=1")
    with pytest.raises(httpx.ReadError):
        http.post(f"/tickets/{ticket_id}/comment", json={"subject": "s", "body": "reset"})
    assert sandbox.syncro.ticket_records(ticket_id)["comments"][-1]["body"] == "reset"
    assert http.get("/me").status_code == 200


def test_timeout_after_commit_outlasts_the_client_timeout_after_the_write(sandbox, http, ticket_id):
    sandbox.faults.add("syncro POST /tickets/*/comment timeout_after_commit times=1 seconds=2")
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        http.post(f"/tickets/{ticket_id}/comment", json={"subject": "s", "body": "late"})
    assert time.monotonic() - started < 1.5
    assert sandbox.syncro.ticket_records(ticket_id)["comments"][-1]["body"] == "late"


def test_a_held_response_does_not_block_other_clients(sandbox, server, http):
    sandbox.faults.add("syncro GET /users latency seconds=1")
    slow = threading.Thread(
        target=lambda: httpx.get(
            vendor_base_url("syncro", server.base_url) + "/users", headers=http.headers, timeout=5
        )
    )
    slow.start()
    time.sleep(0.1)
    started = time.monotonic()
    assert http.get("/me").status_code == 200
    assert time.monotonic() - started < 0.5
    slow.join()


def test_control_endpoints_answer_over_loopback(server):
    info = httpx.get(server.base_url + "/_sandbox/").json()
    assert info["vendors"]["syncro"] == server.base_url + "/syncro/demo/api/v1"
