"""A Syncro sandbox, its mirror synced into the demo tenant, labor types mapped.

The world of tests/conftest.py plus: the demo tenant's Syncro connection to an in-process
sandbox (seeded, small scale), the tenant's shared Syncro key (Michael Swanson, 1735) and the
billing clerk's own key (Howard Enos, 1750), and a full sync of the mirror.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache

from billing.demo import map_labor_types
from connectors.models import Connection
from connectors.sandbox.core import Sandbox
from connectors.services import connection_sync_now
from connectors.syncro.models import SyncroTicket
from tests.conftest import syncro_on_sandbox


@dataclass
class SyncroWorld:
    sandbox: Sandbox
    connection: Connection
    ticket: SyncroTicket  # an "In Progress" ticket of the mirror

    def ledger(self, method: str, path: str):
        return self.sandbox.ledger.writes(vendor="syncro", method=method, path=path)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def syncro(world, settings) -> SyncroWorld:
    sandbox, connection = syncro_on_sandbox(world, settings)
    connection_sync_now(connection, mode="full")
    map_labor_types(world.tenant)
    ticket = SyncroTicket.objects.filter(tenant=world.tenant, status="In Progress").first()
    yield SyncroWorld(sandbox=sandbox, connection=connection, ticket=ticket)
    sandbox.close()
