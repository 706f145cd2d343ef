"""``manage.py runsandbox``: serve the vendor sandbox (Syncro, Synchroteam, FieldCamp) on loopback.

State lives in ``settings.SANDBOX_DB_PATH`` (SQLite) and survives restarts; ``--reset``
regenerates it. Listens on ``settings.SANDBOX_URL``'s host and port unless told otherwise, and
prints one line per vendor with its base URL and the demo credentials it accepts.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.sandbox import accounts
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.core import Sandbox, vendor_base_url
from connectors.sandbox.datagen import scale_count
from connectors.sandbox.faults import FaultRule
from connectors.sandbox.server import make_server


class Command(BaseCommand):
    help = "Serve the vendor sandbox (Syncro, Synchroteam, FieldCamp emulators) on loopback."

    def add_arguments(self, parser: CommandParser) -> None:
        url = urlsplit(settings.SANDBOX_URL)
        parser.add_argument("--host", default=url.hostname or "127.0.0.1")
        parser.add_argument("--port", type=int, default=url.port or 8765)
        parser.add_argument("--seed", type=int, default=1, help="data seed (default 1)")
        parser.add_argument(
            "--scale",
            default="small",
            help="small (300), medium (5 000), large (100 000) or a number of tickets/jobs",
        )
        parser.add_argument("--reset", action="store_true", help="wipe and regenerate the data")
        parser.add_argument(
            "--db",
            default=None,
            help="SQLite file (default settings.SANDBOX_DB_PATH); ':memory:' for none",
        )
        parser.add_argument(
            "--churn",
            type=int,
            default=0,
            metavar="N",
            help="every --churn-interval seconds, change/create/delete about N records per vendor",
        )
        parser.add_argument("--churn-interval", type=float, default=60.0, metavar="SECONDS")
        parser.add_argument(
            "--fault",
            action="append",
            default=[],
            metavar="RULE",
            help='fault rule, e.g. "syncro POST /tickets/*/comment timeout_after_commit every=3" (repeatable)',
        )
        parser.add_argument(
            "--faults",
            default=None,
            metavar="FILE.json",
            help="JSON list of fault rules (objects or strings)",
        )
        parser.add_argument(
            "--config",
            default=None,
            metavar="JSON",
            help="SandboxConfig overrides, e.g. '{\"syncro_retry_after\": true}'",
        )
        parser.add_argument(
            "--no-limits", action="store_true", help="disable every rate limit and quota"
        )
        parser.add_argument("--verbose-http", action="store_true", help="log every request")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            scale_count(opts["scale"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        config = SandboxConfig.unlimited() if opts["no_limits"] else SandboxConfig()
        if opts["config"]:
            try:
                config = config.replace(**json.loads(opts["config"]))
            except (ValueError, TypeError) as exc:
                raise CommandError(f"--config: {exc}") from exc
        db = opts["db"] or settings.SANDBOX_DB_PATH
        path = None if str(db) == ":memory:" else Path(db)
        existed = path is not None and path.exists()
        self.stdout.write(
            f"Sandbox data: {path or 'in memory'}"
            + (" (regenerating…)" if opts["reset"] or not existed else "")
        )
        sandbox = Sandbox.create(
            path, seed=opts["seed"], scale=opts["scale"], config=config, reset=opts["reset"]
        )
        if existed and not opts["reset"]:
            self.stdout.write(
                f"  kept existing data (seed {sandbox.store.meta_get('seed')}, scale {sandbox.store.meta_get('scale')}); --reset regenerates"
            )
        try:
            for rule in self._fault_rules(opts):
                sandbox.faults.add(rule)
        except (ValueError, TypeError, OSError) as exc:
            raise CommandError(f"fault rule: {exc}") from exc
        try:
            server = make_server(
                sandbox.app, opts["host"], opts["port"], quiet=not opts["verbose_http"]
            )
        except OSError as exc:
            raise CommandError(f"cannot listen on {opts['host']}:{opts['port']}: {exc}") from exc
        self._announce(server.base_url, sandbox)
        stop = threading.Event()
        if opts["churn"] > 0:
            threading.Thread(
                target=self._churn_loop,
                args=(sandbox, opts["churn"], opts["churn_interval"], stop),
                daemon=True,
            ).start()
            self.stdout.write(
                f"Churn: about {opts['churn']} records per vendor every {opts['churn_interval']:g} s"
            )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("\nStopping the sandbox.")
        finally:
            stop.set()
            server.server_close()
            sandbox.save_clock()
            sandbox.close()

    def _fault_rules(self, opts: dict[str, Any]) -> list[Any]:
        rules: list[Any] = [FaultRule.parse(text) for text in opts["fault"]]
        if opts["faults"]:
            data = json.loads(Path(opts["faults"]).read_text())
            rules.extend(data if isinstance(data, list) else data.get("rules", []))
        return rules

    def _announce(self, root: str, sandbox: Sandbox) -> None:
        tokens = ", ".join(
            f"{u.token} (user {u.user_id} {u.full_name})" for u in accounts.SYNCRO_USERS
        )
        lines = [
            f"Syncro       {vendor_base_url('syncro', root)}  Bearer or ?api_key=: {tokens}",
            f"Synchroteam  {vendor_base_url('synchroteam', root)}  Basic {accounts.SYNCHROTEAM_DOMAIN}:{accounts.SYNCHROTEAM_API_KEY}",
            f"FieldCamp    {vendor_base_url('fieldcamp', root)}  Bearer {accounts.FIELDCAMP_API_KEY}",
            f"Control      {root}/_sandbox/  (faults, ledger, clock, churn, reset, config)",
        ]
        for line in lines:
            self.stdout.write(line)
        counts = sandbox.store.counts_by_kind()
        self.stdout.write(
            "Data: {} Syncro tickets, {} Synchroteam jobs, {} FieldCamp visits; clock {}".format(
                counts.get("syncro.ticket", 0),
                counts.get("synchroteam.job", 0),
                counts.get("fieldcamp.visit", 0),
                sandbox.clock.to_dict()["now"],
            )
        )
        for rule in sandbox.faults.rules():
            self.stdout.write(
                f"Fault #{rule.id}: {rule.vendor} {rule.method} {rule.path} {rule.action}"
            )

    def _churn_loop(
        self, sandbox: Sandbox, count: int, interval: float, stop: threading.Event
    ) -> None:
        while not stop.wait(interval):
            summary = sandbox.churn(count)
            changed = sum(len(v) for vendor in summary.values() for v in vendor.values())
            self.stdout.write(
                f"churn: {changed} records changed at {sandbox.clock.to_dict()['now']}"
            )
