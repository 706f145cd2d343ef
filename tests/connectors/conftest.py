"""Fixtures for the connector tests: a Syncro connection with a shared credential, generous
rate-limit budgets in a per-test limiter file, and no retry sleeps."""

from __future__ import annotations

import pytest
import stamina

from accounts.models import Credential, Vendor
from connectors import ratelimit
from connectors.models import Connection


@pytest.fixture(autouse=True)
def _limiter(settings, tmp_path):
    settings.RATE_LIMIT_SQLITE_PATH = str(tmp_path / "ratelimit.sqlite")
    settings.RATE_LIMIT_REDIS_URL = ""
    settings.SYNCRO_RATE_BUDGET_PER_MINUTE = 100_000
    settings.SYNCRO_WRITE_RESERVE_PER_MINUTE = 10
    settings.SYNCRO_TENANT_READ_SHARE_PER_MINUTE = 100_000
    settings.SYNCHROTEAM_RATE_BUDGET_PER_MINUTE = 100_000
    settings.SYNCHROTEAM_DAILY_QUOTA = 1_000_000
    settings.FIELDCAMP_RATE_BUDGET_PER_MINUTE = 100_000
    settings.RATE_LIMIT_MAX_WAIT_SECONDS = 5
    ratelimit.reset_buckets()
    stamina.set_testing(True, attempts=3)
    yield
    stamina.set_testing(False)
    ratelimit.reset_buckets()


def make_connection(tenant, vendor: str, *, account: str, base_url: str, secret: str, **extra):
    connection = Connection.objects.create(
        tenant=tenant, vendor=vendor, account=account, base_url=base_url, **extra
    )
    Credential.create(tenant=tenant, vendor=vendor, label=f"{vendor} shared", secret=secret)
    return connection


@pytest.fixture
def syncro_connection(world):
    return make_connection(
        world.tenant,
        Vendor.SYNCRO,
        account="demo",
        base_url="https://demo.syncromsp.com/api/v1",
        secret="sx-test-shared-token-1",
    )


@pytest.fixture
def sandbox():
    """The three emulators in-process: seed 7, small scale, a frozen clock at 2026-05-01 09:00 UTC,
    no limits (a module may define its own)."""
    from connectors.sandbox.config import SandboxConfig
    from connectors.sandbox.core import Sandbox

    sb = Sandbox.create(
        seed=7,
        scale="small",
        clock_start="2026-05-01T09:00:00Z",
        frozen=True,
        config=SandboxConfig.unlimited(),
    )
    yield sb
    sb.close()
