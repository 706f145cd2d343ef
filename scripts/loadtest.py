"""Load test: 50 staff browsing while a full sync runs, against 100 000 mirrored tickets.

1. the vendor sandbox on loopback at `--scale` tickets (`manage.py runsandbox`, no limits);
2. a scratch database (PostgreSQL database `fieldline_load` on the local server when reachable,
   else SQLite), migrated and seeded, and a first mirror of Syncro customers and tickets;
3. the portal under production settings (DEBUG off) served by gunicorn on loopback;
4. a full Syncro sweep started in the background (`manage.py sync --vendor syncro --full`);
5. locust, headless: `--users` staff reading the ticket list, ticket details and the Integrations
   page, and the same ticket pages in the Django admin as the same-run baseline.

Prints p50/p95/p99 and errors per page.

Usage: python scripts/loadtest.py [--scale 100000] [--users 50] [--seconds 60]
"""

from __future__ import annotations

import argparse
import csv
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise SystemExit(f"nothing listens on {port} after {timeout} s")


def database_url(scratch: Path) -> str:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute("DROP DATABASE IF EXISTS fieldline_load")
            conn.execute("CREATE DATABASE fieldline_load")
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/fieldline_load"
    except Exception as exc:  # no server: SQLite
        print(f"PostgreSQL not reachable ({exc}); using SQLite", flush=True)
        return f"sqlite:///{scratch}/db.sqlite3"


def run(env, *args: str, timeout: float = 3600) -> None:
    subprocess.run(  # noqa: S603  (our own manage.py)
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=timeout
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="100000")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument(
        "--no-sync", action="store_true", help="no sync during the load (for comparison)"
    )
    opts = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="fieldline-load-"))
    sandbox_port, web_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEYS": __import__("cryptography.fernet")
            .fernet.Fernet.generate_key()
            .decode(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "FIELDLINE_VAR_DIR": str(scratch),
            "STATIC_ROOT": str(scratch / "static"),
            "DATABASE_URL": database_url(scratch),
            "SANDBOX_DB_PATH": str(scratch / "sandbox.sqlite3"),
            "SANDBOX_URL": f"http://127.0.0.1:{sandbox_port}",
            "RATE_LIMIT_SQLITE_PATH": str(scratch / "ratelimit.sqlite"),
            "SYNCRO_RATE_BUDGET_PER_MINUTE": "1000000",
            "SYNCRO_RATE_LIMIT_PER_MINUTE": "1000000",
            "SYNCRO_TENANT_READ_SHARE_PER_MINUTE": "1000000",
            "LOG_LEVEL": "WARNING",
        }
    )
    procs: list[subprocess.Popen] = []
    try:
        print(f"[1/5] sandbox: generating {opts.scale} tickets…", flush=True)
        started = time.monotonic()
        procs.append(
            subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    "manage.py",
                    "runsandbox",
                    "--port",
                    str(sandbox_port),
                    "--scale",
                    opts.scale,
                    "--reset",
                    "--no-limits",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_port(sandbox_port, timeout=900)
        print(f"      ready in {time.monotonic() - started:.0f} s", flush=True)

        print(
            "[2/5] portal database: migrate, seed, first mirror of customers and tickets…",
            flush=True,
        )
        started = time.monotonic()
        run(env, "migrate", "--noinput", "-v", "0")
        run(env, "collectstatic", "--noinput", "-v", "0")
        run(env, "seed_demo")
        run(
            env,
            "sync",
            "--vendor",
            "syncro",
            "--stream",
            "customers",
            "--stream",
            "tickets",
            "--full",
        )
        print(f"      mirrored in {time.monotonic() - started:.0f} s", flush=True)
        if env["DATABASE_URL"].startswith("postgres"):
            # What autovacuum does after a bulk load: fresh statistics and visibility map.
            import psycopg

            with psycopg.connect(
                env["DATABASE_URL"].replace("postgres://", "postgresql://"), autocommit=True
            ) as c:
                c.execute("VACUUM ANALYZE")

        sys.path.insert(0, str(ROOT))
        os.environ.update(env)
        import django

        django.setup()
        from accounts.models import User
        from connectors.syncro.models import SyncroTicket

        User.objects.filter(email="owner@demo.test").update(is_staff=True)
        total = SyncroTicket.objects.count()
        sample = list(SyncroTicket.objects.order_by("?").values_list("vendor_id", "pk")[:500])
        env["LOAD_TICKET_IDS"] = ",".join(str(v) for v, _ in sample)
        env["LOAD_TICKET_PKS"] = ",".join(str(p) for _, p in sample)

        print(
            f"[3/5] gunicorn ({opts.workers} workers × 4 threads) on 127.0.0.1:{web_port}",
            flush=True,
        )
        procs.append(
            subprocess.Popen(  # noqa: S603
                [
                    str(BIN / "gunicorn"),
                    "config.wsgi",
                    "--bind",
                    f"127.0.0.1:{web_port}",
                    "--workers",
                    str(opts.workers),
                    "--threads",
                    "4",
                    "--worker-class",
                    "gthread",
                    "--timeout",
                    "120",
                    "--keep-alive",
                    "5",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_port(web_port, timeout=60)

        sync = None
        if not opts.no_sync:
            print("[4/5] a full Syncro sweep in the background", flush=True)
            sync = subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    "manage.py",
                    "sync",
                    "--vendor",
                    "syncro",
                    "--stream",
                    "tickets",
                    "--full",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            procs.append(sync)

        print(f"[5/5] locust: {opts.users} users for {opts.seconds} s", flush=True)
        prefix = scratch / "load"
        subprocess.run(  # noqa: S603
            [
                str(BIN / "locust"),
                "-f",
                str(ROOT / "scripts" / "locustfile.py"),
                "--headless",
                "-u",
                str(opts.users),
                "-r",
                "10",
                "-t",
                f"{opts.seconds}s",
                "--host",
                f"http://127.0.0.1:{web_port}",
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            check=False,
            timeout=opts.seconds + 120,
            stdout=subprocess.DEVNULL,
        )
        if sync is None:
            sync_state = "not run (--no-sync)"
        else:
            sync_state = (
                "still running" if sync.poll() is None else f"finished (exit {sync.returncode})"
            )
        report(prefix, total, opts, sync_state, env["DATABASE_URL"].split(":")[0])
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
    return 0


def report(prefix: Path, total: int, opts, sync_state: str, db: str) -> None:
    rows = list(csv.DictReader(open(f"{prefix}_stats.csv")))  # noqa: SIM115
    order = [
        "portal: ticket list",
        "admin: ticket changelist",
        "portal: ticket detail",
        "admin: ticket change page",
        "portal: integrations",
        "Aggregated",
    ]
    by_name = {r["Name"]: r for r in rows}
    print(
        f"\nLoad test: {opts.users} staff, {opts.seconds} s, {total:,} mirrored tickets, {db}, "
        f"full sync {sync_state} at the end"
    )
    print("| page | requests | errors | p50 ms | p95 ms | p99 ms | req/s |")
    print("|---|---|---|---|---|---|---|")
    for name in order:
        r = by_name.get(name)
        if r:
            print(
                f"| {name} | {r['Request Count']} | {r['Failure Count']} | {r['50%']} | {r['95%']} | {r['99%']} | "
                f"{float(r['Requests/s']):.1f} |"
            )


if __name__ == "__main__":
    sys.exit(main())
