"""CSV exports for BI (issue 16, build item 5): streamed, tenant-scoped, neutralised."""

from __future__ import annotations

import csv
import io

from django.db.models import F
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from accounts.models import Vendor
from connectors.models import Connection
from connectors.synchroteam.models import SynchroteamActivity, SynchroteamJob
from dispatch.exports import EXPORTS, Export, register


def _table(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_the_jobs_export_streams_every_job_of_the_company_only(world, mirrored):
    other = Connection.objects.create(
        tenant=world.other_tenant, vendor=Vendor.SYNCHROTEAM, account="other"
    )
    SynchroteamJob.objects.create(
        tenant=world.other_tenant, connection=other, vendor_id=999_999_001, num="FOREIGN-1"
    )
    evil = '=cmd|"/c calc"!A1'
    job = SynchroteamJob.objects.filter(connection=mirrored.synchroteam).first()
    SynchroteamJob.objects.filter(pk=job.pk).update(description=evil)
    response = world.client_for(world.dispatcher).get(
        reverse("dispatch:export_download", args=["jobs"])
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith("attachment")
    table = _table(response)
    assert tuple(table[0]) == EXPORTS["jobs"].columns
    ids = {int(r[0]) for r in table[1:]}
    mine = set(
        SynchroteamJob.objects.filter(
            connection=mirrored.synchroteam, is_deleted=False
        ).values_list("vendor_id", flat=True)
    )
    assert ids == mine and 999_999_001 not in ids
    row = next(r for r in table[1:] if int(r[0]) == job.vendor_id)
    assert row[-1] == "'" + evil


def test_the_time_export_has_hours_and_the_date_range_filters(world, mirrored):
    acts = (
        SynchroteamActivity.objects.filter(connection=mirrored.synchroteam, end__isnull=False)
        .exclude(start=None)
        .order_by("start")
    )
    day = acts.last().start.date()
    client = world.client_for(world.billing)
    table = _table(
        client.get(reverse("dispatch:export_download", args=["time"]), {"start": day, "end": day})
    )
    assert len(table) > 1
    assert all(r[6].startswith(day.isoformat()) for r in table[1:])
    first = table[1]
    act = SynchroteamActivity.objects.get(connection=mirrored.synchroteam, vendor_id=int(first[0]))
    assert float(first[8]) == round((act.end - act.start).total_seconds() / 3600, 2)


def test_a_registered_export_is_listed_and_downloadable(world, db):
    register(
        Export("demo_extra", "Extra", "Test export.", ("a", "b"), lambda t, s, e: iter([["=1", 2]]))
    )
    try:
        client = world.client_for(world.owner)
        assert "demo_extra.csv" in client.get(reverse("dispatch:exports")).content.decode()
        table = _table(client.get(reverse("dispatch:export_download", args=["demo_extra"])))
        assert table == [["a", "b"], ["'=1", "2"]]
    finally:
        EXPORTS.pop("demo_extra")


def test_odd_input_and_roles(world, db):
    client = world.client_for(world.owner)
    url = reverse("dispatch:export_download", args=["jobs"])
    for params in (
        {"start": "9999-99-99"},
        {"start": "2026-05-01", "end": "2026-01-01"},
        {"end": "\u2603" * 100},
    ):
        response = client.get(url, params)
        assert response.status_code == 400 and "Download" not in response.content.decode()
    assert client.get(reverse("dispatch:export_download", args=["nope"])).status_code == 404
    assert world.client_for(world.tech).get(url).status_code == 403
    assert world.client_for(world.tech).get(reverse("dispatch:exports")).status_code == 403


def test_the_date_range_is_filtered_by_datetime_bounds_not_a_date_cast(world, mirrored):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    day = SynchroteamActivity.objects.filter(
        connection=mirrored.synchroteam, is_deleted=False, end__gt=F("start")
    )
    day = timezone.localdate(day.order_by("start").last().start)
    with CaptureQueriesContext(connection) as queries:
        rows = list(EXPORTS["time"].rows(world.tenant, day, day))
        list(EXPORTS["jobs"].rows(world.tenant, day, day))
    assert rows
    sql = " ".join(q["sql"] for q in queries.captured_queries).lower()
    assert "cast_date" not in sql and "::date" not in sql and "at time zone" not in sql
