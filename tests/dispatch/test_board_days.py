"""The technician board puts each job in the column of its local day
(`dispatch.selectors.technician_board`): by the local midnights, in the viewer's time zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from accounts.models import Vendor
from connectors.models import Connection
from connectors.synchroteam.models import SynchroteamJob, SynchroteamUser
from dispatch.selectors import technician_board


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata", "UTC"])
def test_each_job_is_in_the_column_of_its_local_day(world, zone):
    conn = Connection.objects.create(tenant=world.tenant, vendor=Vendor.SYNCHROTEAM, account="a")
    SynchroteamUser.objects.create(
        tenant=world.tenant, connection=conn, vendor_id=7, name="Ana", profile="technician"
    )
    tz = zoneinfo.ZoneInfo(zone)
    monday = dt.date(2026, 11, 30)
    local = {  # job number: local start
        "1": dt.datetime(2026, 11, 30, 0, 0, tzinfo=tz),  # Monday's first minute
        "2": dt.datetime(2026, 11, 30, 23, 59, tzinfo=tz),  # Monday's last
        "3": dt.datetime(2026, 12, 1, 0, 1, tzinfo=tz),  # Tuesday
        "4": dt.datetime(2026, 12, 4, 12, 0, tzinfo=tz),  # Friday
        "5": dt.datetime(2026, 12, 6, 23, 30, tzinfo=tz),  # Sunday, the week's last day
        "6": dt.datetime(2026, 12, 7, 0, 30, tzinfo=tz),  # next Monday: not on this week
        "7": dt.datetime(2026, 11, 29, 23, 30, tzinfo=tz),  # the Sunday before: not either
    }
    for i, (num, at) in enumerate(local.items()):
        SynchroteamJob.objects.create(
            tenant=world.tenant,
            connection=conn,
            vendor_id=100 + i,
            num=num,
            status="scheduled",
            technician_vendor_id=7,
            technician_name="Ana",
            scheduled_start=at.astimezone(dt.UTC),
        )
    with timezone.override(zone):
        (row,) = technician_board(tenant=world.tenant, start=monday, days=7)
    assert [[job.num for job in day] for day in row.days] == [
        ["1", "2"],
        ["3"],
        [],
        [],
        ["4"],
        [],
        ["5"],
    ]
