"""``manage.py sync``: run a sync in the foreground, with a progress bar (operators)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.models import Tenant, Vendor
from connectors.models import Connection, SyncRun
from connectors.progress import run_progress
from connectors.services import connection_sync_now


class Command(BaseCommand):
    help = (
        "Sync vendor connections now, in this process. Resumes unfinished sweeps first. "
        "Respects the shared rate limiter, so it can run next to the workers."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="Tenant slug (default: every tenant).")
        parser.add_argument("--vendor", choices=[v.value for v in Vendor], help="Only this vendor.")
        parser.add_argument(
            "--stream", action="append", help="Only this stream (repeatable), e.g. tickets."
        )
        parser.add_argument("--full", action="store_true", help="Full sweep (detects deletions).")

    def handle(self, *args, tenant=None, vendor=None, stream=None, full=False, **options):
        connections = Connection.objects.enabled().select_related("tenant")
        if tenant:
            if not Tenant.objects.filter(slug=tenant).exists():
                raise CommandError(f"No tenant with slug {tenant!r}.")
            connections = connections.filter(tenant__slug=tenant)
        if vendor:
            connections = connections.filter(vendor=vendor)
        if not connections:
            raise CommandError("No enabled connection matches.")
        mode = SyncRun.Mode.FULL if full else SyncRun.Mode.INCREMENTAL
        failed = False
        for connection in connections:
            # tqdm's own "remaining" column is left out: it extrapolates the pages so far and
            # contradicts the forecast, which knows the budget and the quota
            bar = tqdm(
                desc=f"{connection}",
                unit="page",
                file=self.stderr._out,
                leave=True,
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]",
            )
            on_page = self._progress_bar(bar)

            try:
                runs = connection_sync_now(
                    connection,
                    mode=mode,
                    resources=stream,
                    trigger=SyncRun.Trigger.MANUAL,
                    on_page=on_page,
                )
            except KeyError as exc:
                raise CommandError(str(exc)) from exc
            finally:
                bar.close()
            if not runs:
                self.stdout.write(self.style.WARNING(f"{connection}: already running, skipped."))
                continue
            for run in runs:
                line = (
                    f"  {run.stream.resource:<18} {run.status:<9} pages={run.pages} "
                    f"created={run.created} updated={run.updated} deleted={run.deleted} "
                    f"quarantined={run.quarantined} requests={run.requests} 429s={run.throttled}"
                )
                if run.error:
                    line += f"\n    {run.error}"
                ok = run.status == SyncRun.Status.SUCCEEDED
                failed |= run.status in (SyncRun.Status.FAILED, SyncRun.Status.REFUSED)
                self.stdout.write(self.style.SUCCESS(line) if ok else self.style.WARNING(line))
        if failed:
            raise CommandError("Some streams failed; see above.")

    @staticmethod
    def _progress_bar(bar: tqdm):
        """The engine's ``on_page`` callback: the bar counts the running stream's pages (or
        tickets) against the vendor's total and shows the forecast the Integrations page shows
        (`connectors.progress.run_progress`); a new stream restarts the bar."""
        current: dict[str, int | None] = {"run": None}

        def on_page(run: SyncRun) -> None:
            progress = run_progress(run)
            if current["run"] != run.pk:
                current["run"] = run.pk
                bar.reset(total=progress.total)
                bar.unit = progress.unit
            elif progress.total != bar.total:
                bar.total = progress.total
            bar.n = progress.done
            bar.set_postfix_str(progress.bar_text(), refresh=False)
            bar.refresh()

        return on_page
