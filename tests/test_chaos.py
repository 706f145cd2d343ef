"""A short chaos round in CI: SIGKILL the sync and the outbox worker at random instants.

The full run (`python scripts/chaos.py --kills 20 --drafts 40`) is reported in the README; this
one keeps the property under test on every commit. It runs its own sandbox server and scratch
database in subprocesses, so it is the same on either test pass and runs on the SQLite pass only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        "postgres" in os.environ.get("DATABASE_URL", ""), reason="runs once, on the SQLite pass"
    ),
]


def test_killing_workers_at_random_loses_nothing_and_duplicates_nothing():
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "scripts/chaos.py",
            "--kills",
            "3",
            "--drafts",
            "6",
            "--scale",
            "small",
            "--seed",
            "3",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "RESULT: OK" in result.stdout
    assert "| 0 | 0 | — |" in result.stdout  # no duplicate, no lost write
