"""Operate the outbox: run due writes, list the ones waiting for a person, resolve them."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from connectors.outbox import executor
from connectors.outbox.models import VendorWrite
from connectors.outbox.services import ResolveError, resolve_write


class Command(BaseCommand):
    help = (
        "Vendor writes (the outbox). Without options: process every due write once and print the "
        "counts. --loop N: keep doing so every N seconds (a worker without django-q2). --waiting: list "
        "the writes that wait for a person. --resolve UUID --action mark_done|send_again|cancel: settle one."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop", type=float, metavar="SECONDS", help="run forever, sweeping every SECONDS"
        )
        parser.add_argument(
            "--waiting", action="store_true", help="list writes waiting for a person"
        )
        parser.add_argument("--resolve", metavar="UUID", help="the write to resolve")
        parser.add_argument("--action", choices=["mark_done", "send_again", "cancel"])
        parser.add_argument(
            "--remote-id", default=None, help="with mark_done: the vendor's id of the record"
        )
        parser.add_argument("--note", default="", help="why (kept in the audit trail)")
        parser.add_argument(
            "--as", dest="as_email", default=None, help="e-mail of the person resolving"
        )

    def handle(self, *args, **opts):
        if opts["waiting"]:
            return self._waiting()
        if opts["resolve"]:
            return self._resolve(opts)
        if opts["loop"]:
            self.stdout.write(f"Sweeping the outbox every {opts['loop']} s (Ctrl-C to stop).")
            while True:
                self._sweep_once()
                time.sleep(opts["loop"])
        self._sweep_once()

    def _sweep_once(self) -> None:
        steps = executor.run_until_settled()
        counts = {
            s: VendorWrite.objects.filter(state=s).count() for s, _ in VendorWrite.State.choices
        }
        summary = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        self.stdout.write(f"{steps} step(s) done; writes: {summary or 'none'}")

    def _waiting(self) -> None:
        rows = (
            VendorWrite.objects.waiting_for_person().select_related("tenant").order_by("created_at")
        )
        if not rows:
            self.stdout.write("No write is waiting for a person.")
        for w in rows:
            self.stdout.write(
                f"{w.uuid}  {w.tenant.name}  {w.operation} {w.target}  {w.get_state_display()}  "
                f"sends={w.send_count}  {w.vendor_message or w.last_error[:120]}"
            )

    def _resolve(self, opts) -> None:
        from accounts.models import User

        if not opts["action"]:
            raise CommandError("--resolve needs --action mark_done|send_again|cancel.")
        write = VendorWrite.objects.filter(uuid=opts["resolve"]).first()
        if write is None:
            raise CommandError(f"No write {opts['resolve']}.")
        by = (
            User.objects.filter(email__iexact=opts["as_email"]).first()
            if opts["as_email"]
            else None
        )
        try:
            resolve_write(
                write=write,
                by=by,
                action=opts["action"],
                remote_id=opts["remote_id"],
                note=opts["note"],
            )
        except ResolveError as exc:
            raise CommandError(str(exc)) from exc
        write.refresh_from_db()
        self.stdout.write(self.style.SUCCESS(f"{write.uuid}: {write.get_state_display()}"))
