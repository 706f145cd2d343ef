"""The Integrations card's request figures (`connectors.summary._usage`): this minute, today,
and the 24 hourly bars, all from one query over the connection's usage rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection as database
from django.test.utils import CaptureQueriesContext

from accounts.models import Vendor
from connectors import summary
from connectors.models import Connection, RequestUsage

NOW = dt.datetime(2026, 12, 6, 15, 20, 30, tzinfo=dt.UTC)


@pytest.fixture
def conn(world):
    return Connection.objects.create(tenant=world.tenant, vendor=Vendor.SYNCRO, account="a")


def _use(conn, at: dt.datetime, n: int, throttled: int = 0, scope: str = "syncro:1") -> None:
    RequestUsage.objects.create(
        connection=conn, scope=scope, minute=at, requests=n, throttled=throttled
    )


def test_the_minute_the_day_and_the_hours_are_summed_in_one_query(conn):
    minute = NOW.replace(second=0)
    _use(conn, minute, 4)
    _use(conn, minute, 1, scope="syncro:other")  # another scope of the same connection
    _use(conn, NOW.replace(hour=14, minute=59, second=0), 3, throttled=1)
    _use(conn, NOW.replace(hour=14, minute=0, second=0), 2)
    _use(conn, NOW.replace(hour=1, minute=5, second=0), 7)  # today, early
    _use(conn, NOW - dt.timedelta(hours=20), 5)  # yesterday 19:20: in the bars, not today
    _use(conn, NOW - dt.timedelta(hours=30), 100)  # before the 24 hours shown
    with CaptureQueriesContext(database) as ctx:
        usage = summary._usage(conn, NOW)
    assert sum("connectors_requestusage" in q["sql"] for q in ctx.captured_queries) <= 2
    assert usage["minute_mine"] == 5
    assert (usage["today_used"], usage["today_throttled"]) == (4 + 1 + 3 + 2 + 7, 1)
    titles = [bar["title"] for bar in usage["bars"]]
    assert len(titles) == 24 and titles[-1].startswith("15:00")  # UTC is the test's zone
    counts = {t.split(" — ")[0]: int(t.split(" — ")[1].split()[0]) for t in titles}
    assert counts["15:00"] == 5 and counts["14:00"] == 5 and counts["01:00"] == 7
    assert counts["19:00"] == 5 and sum(counts.values()) == 5 + 5 + 7 + 5
    tallest = max(usage["bars"], key=lambda b: b["h"])
    assert tallest["h"] == 30 and tallest["title"].startswith("01:00")
