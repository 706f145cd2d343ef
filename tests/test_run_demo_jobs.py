"""Issue 13, finding 6: ``make run``'s script (scripts/run-demo) leaves no process behind.

Its job control lives in scripts/jobs.sh; these tests source that file in a small script that
starts the same kinds of job as the demo (a subshell whose child keeps running, a process that
ignores SIGTERM, a graceful one that stops its own child) and check that every process of the
session is gone after the script exits or gets Ctrl-C.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STOP_SECONDS = 2

SCRIPT = """
set -euo pipefail
. scripts/jobs.sh
trap stop_jobs EXIT
trap 'exit 130' INT
( sleep 300; true ) & job_started $!
bash -c 'trap "" TERM; sleep 300' & job_started $!
bash -c 'sleep 300 & c=$!; trap "kill $c; exit 0" TERM; wait' & job_started $! graceful
echo ready
read -r go
{end}
"""


def session_pids(sid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "-s", str(sid)], capture_output=True, text=True)
    return [int(pid) for pid in out.stdout.split()]


def run(end: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        ["bash", "-c", SCRIPT.format(end=end)],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "JOBS_STOP_SECONDS": str(STOP_SECONDS)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 5
    # bash; the subshell and its sleep; the sleep that ignores SIGTERM; the graceful bash + sleep
    while len(session_pids(proc.pid)) < 6:
        assert time.monotonic() < deadline, session_pids(proc.pid)
        time.sleep(0.1)
    proc.stdin.write("go\n")
    proc.stdin.flush()
    return proc


def gone_within(proc: subprocess.Popen, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        proc.poll()
        if not session_pids(proc.pid):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_script_exit_stops_every_job_and_its_children():
    proc = run(end="exit 0")
    assert gone_within(proc, STOP_SECONDS + 3), session_pids(proc.pid)
    assert "still running after 2s, killing it" in proc.stderr.read()  # the TERM-ignoring one


@pytest.mark.slow
def test_ctrl_c_stops_every_job_and_a_second_one_kills_at_once():
    proc = run(end="wait")
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert session_pids(proc.pid)  # still waiting for the job that ignores SIGTERM
    proc.send_signal(signal.SIGINT)
    assert gone_within(proc, 2), session_pids(proc.pid)
    assert proc.wait(timeout=5) == 130


def test_run_demo_registers_every_background_job():
    lines = (ROOT / "scripts" / "run-demo").read_text().splitlines()
    backgrounded = [line for line in lines if re.search(r"[^&]&\s", line + " ")]
    assert len(backgrounded) >= 4
    for line in backgrounded:
        assert "job_started $!" in line, line
    assert ". scripts/jobs.sh" in lines
    assert "trap stop_jobs EXIT" in lines
