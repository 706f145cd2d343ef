"""The shared rate limiter on Redis: two processes draw from one budget (RATE_LIMIT_REDIS_URL)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis():
    from redis import Redis

    try:
        client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        client.ping()
        return client
    except Exception:
        return None


pytestmark = pytest.mark.skipif(_redis() is None, reason=f"no Redis at {REDIS_URL}")

WORKER = """
import os, sys, time
import django
django.setup()
from pyrate_limiter import Duration, Rate
from connectors.errors import RateLimited
from connectors.ratelimit import take
granted = 0
for _ in range(int(sys.argv[1])):
    try:
        take("test:shared-budget", [Rate(25, Duration.MINUTE)], deadline=time.monotonic())
        granted += 1
    except RateLimited:
        pass
print(granted)
"""


def test_two_processes_never_take_more_than_one_shared_redis_budget(tmp_path):
    client = _redis()
    client.flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "RATE_LIMIT_REDIS_URL": REDIS_URL,
        "FIELDLINE_VAR_DIR": str(tmp_path),
        "DEBUG": "true",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DATABASE_URL", None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, "40"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,  # noqa: S603
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    granted = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        granted.append(int(out.strip().splitlines()[-1]))
    assert sum(granted) == 25  # 80 attempts, one budget of 25 per minute
    assert any(key.startswith(b"fieldline:") for key in client.keys("*"))  # the state is in Redis
    assert not (tmp_path / "ratelimit.sqlite").exists()  # and not in the SQLite fallback
    client.flushdb()
