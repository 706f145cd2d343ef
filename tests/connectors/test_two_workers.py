"""Acceptance: two worker processes syncing at once share the Syncro egress budget.

A real sandbox server (``manage.py runsandbox``) whose Syncro limit equals our configured budget
answers two ``manage.py sync`` processes (two tenants, one egress address). If the shared
limiter ever let more than the budget through in a minute, the sandbox would answer 429.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection as db

from accounts.models import Vendor
from connectors.models import SyncRun
from connectors.sandbox import accounts as sandbox_accounts

from .conftest import make_connection

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 24  # requests per minute, ours and the sandbox's
STREAMS = ["customers", "contacts", "products", "tickets", "invoices", "line_items"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs a database two processes can share (PostgreSQL; pytest-django's SQLite "
        "test database is in memory)",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback sandbox
        return json.loads(response.read())


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_exceed_the_shared_syncro_budget(world, tmp_path):
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RATE_LIMIT_SQLITE_PATH": str(tmp_path / "ratelimit.sqlite"),
        "SYNCRO_RATE_BUDGET_PER_MINUTE": str(BUDGET),
        "SYNCRO_WRITE_RESERVE_PER_MINUTE": "4",
        "SYNCRO_TENANT_READ_SHARE_PER_MINUTE": str(BUDGET),
        "RATE_LIMIT_MAX_WAIT_SECONDS": "100",
        "DATABASE_URL": _shared_database_url(),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "runsandbox",
            "--port",
            str(port),
            "--db",
            ":memory:",
            "--config",
            json.dumps({"syncro_rate_limit_per_minute": BUDGET}),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                get_json(f"{root}/_sandbox/")
                break
            except OSError:
                time.sleep(0.1)
        base = f"{root}/syncro/{sandbox_accounts.SYNCRO_SUBDOMAIN}/api/v1"
        token = sandbox_accounts.syncro_user_by_id(1735).token
        for tenant in (world.tenant, world.other_tenant):
            make_connection(tenant, Vendor.SYNCRO, account="demo", base_url=base, secret=token)
        workers = [
            subprocess.Popen(
                [sys.executable, "manage.py", "sync", "--tenant", slug, "--full"]
                + [arg for s in STREAMS for arg in ("--stream", s)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for slug in (world.tenant.slug, world.other_tenant.slug)
        ]
        outputs = [w.communicate(timeout=240)[0] for w in workers]
        assert [w.returncode for w in workers] == [0, 0], outputs
        info = get_json(f"{root}/_sandbox/")
    finally:
        server.terminate()
        server.wait(timeout=10)
    runs = list(SyncRun.objects.all())
    assert len(runs) == 2 * len(STREAMS)
    assert {r.status for r in runs} == {"succeeded"}
    sent = sum(r.requests for r in runs)
    assert sent > BUDGET  # enough traffic to need the second minute
    assert sum(r.throttled for r in runs) == 0  # the sandbox never answered 429
    assert info["requests"]["syncro"] == sent  # what the vendor saw is what we counted


def _shared_database_url() -> str:
    """The URL of pytest-django's test database, for the subprocesses."""
    cfg = db.settings_dict
    return (
        f"postgres://{cfg['USER']}:{cfg.get('PASSWORD') or ''}@{cfg['HOST']}:{cfg['PORT']}/"
        f"{cfg['NAME']}"
    )
