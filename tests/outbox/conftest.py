"""An in-process Syncro sandbox wired to a Syncro connection of the demo tenant."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from connectors.models import Connection
from connectors.sandbox.core import Sandbox
from tests.conftest import syncro_on_sandbox


@dataclass
class SyncroWorld:
    sandbox: Sandbox
    connection: Connection
    ticket: dict


@pytest.fixture
def syncro(world, settings) -> SyncroWorld:
    sandbox, connection = syncro_on_sandbox(world, settings)
    with sandbox.client("syncro") as client:
        ticket = client.get("/tickets", params={"status": "In Progress"}).json()["tickets"][0]
    yield SyncroWorld(sandbox=sandbox, connection=connection, ticket=ticket)
    sandbox.close()
