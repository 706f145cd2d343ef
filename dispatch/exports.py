"""CSV exports for BI: a registry of exports, each streamed row by row.

An `Export` names its columns and a ``rows(tenant, start, end)`` generator over the tenant's
mirror (``start`` / ``end``: inclusive dates or None, on the export's `date_column`). Other
modules add theirs with `register` (the inventory's stock export does); the exports page lists
every registered export and ``/exports/<name>.csv`` streams it (`stream_csv`: Django's
``StreamingHttpResponse`` over a generator, so a 100 000-row table never sits in memory).
Every cell goes through `accounts.downloads.csv_writer` (formula neutralising, OWASP "CSV
Injection"); datetimes are ISO 8601 in UTC; hours are decimals with two places.

Built in: ``jobs`` (Synchroteam jobs, vendor-apis.md §2.7 fields) and ``time`` (Synchroteam
activities with a start and an end: the worked-time rows the timesheet counts, clock in/out
excluded as instants, unavailability kept with its type so BI can tell them apart).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F

from accounts.downloads import csv_writer
from accounts.localtime import local_day_bounds
from accounts.models import Tenant
from connectors.synchroteam.models import SynchroteamActivity, SynchroteamJob, SynchroteamUser

Rows = Callable[[Tenant, dt.date | None, dt.date | None], Iterable[Sequence]]
CHUNK = 2000


@dataclass(frozen=True)
class Export:
    """One CSV export: `name` (the URL slug), a `label` and `description` for the page, the
    `columns` (the header row) and the `rows` generator; `date_column` says what the date
    range filters."""

    name: str
    label: str
    description: str
    columns: tuple[str, ...]
    rows: Rows
    date_column: str = ""


EXPORTS: dict[str, Export] = {}


def register(export: Export) -> Export:
    """Add (or replace) `export` under its name."""
    EXPORTS[export.name] = export
    return export


class _Echo:
    """A file-like object whose ``write`` hands back the line (for streaming)."""

    def write(self, value: str) -> str:
        return value


def stream_csv(export: Export, tenant: Tenant, start=None, end=None) -> Iterator[str]:
    """The header, then one CSV line per row of `export` for `tenant` (neutralised cells)."""
    writer = csv_writer(_Echo())
    yield writer.writerow(export.columns)
    for row in export.rows(tenant, start, end):
        yield writer.writerow(row)


def _iso(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else ""


def _day_range(qs, column: str, start, end):
    """Rows whose `column` falls on the local days `start` … `end` (inclusive), by datetime
    bounds (`local_day_bounds`) that the column's index answers."""
    if start:
        qs = qs.filter(**{f"{column}__gte": local_day_bounds(start)[0]})
    if end:
        qs = qs.filter(**{f"{column}__lt": local_day_bounds(end)[1]})
    return qs


JOB_COLUMNS = (
    "job_id",
    "num",
    "my_id",
    "status",
    "type",
    "priority",
    "customer_id",
    "customer",
    "site_id",
    "technician_id",
    "technician",
    "scheduled_start",
    "scheduled_end",
    "actual_start",
    "actual_end",
    "created",
    "modified",
    "description",
)


def job_rows(tenant: Tenant, start=None, end=None) -> Iterator[list]:
    """The tenant's live Synchroteam jobs by id (`JOB_COLUMNS`), filtered on scheduled start."""
    qs = _day_range(
        SynchroteamJob.objects.for_tenant(tenant).alive(), "scheduled_start", start, end
    )
    fields = (
        "vendor_id",
        "num",
        "my_id",
        "status",
        "type_name",
        "priority",
        "customer_vendor_id",
        "customer_name",
        "site_vendor_id",
        "technician_vendor_id",
        "technician_name",
        "scheduled_start",
        "scheduled_end",
        "actual_start",
        "actual_end",
        "vendor_created_at",
        "vendor_updated_at",
        "description",
    )
    for row in qs.order_by("vendor_id").values_list(*fields).iterator(chunk_size=CHUNK):
        yield [_iso(v) if isinstance(v, dt.datetime) else v for v in row]


TIME_COLUMNS = (
    "activity_id",
    "type",
    "technician_id",
    "technician",
    "job_id",
    "job_num",
    "start",
    "end",
    "hours",
)


def time_rows(tenant: Tenant, start=None, end=None) -> Iterator[list]:
    """The tenant's live activities with a start and a later end (`TIME_COLUMNS`), by start."""
    names = dict(SynchroteamUser.objects.for_tenant(tenant).values_list("vendor_id", "name"))
    nums = dict(SynchroteamJob.objects.for_tenant(tenant).values_list("vendor_id", "num"))
    qs = SynchroteamActivity.objects.for_tenant(tenant).alive()
    qs = qs.filter(start__isnull=False, end__isnull=False, end__gt=F("start"))
    qs = _day_range(qs, "start", start, end).order_by("start", "vendor_id")
    fields = ("vendor_id", "type", "user_vendor_id", "job_vendor_id", "start", "end")
    for vid, kind, user, job, a_start, a_end in qs.values_list(*fields).iterator(chunk_size=CHUNK):
        hours = (Decimal((a_end - a_start).total_seconds()) / 3600).quantize(Decimal("0.01"))
        yield [
            vid,
            kind,
            user,
            names.get(user, ""),
            job,
            nums.get(job, "") if job else "",
            _iso(a_start),
            _iso(a_end),
            hours,
        ]


register(
    Export(
        "jobs",
        "Jobs",
        "Every mirrored Synchroteam job: status, customer, site, technician, planned and actual times.",
        JOB_COLUMNS,
        job_rows,
        "scheduled start",
    )
)
register(
    Export(
        "time",
        "Time (activities)",
        "Technicians' activities with a start and an end (work, travel, unavailability), in hours.",
        TIME_COLUMNS,
        time_rows,
        "activity start",
    )
)
