"""Chaos run: `kill -9` workers at random moments during a sync and during vendor writes.

Runs the vendor sandbox over loopback (`manage.py runsandbox`), a scratch database, and worker
processes that are killed with SIGKILL many times at random instants:

* **sync**: `manage.py sync --vendor syncro --full` is killed K times mid-sweep and restarted;
  then run once to the end. The mirror must then equal the sandbox (ids and `updated_at` of every
  Syncro ticket, customer and invoice).
* **writes**: N billing approvals (comment → line item → invoice → status) are enqueued; two
  workers (`manage.py outbox --loop`) run at once, one of them killed K times and restarted (and
  the other killed at the end), with sandbox faults that commit and then time out or reset. Afterwards every write must be confirmed (or waiting for a person), with exactly
  one vendor record per write and no write lost.

Usage:  python scripts/chaos.py [--kills 20] [--drafts 40] [--seed 7]
Prints a table and exits non-zero when a duplicate, a lost write or a mirror difference is found.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chaos_env(scratch: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "true",
            "FIELDLINE_VAR_DIR": str(scratch),
            "DATABASE_URL": os.environ.get("CHAOS_DATABASE_URL", f"sqlite:///{scratch}/db.sqlite3"),
            "SANDBOX_DB_PATH": str(scratch / "sandbox.sqlite3"),
            "SANDBOX_URL": f"http://127.0.0.1:{port}",
            "RATE_LIMIT_SQLITE_PATH": str(scratch / "ratelimit.sqlite"),
            "LOG_LEVEL": "ERROR",
            "OUTBOX_ENQUEUE": "false",
            "OUTBOX_LEASE_SECONDS": "3",
            "OUTBOX_VERIFY_DELAY_SECONDS": "0",
            "OUTBOX_RETRY_DELAY_SECONDS": "0",
            "SYNC_HEARTBEAT_STALE_SECONDS": "2",
            "CONNECTORS_HTTP_READ_TIMEOUT": "1.5",
            "CONNECTORS_GET_RETRY_WAIT_INITIAL": "0.05",
            "CONNECTORS_GET_RETRY_WAIT_MAX": "0.2",
            "SYNCRO_RATE_BUDGET_PER_MINUTE": "100000",
            "SYNCRO_RATE_LIMIT_PER_MINUTE": "100000",
            "SYNCRO_WRITE_RESERVE_PER_MINUTE": "50000",
            "SYNCRO_TENANT_READ_SHARE_PER_MINUTE": "100000",
        }
    )
    return env


def manage(env: dict[str, str], *args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603  (our own manage.py)
        [PY, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **kwargs,
    )


def wait_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"sandbox did not listen on {port}")


def kill_at_random(
    env,
    args: list[str],
    kills: int,
    rng: random.Random,
    low: float,
    high: float,
    pause: float = 0.0,
) -> int:
    """Start `manage.py args`, SIGKILL it after a random delay, `kills` times. Returns kills done."""
    done = 0
    for _ in range(kills):
        proc = manage(env, *args)
        time.sleep(rng.uniform(low, high))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            done += 1
        proc.wait()
        if pause:
            time.sleep(pause)
    return done


def sandbox_listing(port: int, token: str, resource: str) -> dict[int, str]:
    import httpx

    out: dict[int, str] = {}
    page = 1
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}/syncro/demo/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ) as client:
        while True:
            body = client.get(f"/{resource}", params={"page": page}).json()
            items = body.get(resource) or []
            for item in items:
                out[int(item["id"])] = item.get("updated_at") or ""
            total = (body.get("meta") or {}).get("total_pages")
            if not items or (total is not None and page >= int(total)):
                return out
            page += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--drafts", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", default="2000")
    opts = parser.parse_args()
    rng = random.Random(opts.seed)
    scratch = Path(tempfile.mkdtemp(prefix="fieldline-chaos-"))
    port = free_port()
    env = chaos_env(scratch, port)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))

    faults = json.dumps(
        [
            "syncro POST * timeout_after_commit probability=0.2",
            "syncro POST * reset_after_commit probability=0.1",
        ]
    )
    (scratch / "faults.json").write_text(faults)
    sandbox = subprocess.Popen(  # noqa: S603  (our own manage.py)
        [
            PY,
            "manage.py",
            "runsandbox",
            "--port",
            str(port),
            "--scale",
            opts.scale,
            "--seed",
            str(opts.seed),
            "--reset",
            "--no-limits",
            "--faults",
            str(scratch / "faults.json"),
            "--config",
            json.dumps({"timeout_delay_seconds": 2.5}),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, timeout=300)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
        results = {
            "sync": run_sync_chaos(env, port, opts, rng),
            "writes": run_write_chaos(env, port, opts, rng),
        }
    finally:
        sandbox.send_signal(signal.SIGTERM)
        try:
            sandbox.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sandbox.kill()

    sync, writes = results["sync"], results["writes"]
    print("\nChaos run (SIGKILL at random instants)")
    print("| phase | kills | checked | duplicates | lost | mirror differences |")
    print("|---|---|---|---|---|---|")
    print(
        f"| sync (full sweep of Syncro) | {sync['kills']} | {sync['records']} records | — | — | {sync['diff']} |"
    )
    print(
        f"| vendor writes ({opts.drafts} approvals) | {writes['kills']} | {writes['writes']} writes "
        f"({writes['posts']} POSTs) | {writes['duplicates']} | {writes['lost']} | — |"
    )
    print(f"(writes waiting for a person: {writes['needs_person']}; scratch: {scratch})")
    bad = sync["diff"] or writes["duplicates"] or writes["lost"]
    print("RESULT:", "FAIL" if bad else "OK")
    return 1 if bad else 0


def run_sync_chaos(env, port, opts, rng) -> dict:
    from connectors.models import Connection
    from connectors.sandbox import accounts as demo
    from connectors.syncro.models import SyncroCustomer, SyncroInvoice, SyncroTicket

    kills = kill_at_random(
        env, ["sync", "--vendor", "syncro", "--full"], opts.kills, rng, 0.5, 3.0, pause=2.2
    )
    final = manage(env, "sync", "--vendor", "syncro", "--full")
    final.wait(timeout=900)
    token = next(
        u.token for u in demo.SYNCRO_USERS if u.user_id == demo.SYNCRO_SHARED_TOKEN_USER_ID
    )
    connection = Connection.objects.get(vendor="syncro", tenant__slug="demo")
    diff = 0
    records = 0
    for resource, model in (
        ("tickets", SyncroTicket),
        ("customers", SyncroCustomer),
        ("invoices", SyncroInvoice),
    ):
        vendor = sandbox_listing(port, token, resource)
        mirror = {
            row.vendor_id: row.raw.get("updated_at") or ""
            for row in model.objects.filter(connection=connection, is_deleted=False).only(
                "vendor_id", "raw"
            )
        }
        records += len(vendor)
        diff += len(set(vendor.items()) ^ set(mirror.items()))
    return {"kills": kills, "records": records, "diff": diff}


def run_write_chaos(env, port, opts, rng) -> dict:
    import httpx
    from django.db import transaction

    from accounts.models import Tenant, User
    from connectors.models import Connection
    from connectors.outbox.models import VendorWrite
    from connectors.outbox.scenarios import billing_chain, plan_of
    from connectors.outbox.services import plan_enqueue
    from connectors.sandbox import accounts as demo

    tenant = Tenant.objects.get(slug="demo")
    connection = Connection.objects.get(vendor="syncro", tenant=tenant)
    billing = User.objects.get(email="billing@demo.test")
    token = next(
        u.token for u in demo.SYNCRO_USERS if u.user_id == demo.SYNCRO_SHARED_TOKEN_USER_ID
    )
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}/syncro/demo/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ) as client:
        tickets = client.get("/tickets", params={"page": 1}).json()["tickets"]
        tickets += client.get("/tickets", params={"page": 2}).json()["tickets"]
        product = next(
            p
            for p in client.get("/products", params={"query": "Onsite"}).json()["products"]
            if "Onsite" in p["name"]
        )
    with transaction.atomic():
        for i in range(opts.drafts):
            t = tickets[i % len(tickets)]
            key = f"chaos:{i}"
            chain = billing_chain(
                t,
                key=key,
                product_id=product["id"],
                product_name=product["name"],
                body=f"Chaos {i}",
                description=f"Chaos {i}",
            )
            plan_enqueue(plan_of(connection, chain, user=billing, kind="chaos"), by=billing)
    # Two worker processes at once: a steady one, and one that is SIGKILLed and restarted.
    steady = manage(env, "outbox", "--loop", "0.05")
    kills = kill_at_random(env, ["outbox", "--loop", "0.05"], opts.kills, rng, 0.3, 2.0)
    steady.send_signal(signal.SIGKILL)
    steady.wait()
    kills += 1
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        manage(env, "outbox").wait()
        open_ = VendorWrite.objects.exclude(
            state__in=[*VendorWrite.TERMINAL_STATES, *VendorWrite.PERSON_STATES]
        ).exclude(depends_on__state__in=VendorWrite.PERSON_STATES)
        if not open_.exists():
            break
        time.sleep(1.0)

    from connectors.sandbox.checks import vendor_copies
    from connectors.sandbox.core import Sandbox

    sandbox = Sandbox.create(os.environ["SANDBOX_DB_PATH"], generate=False)
    writes = list(VendorWrite.objects.filter(batch__kind="chaos"))
    duplicates = lost = 0
    cache: dict[int, dict] = {}
    for w in writes:
        tid = int(w.target["ticket_id"])
        rec = cache.setdefault(tid, sandbox.syncro.ticket_records(tid))
        n = vendor_copies(w, rec)
        duplicates += max(0, n - 1)
        if w.state == "confirmed" and n == 0:
            lost += 1
        if w.state not in ("confirmed", "needs_review", "rejected") and not (
            w.depends_on and w.depends_on.state in VendorWrite.PERSON_STATES
        ):
            lost += 1
    posts = len(sandbox.ledger.writes(vendor="syncro", method="POST"))
    sandbox.close()
    return {
        "kills": kills,
        "writes": len(writes),
        "posts": posts,
        "duplicates": duplicates,
        "lost": lost,
        "needs_person": sum(1 for w in writes if w.state in VendorWrite.PERSON_STATES),
    }


if __name__ == "__main__":
    sys.exit(main())
