"""The Integrations card's request figures (`connectors.summary._usage`): this minute, today,
and the 24 hourly bars: this hour read live, the 23 complete hours before it summed in one
query and cached (`_past_hours`)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection as database
from django.test.utils import CaptureQueriesContext

from accounts.models import Vendor
from connectors import summary
from connectors.models import Connection, RequestUsage

NOW = dt.datetime(2026, 12, 6, 15, 20, 30, tzinfo=dt.UTC)


@pytest.fixture
def conn(world):
    cache.clear()
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
    assert sum("connectors_requestusage" in q["sql"] for q in ctx.captured_queries) <= 3
    assert usage["minute_mine"] == 5
    assert (usage["today_used"], usage["today_throttled"]) == (4 + 1 + 3 + 2 + 7, 1)
    titles = [bar["title"] for bar in usage["bars"]]
    assert len(titles) == 24 and titles[-1].startswith("15:00")  # UTC is the test's zone
    counts = {t.split(" — ")[0]: int(t.split(" — ")[1].split()[0]) for t in titles}
    assert counts["15:00"] == 5 and counts["14:00"] == 5 and counts["01:00"] == 7
    assert counts["19:00"] == 5 and sum(counts.values()) == 5 + 5 + 7 + 5
    tallest = max(usage["bars"], key=lambda b: b["h"])
    assert tallest["h"] == 30 and tallest["title"].startswith("01:00")


def test_the_past_hours_come_from_the_cache_and_this_hour_is_live(conn):
    _use(conn, NOW.replace(hour=13, minute=10, second=0), 6)
    summary._usage(conn, NOW)
    _use(conn, NOW.replace(minute=1, second=0), 2)  # this hour: shown at once
    _use(conn, NOW.replace(hour=13, minute=11, second=0), 100)  # a late write to a past hour
    with CaptureQueriesContext(database) as ctx:
        usage = summary._usage(conn, NOW)
    assert sum("connectors_requestusage" in q["sql"] for q in ctx.captured_queries) == 2
    counts = {b["title"].split(" — ")[0]: b["title"].split(" — ")[1] for b in usage["bars"]}
    assert counts["15:00"] == "2 requests" and counts["13:00"] == "6 requests"
    assert usage["today_used"] == 8
    later = NOW + dt.timedelta(hours=1)  # the next hour: a new key, the late write counted
    counts = {
        b["title"].split(" — ")[0]: b["title"].split(" — ")[1]
        for b in summary._usage(conn, later)["bars"]
    }
    assert counts["13:00"] == "106 requests" and counts["15:00"] == "2 requests"
