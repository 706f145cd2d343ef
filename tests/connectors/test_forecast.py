"""The forecast function (connectors/forecast.py): budget, pace, daily quota and pauses.

Pure arithmetic, no database: every expected figure below is worked out by hand from the
model in the module docstring.
"""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.forecast import MAX_DAYS, DailyQuota, forecast

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
MIDNIGHT = dt.datetime(2026, 11, 3, 0, 0, tzinfo=dt.UTC)


def at(seconds: float, base: dt.datetime = NOW) -> dt.datetime:
    return base + dt.timedelta(seconds=seconds)


def test_no_total_gives_no_time_and_says_the_total_is_unknown():
    result = forecast(now=NOW, requests_left=None, per_minute=60, minute_left=60)
    assert result.eta is None and not result.known
    assert result.reason.startswith("total unknown")
    assert result.requests_left is None


def test_a_full_window_sends_at_the_budget_rate():
    # 120 requests at 60/min, nothing free this minute: one a second
    result = forecast(now=NOW, requests_left=120, per_minute=60, minute_left=0, request_seconds=0.1)
    assert result.eta == at(120)
    assert "120 requests at up to 60/min" in result.reason


def test_the_free_part_of_the_window_goes_at_the_vendors_pace():
    # 30 requests all fit in the 40 still free this minute: 0.5 s each
    result = forecast(now=NOW, requests_left=30, per_minute=60, minute_left=40, request_seconds=0.5)
    assert result.eta == at(15)
    # 50 requests: 40 at 0.5 s, then 10 at one a second
    result = forecast(now=NOW, requests_left=50, per_minute=60, minute_left=40, request_seconds=0.5)
    assert result.eta == at(20 + 10)


def test_a_vendor_slower_than_the_budget_sets_the_pace():
    result = forecast(now=NOW, requests_left=10, per_minute=600, minute_left=0, request_seconds=2)
    assert result.eta == at(20)


def test_an_unmeasured_pace_counts_the_free_requests_as_instant():
    result = forecast(now=NOW, requests_left=70, per_minute=60, minute_left=10)
    assert result.eta == at(60)


def test_a_spent_daily_quota_puts_the_end_after_the_reset():
    quota = DailyQuota(left=0, reset_at=MIDNIGHT, per_day=1000)
    result = forecast(
        now=at(14 * 3600),  # 23:00 UTC
        requests_left=100,
        per_minute=600,
        minute_left=600,
        request_seconds=0.5,
        quota=quota,
    )
    assert result.waits_for_reset == MIDNIGHT
    assert result.eta == at(50, MIDNIGHT)  # 100 requests of the fresh window at 0.5 s
    assert result.reason.startswith("waiting for the daily quota to reset at 00:00 UTC")


def test_a_quota_that_runs_out_midway_splits_the_work_around_the_reset():
    quota = DailyQuota(left=100, reset_at=MIDNIGHT, per_day=1000)
    result = forecast(
        now=NOW,
        requests_left=150,
        per_minute=6000,
        minute_left=6000,
        quota=quota,
        request_seconds=0.01,
    )
    assert result.waits_for_reset == MIDNIGHT
    assert result.eta == at(0.5, MIDNIGHT)  # the 50 left after the reset


def test_a_day_that_ends_before_the_quota_is_spent_does_not_wait():
    quota = DailyQuota(left=10_000, reset_at=MIDNIGHT, per_day=10_000)
    before_midnight = at(-60, MIDNIGHT)
    result = forecast(
        now=before_midnight, requests_left=600, per_minute=60, minute_left=0, quota=quota
    )
    assert result.waits_for_reset is None
    assert result.eta == at(600, before_midnight)
    assert not result.reason.startswith("waiting")


def test_work_larger_than_a_days_quota_takes_several_days():
    quota = DailyQuota(left=0, reset_at=MIDNIGHT, per_day=100)
    result = forecast(
        now=NOW,
        requests_left=250,
        per_minute=6000,
        minute_left=0,
        quota=quota,
        request_seconds=0.01,
    )
    # 100 on the 3rd, 100 on the 4th, the last 50 on the 5th
    assert result.eta == at(0.5, MIDNIGHT + dt.timedelta(days=2))
    assert result.waits_for_reset == MIDNIGHT


def test_a_reset_time_already_passed_means_a_fresh_day():
    quota = DailyQuota(left=0, reset_at=at(-3600), per_day=100)
    result = forecast(now=NOW, requests_left=50, per_minute=60, minute_left=60, quota=quota)
    assert result.waits_for_reset is None
    assert result.eta == NOW


def test_a_vendor_pause_delays_the_start_and_refills_the_window():
    result = forecast(
        now=NOW,
        requests_left=60,
        per_minute=60,
        minute_left=0,
        request_seconds=0.5,
        blocked_until=at(90),
    )
    assert result.eta == at(90 + 30)  # the whole window is free again after the pause
    assert result.reason.startswith("paused until 09:01 UTC")


def test_nothing_left_finishes_now_and_no_budget_has_no_time():
    assert forecast(now=NOW, requests_left=0, per_minute=60, minute_left=0).eta == NOW
    none = forecast(now=NOW, requests_left=5, per_minute=0, minute_left=0)
    assert none.eta is None and "no request budget" in none.reason


def test_a_quota_with_nothing_for_background_reads_never_finishes():
    quota = DailyQuota(left=0, reset_at=MIDNIGHT, per_day=0)
    result = forecast(now=NOW, requests_left=5, per_minute=60, minute_left=60, quota=quota)
    assert result.eta is None
    assert "nothing for background reads" in result.reason


def test_an_end_more_than_a_year_away_is_not_given():
    quota = DailyQuota(left=0, reset_at=MIDNIGHT, per_day=1)
    result = forecast(
        now=NOW, requests_left=MAX_DAYS + 5, per_minute=60, minute_left=60, quota=quota
    )
    assert result.eta is None and "days of daily quota away" in result.reason


@pytest.mark.parametrize("minute_left", [-5, 10_000])
def test_minute_left_outside_the_budget_is_clamped(minute_left):
    result = forecast(now=NOW, requests_left=120, per_minute=60, minute_left=minute_left)
    assert result.eta == (at(0 + 60) if minute_left > 0 else at(120))
