"""Fixtures for the sandbox's own tests: a small, in-memory sandbox with a frozen clock."""

from __future__ import annotations

import pytest

from connectors.sandbox import Sandbox, SandboxConfig

START = "2026-05-01T09:00:00Z"


@pytest.fixture
def sandbox() -> Sandbox:
    sb = Sandbox.create(seed=7, scale=60, clock_start=START, frozen=True, config=SandboxConfig())
    yield sb
    sb.close()


@pytest.fixture
def syncro(sandbox):
    """An httpx client for Syncro as Howard Enos (user 1750)."""
    with sandbox.client("syncro", user_id=1750) as client:
        yield client


@pytest.fixture
def ticket_id(sandbox) -> int:
    """A new ticket (one initial comment, nothing else), created through the API; the ledger is
    cleared afterwards so tests see only their own writes."""
    with sandbox.client("syncro") as client:
        customer_id = client.get("/customers").json()["customers"][0]["id"]
        ticket = client.post(
            "/tickets",
            json={
                "customer_id": customer_id,
                "subject": "Printer offline",
                "comments_attributes": [{"subject": "Initial Issue", "body": "It is offline"}],
            },
        ).json()["ticket"]
    sandbox.ledger.clear()
    return ticket["id"]
