"""Progress and forecast of one sync run, for the Integrations page and ``manage.py sync``.

`run_progress(run)` reads what the engine recorded on the run (`SyncRun.progress_done` /
``progress_total`` / ``progress_unit``, requests, seconds waited for budget, heartbeat), the
request usage of this minute (`RequestUsage`) and the vendor's shared limit state
(`LimitState`: 429 pause, quota headers), asks the vendor's `LimitPolicy` for the stream's
read budget and daily quota, and hands those numbers to the pure `connectors.forecast.forecast`.

The engine's side is here too: `record_sweep_start` (where a run starts in its sweep, and the
ticket count of a per-ticket stream) and `pages_total_of` (the vendor's page count of a page).

Everything is measured as of the run's last committed page (its heartbeat), so the figure stays
the same between two pages whoever looks, and the command's bar shows what the page shows.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Sum
from django.utils import timezone

from connectors.forecast import DailyQuota, Forecast, forecast
from connectors.models import RequestUsage, SyncRun, SyncStream

if TYPE_CHECKING:
    from connectors.http import Page
    from connectors.mapping import StreamSpec


@dataclass(frozen=True)
class Progress:
    """What a progress bar shows for one run.

    Attributes:
        run: the `SyncRun`.
        unit: what `done` and `total` count ("page", or "ticket" for per-ticket streams).
        done: units of the sweep done, earlier runs of the same sweep included.
        total: the vendor's total of units (None = not known yet, or the vendor gives none).
        percent: 0..100, None when `total` is unknown (no made-up percentage).
        per_minute: requests per minute this stream may use (its tightest read budget).
        minute_left: requests of that budget still free in the current 60 s window.
        quota: the daily quota as this sync may still use it (None = the vendor has none).
        forecast: the `connectors.forecast.Forecast` (``eta`` None with a reason when unknown).
        as_of: aware datetime the figures describe (the run's last heartbeat).
    """

    run: SyncRun
    unit: str
    done: int
    total: int | None
    percent: int | None
    per_minute: int
    minute_left: int
    quota: DailyQuota | None
    forecast: Forecast
    as_of: dt.datetime

    @property
    def units(self) -> str:
        """The unit in the plural ("pages", "tickets")."""
        return f"{self.unit}s"

    @property
    def overdue(self) -> bool:
        """True when the forecast end has passed and the run is still going."""
        eta = self.forecast.eta
        return bool(eta and self.run.is_active and eta < timezone.now())

    def bar_text(self) -> str:
        """One line for a terminal progress bar: "tickets 12/60 pages · 10/min · done by 09:14
        UTC" (or the reason there is no figure)."""
        total = self.total if self.total is not None else "?"
        text = (
            f"{self.run.stream.resource} {self.done}/{total} {self.units} · {self.per_minute}/min"
        )
        if self.quota is not None:
            text += f" · {self.quota.left} of today's quota"
        if self.forecast.eta:
            eta = self.forecast.eta.astimezone(dt.UTC)
            day = "" if eta.date() == self.as_of.astimezone(dt.UTC).date() else f"{eta:%b %d} "
            text += f" · done by {day}{eta:%H:%M} UTC"
        else:
            text += f" · {self.forecast.reason}"
        return text


def window_usage(rows, at: dt.datetime) -> int:
    """Requests in the 60 s before `at` from per-minute `RequestUsage` rows: this minute's count
    plus the previous minute's weighted by the part of it still inside the window."""
    minute = at.replace(second=0, microsecond=0)
    counts = {
        row["minute"]: row["n"]
        for row in rows.filter(minute__in=[minute, minute - dt.timedelta(minutes=1)])
        .values("minute")
        .annotate(n=Sum("requests"))
    }
    inside = 1 - (at - minute).total_seconds() / 60
    previous = counts.get(minute - dt.timedelta(minutes=1), 0)
    return counts.get(minute, 0) + math.ceil(previous * inside)


def _requests_left(run: SyncRun) -> int | None:
    """Units left times the requests one unit took in this run (1 until measured: retries and
    tickets with several pages of comments raise it)."""
    if run.progress_total is None:
        return None
    units_left = max(0, run.progress_total - run.progress_done)
    units_here = run.progress_done - run.progress_start
    per_unit = max(1.0, run.requests / units_here) if units_here > 0 and run.requests else 1.0
    return math.ceil(units_left * per_unit)


def _request_seconds(run: SyncRun, as_of: dt.datetime) -> float | None:
    """Seconds per request while not waiting for budget, measured on this run."""
    if not run.requests or run.started_at is None:
        return None
    busy = (as_of - run.started_at).total_seconds() - run.wait_seconds
    return max(0.0, busy) / run.requests


def run_progress(run: SyncRun, *, now: dt.datetime | None = None) -> Progress:
    """The progress bar and forecast of `run` (running, queued or paused).

    Args:
        run: a `SyncRun` with its ``connection`` and ``stream``.
        now: aware datetime; default ``timezone.now()``. The figures are taken as of the run's
            last heartbeat when it has one (a paused run: as of its pause).
    Returns:
        A `Progress`. Reads the database (usage rows, limit state); never calls a vendor.
    """
    now = now or timezone.now()
    connection = run.connection
    descriptor = connection.vendor_descriptor
    limits = descriptor.limits
    as_of = min(now, run.heartbeat_at or run.started_at or now)
    per_minute = limits.read_budget_per_minute(connection)
    used = window_usage(RequestUsage.objects.filter(connection=connection), as_of)
    shared = window_usage(descriptor.summary.usage_rows(connection), as_of)
    minute_left = max(0, min(per_minute - used, limits.per_minute_budget() - shared))
    state = descriptor.summary.limit_state(connection)
    quota = limits.read_quota(connection, state, now=as_of)
    pauses = [state.blocked_until if state else None]
    if run.status == SyncRun.Status.PAUSED:
        pauses.append(run.resume_at)
    blocked = max((p for p in pauses if p), default=None)
    result = forecast(
        now=as_of,
        requests_left=_requests_left(run),
        per_minute=per_minute,
        minute_left=minute_left,
        request_seconds=_request_seconds(run, as_of),
        quota=quota,
        blocked_until=blocked,
    )
    return Progress(
        run=run,
        unit=run.progress_unit or "page",
        done=run.progress_done,
        total=run.progress_total,
        percent=run.progress_percent if run.progress_total is not None else None,
        per_minute=per_minute,
        minute_left=minute_left,
        quota=quota,
        forecast=result,
        as_of=as_of,
    )


# --- what the engine records (connectors.sync) ----------------------------------------------


def pages_total_of(spec: StreamSpec, page: Page) -> int | None:
    """The engine, after each page: the sweep's page count as the vendor tells it: Syncro ``meta.total_pages``, else
    ``recordsTotal`` / ``meta.total`` over the stream's fixed page size; None when unknown."""
    if page.total_pages is not None:
        return page.total_pages
    if page.total_records is not None and spec.page_size:
        return math.ceil(page.total_records / spec.page_size)
    return None


def record_sweep_start(run: SyncRun, stream: SyncStream, spec: StreamSpec, cp: dict) -> None:
    """The engine, as a run starts: record where it starts in its sweep: units done so far (``cp["done"]``), the
    total (known page count, or the number of parents of a per-ticket stream) and the unit."""
    updates: dict[str, Any] = {
        "progress_start": cp.get("done", 0),
        "progress_done": cp.get("done", 0),
        "progress_unit": spec.parent_noun if spec.parents is not None else "page",
    }
    if spec.parents is not None:
        since = cp.get("since") or cp.get("parents_since")
        since = dt.datetime.fromisoformat(since) if since else None
        updates["progress_total"] = spec.parents(stream.connection, since).count()
    elif cp.get("total") is not None:
        updates["progress_total"] = cp["total"]
    SyncRun.objects.filter(pk=run.pk).update(**updates)


__all__ = ["Progress", "pages_total_of", "record_sweep_start", "run_progress", "window_usage"]
