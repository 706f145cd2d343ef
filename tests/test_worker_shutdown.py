"""Issue 13, finding 6: ``manage.py qcluster`` is gone within ``Q_TIMEOUT`` on SIGTERM and SIGINT.

Each test starts the real command in a new session (its own process group) against a migrated
database of its own (a temporary SQLite file, or a PostgreSQL database next to the suite's when
``DATABASE_URL`` is PostgreSQL), enqueues tasks, signals it and watches the group with ``ps``.
Before the fix, django-q2 ran every task already taken into its in-memory queue before stopping
(six 4-second tasks on two workers: 12 s) and waited without limit for a task that ignores its
SIGALRM timeout.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
Q_TIMEOUT = 8  # seconds; the limit under test
MARGIN = 2.0  # seconds for the interpreter to exit and ps to notice

pytestmark = pytest.mark.slow


def stubborn_task(seconds: float) -> None:
    """A task that swallows django-q2's SIGALRM timeout (like code stuck in a C call)."""
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    time.sleep(seconds)


@pytest.fixture(scope="module")
def cluster_env(tmp_path_factory):
    """Environment for ``manage.py`` subprocesses on a freshly migrated database of their own."""
    tmp = tmp_path_factory.mktemp("qcluster")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("Q_", "PYTEST", "DJANGO_SETTINGS"))
    }
    env.update(
        DEBUG="1",
        LOG_LEVEL="INFO",
        FIELDLINE_VAR_DIR=str(tmp),
        PYTHONPATH=str(ROOT),
        Q_WORKERS="2",
        Q_TIMEOUT=str(Q_TIMEOUT),
        Q_RETRY=str(Q_TIMEOUT * 4),
    )
    url = os.environ.get("DATABASE_URL", "")
    drop = None
    if url.startswith("postgres"):
        parts = urlsplit(url)
        name = f"{parts.path.lstrip('/') or 'postgres'}_qcluster_{os.getpid()}"
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
        admin = urlunsplit(parts._replace(path="/postgres"))
        drop = _create_pg_database(admin, name)
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite3'}"
    manage(env, "migrate", "--noinput")
    yield env
    if drop:
        drop()


def _create_pg_database(admin_url: str, name: str):
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return drop


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def enqueue(env: dict, func: str, seconds: float, count: int) -> None:
    """Empty the queue, then enqueue ``count`` tasks ``func(seconds)`` through django-q2."""
    manage(
        env,
        "shell",
        "-c",
        "from django_q.brokers import get_broker\n"
        "from django_q.tasks import async_task\n"
        "get_broker().purge_queue()\n"
        f"for _ in range({count}): async_task({func!r}, {seconds})\n",
    )


def queue_state(env: dict) -> dict:
    """How many tasks wait in the broker, and how many of them can be taken at once."""
    out = manage(
        env,
        "shell",
        "-c",
        "import json\n"
        "from django.utils import timezone\n"
        "from django_q.models import OrmQ\n"
        "rows = list(OrmQ.objects.all())\n"
        "print(json.dumps({'waiting': len(rows),"
        " 'free': sum(r.lock <= timezone.now() for r in rows)}))\n",
    )
    return json.loads(out.strip().splitlines()[-1])


def group_pids(pgid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "-g", str(pgid)], capture_output=True, text=True)
    return [int(pid) for pid in out.stdout.split()]


class Cluster:
    """``manage.py qcluster`` in its own session; its log is a file."""

    def __init__(self, env: dict, log: Path):
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def text(self) -> str:
        return self.log.read_text()

    def wait_for(self, predicate, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self.text()):
            assert self.proc.poll() is None, self.text()
            assert time.monotonic() < deadline, self.text()
            time.sleep(0.1)

    def signal(self, signum: int, *, group: bool) -> float:
        """Send ``signum`` to the cluster process (or its whole group); return the time."""
        if group:
            os.killpg(self.proc.pid, signum)
        else:
            self.proc.send_signal(signum)
        return time.monotonic()

    def seconds_until_gone(self, limit: float) -> float:
        """Seconds until no process of the group is left (the main one reaped); fails at limit."""
        sent = time.monotonic()
        while time.monotonic() - sent < limit:
            self.proc.poll()
            if not group_pids(self.proc.pid):
                return time.monotonic() - sent
            time.sleep(0.1)
        return float("inf")

    def kill(self) -> None:
        if group_pids(self.proc.pid):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


@pytest.fixture
def start_cluster(cluster_env, tmp_path):
    started = []

    def start(**extra) -> Cluster:
        cluster = Cluster({**cluster_env, **extra}, tmp_path / f"qcluster-{len(started)}.log")
        started.append(cluster)
        cluster.wait_for(lambda log: "running." in log)
        return cluster

    yield start
    for cluster in started:
        cluster.kill()


def processing(count: int):
    return lambda log: log.count(" processing ") >= count


def test_sigterm_finishes_running_tasks_and_hands_the_queued_ones_back(cluster_env, start_cluster):
    enqueue(cluster_env, "time.sleep", 4, 6)
    cluster = start_cluster()
    cluster.wait_for(processing(2))
    cluster.signal(signal.SIGTERM, group=False)  # what `kill`, docker and run-demo send
    took = cluster.seconds_until_gone(Q_TIMEOUT + MARGIN)
    log = cluster.text()
    assert took <= Q_TIMEOUT + MARGIN, log
    assert cluster.proc.returncode == 0, log
    assert log.count("Processed 'time.sleep'") == 2, log  # the running two finished
    assert "queued task(s) back to the broker" in log
    # The four that never started wait in the broker, free for the next cluster at once.
    assert queue_state(cluster_env) == {"waiting": 4, "free": 4}


def test_ctrl_c_stops_the_group_even_when_a_task_ignores_its_timeout(cluster_env, start_cluster):
    enqueue(cluster_env, "tests.test_worker_shutdown.stubborn_task", 120, 2)
    cluster = start_cluster()
    cluster.wait_for(processing(2))
    cluster.signal(signal.SIGINT, group=True)  # a terminal's Ctrl-C reaches the whole group
    took = cluster.seconds_until_gone(Q_TIMEOUT + MARGIN)
    log = cluster.text()
    assert took <= Q_TIMEOUT + MARGIN, log
    assert "outlived the stop deadline: terminating it" in log


def test_sigterm_to_the_whole_group_stops_at_once(cluster_env, start_cluster):
    enqueue(cluster_env, "time.sleep", 60, 2)
    cluster = start_cluster()
    cluster.wait_for(processing(2))
    cluster.signal(signal.SIGTERM, group=True)  # systemd's default KillMode=control-group
    # django-q2 alone hung here for ever (stop_event.set() waiting for the killed sentinel);
    # the main process must not wait for its deadline either once the sentinel is dead.
    assert cluster.seconds_until_gone(Q_TIMEOUT + MARGIN) <= 3, cluster.text()


def test_qcluster_is_the_bounded_command():
    from django.core.management import get_commands

    assert get_commands()["qcluster"] == "connectors"


def test_redis_broker_gets_the_queued_tasks_back(cluster_env, start_cluster):
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    extra = {
        "Q_BROKER_REDIS_URL": "redis://127.0.0.1:6379/15",
        "Q_CLUSTER_NAME": f"shutdown-{uuid.uuid4().hex[:8]}",
    }
    key = f"django_q:{extra['Q_CLUSTER_NAME']}:q"  # django-q2's list key
    enqueue({**cluster_env, **extra}, "time.sleep", 3, 6)
    try:
        cluster = start_cluster(**extra)
        cluster.wait_for(processing(2))
        cluster.signal(signal.SIGTERM, group=False)
        assert cluster.seconds_until_gone(Q_TIMEOUT + MARGIN) <= Q_TIMEOUT + MARGIN
        assert client.llen(key) == 4, cluster.text()
    finally:
        client.delete(key)
