"""Fixtures for the sandbox's own tests: a small, in-memory sandbox with a frozen clock."""

from __future__ import annotations

import pytest

# Imported at collection, before any test starts a server thread: pytest rewrites a plugin's
# modules with ast.parse when they are first imported, and CPython 3.11.7's ast objects are not
# safe to build in two threads at once (gh-106905: "AST constructor recursion depth mismatch").
import schemathesis.openapi.loaders  # noqa: F401, I001
import schemathesis.specs.openapi.schemas  # noqa: F401

from connectors.sandbox import Sandbox, SandboxConfig
from connectors.sandbox.clock import SandboxClock
from connectors.sandbox.store import Store

START = "2026-05-01T09:00:00Z"


@pytest.fixture(scope="session")
def _template() -> Sandbox:
    """Generated once per session; each test gets a copy (SQLite backup API)."""
    sb = Sandbox.create(seed=7, scale=60, clock_start=START, frozen=True)
    yield sb
    sb.close()


@pytest.fixture
def sandbox(_template) -> Sandbox:
    """A fresh, in-memory sandbox: 60 tickets/jobs, seed 7, clock frozen at START, default
    limits, no faults."""
    store = Store(None)
    with _template.store.lock:
        _template.store.conn.backup(store.conn)
    sb = Sandbox(store, clock=SandboxClock(START, frozen=True), config=SandboxConfig(), seed=7)
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
