"""Local time: the company's zone (and a person's own) is active for each request, pages show
UTC-stored times converted with the zone's abbreviation, job forms read local times and store
UTC, a time skipped or repeated by a daylight-saving change is a form error, and the greeting
follows the local hour."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.localtime import LocalDateTimeField, dst_problem, greeting, load_zone, zone_for
from accounts.models import Credential, Vendor
from connectors.models import Connection
from connectors.synchroteam.models import SynchroteamJob, SynchroteamUser

LA = "America/Los_Angeles"
UTC = dt.UTC


@pytest.fixture
def la_jobs(world):
    """Demo Field Services in Los Angeles with a Synchroteam connection, its key, a technician
    and a job scheduled 2026-11-04 17:30-18:30 UTC (09:30 PST)."""
    t = world.tenant
    t.time_zone = LA
    t.save()
    st = Connection.objects.create(
        tenant=t, vendor=Vendor.SYNCHROTEAM, account="demo", base_url="https://st.invalid/api/v3"
    )
    Credential.create(tenant=t, vendor=Vendor.SYNCHROTEAM, label="Shared", secret="st-key")
    SynchroteamUser.objects.create(tenant=t, connection=st, vendor_id=21, name="Theo Tran")
    return SynchroteamJob.objects.create(
        tenant=t,
        connection=st,
        vendor_id=101,
        num="101",
        status="scheduled",
        customer_name="Acme Dental",
        technician_vendor_id=21,
        technician_name="Theo Tran",
        scheduled_start=dt.datetime(2026, 11, 4, 17, 30, tzinfo=UTC),
        scheduled_end=dt.datetime(2026, 11, 4, 18, 30, tzinfo=UTC),
    )


# --- showing -------------------------------------------------------------------------------------


def test_a_company_in_los_angeles_sees_a_utc_stored_time_converted_with_its_zone(world, la_jobs):
    html = world.client_for(world.owner).get("/jobs/101/").content.decode()
    assert "Wed Nov 4 2026, 09:30 PST – 10:30" in html
    assert "17:30" not in html
    assert 'title="Times on these pages are in ' in html  # the header's zone chip


def test_a_person_sees_their_own_zone_over_the_companys(world, la_jobs):
    m = world.owner.memberships.get(tenant=world.tenant)
    m.time_zone = "Europe/Paris"
    m.save()
    html = world.client_for(world.owner).get("/jobs/101/").content.decode()
    assert "Wed Nov 4 2026, 18:30 CET – 19:30" in html
    other = world.client_for(world.dispatcher).get("/jobs/101/").content.decode()
    assert "09:30 PST" in other  # everyone else still sees the company's zone


def test_the_zone_is_deactivated_after_each_request(world, la_jobs):
    world.client_for(world.owner).get("/")
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE


def test_an_unknown_zone_in_the_database_falls_back_instead_of_failing(world):
    world.tenant.time_zone = "Mars/Olympus_Mons"
    world.tenant.save()
    m = world.owner.memberships.get(tenant=world.tenant)
    assert str(zone_for(m)) == settings.TIME_ZONE
    assert world.client_for(world.owner).get("/").status_code == 200


# --- choosing the zone ---------------------------------------------------------------------------


def _company_post(**extra) -> dict:
    return {
        "name": "Demo Field Services",
        "billing_attribution": "drafter",
        "invoice_mode": "per_draft",
        "currency": "USD",
        "overtime_hours_per_week": "40",
        **extra,
    }


def test_the_company_form_offers_the_zones_and_saves_one(world):
    client = world.client_for(world.owner)
    page = client.get("/company/").content.decode()
    assert '<option value="America/Los_Angeles">America/Los Angeles</option>' in page
    assert client.post("/company/", _company_post(time_zone=LA)).status_code == 302
    world.tenant.refresh_from_db()
    assert world.tenant.time_zone == LA


@pytest.mark.parametrize("bad", ["Mars/Olympus_Mons", "../../etc/passwd", "\x00\xff", "A" * 300])
def test_the_company_form_refuses_a_name_that_is_not_a_zone_and_keeps_the_rest(world, bad):
    client = world.client_for(world.owner)
    page = client.post("/company/", _company_post(time_zone=bad, name="Renamed Co"))
    assert page.status_code == 200
    assert "Select a valid choice" in page.content.decode()
    assert 'value="Renamed Co"' in page.content.decode()
    world.tenant.refresh_from_db()
    assert world.tenant.time_zone == "UTC"


def test_leaving_the_zone_out_of_the_company_form_keeps_the_companys(world):
    world.tenant.time_zone = LA
    world.tenant.save()
    assert world.client_for(world.owner).post("/company/", _company_post()).status_code == 302
    world.tenant.refresh_from_db()
    assert world.tenant.time_zone == LA


def test_a_person_chooses_their_zone_or_the_companys(world):
    client = world.client_for(world.tech)
    page = client.get("/me/time-zone/").content.decode()
    assert "Use the company&#x27;s (UTC)" in page
    assert client.post("/me/time-zone/", {"time_zone": "Asia/Tokyo"}).status_code == 302
    m = world.tech.memberships.get(tenant=world.tenant)
    m.refresh_from_db()
    assert m.time_zone == "Asia/Tokyo"
    assert "JST" in client.get("/").content.decode()
    refused = client.post("/me/time-zone/", {"time_zone": "Nowhere/Land"})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert client.post("/me/time-zone/", {"time_zone": ""}).status_code == 302
    m.refresh_from_db()
    assert m.time_zone == ""


# --- reading form input --------------------------------------------------------------------------


def _schedule(client, start: str, end: str):
    return client.post(
        "/jobs/101/schedule/",
        {"technician": "21", "start": start, "end": end, "action": "preview"},
    )


def test_a_job_window_typed_in_local_time_is_sent_and_stored_in_utc(world, la_jobs):
    page = _schedule(world.client_for(world.dispatcher), "2026-11-04T09:30", "2026-11-04T11:00")
    assert page.status_code == 200
    form = page.context["form"]
    assert form.cleaned_data["start"] == dt.datetime(2026, 11, 4, 17, 30, tzinfo=UTC)
    assert form.cleaned_data["end"] == dt.datetime(2026, 11, 4, 19, 0, tzinfo=UTC)
    html = page.content.decode()
    assert "2026-11-04 17:30:00" in html  # the exact payload Synchroteam will receive (UTC)
    assert "Times are in PST (America/Los_Angeles)" in html or "PDT (America/Los_Angeles)" in html


def test_a_local_time_the_clocks_skip_is_a_form_error_not_a_500(world, la_jobs):
    page = _schedule(world.client_for(world.dispatcher), "2026-03-08T02:30", "2026-03-08T04:00")
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        "02:30 on Mar 8, 2026 does not exist in America/Los_Angeles: the clocks go forward an "
        "hour then." in html
    )
    assert 'value="2026-03-08T02:30"' in html  # what was typed is kept
    assert page.context["plan"] is None


def test_a_local_time_that_happens_twice_is_a_form_error(world, la_jobs):
    page = _schedule(world.client_for(world.dispatcher), "2026-11-01T01:30", "2026-11-01T03:00")
    assert page.status_code == 200
    assert "01:30 on Nov 1, 2026 happens twice in America/Los_Angeles" in page.content.decode()


@pytest.mark.parametrize("junk", ["2026-13-40T99:99", "yesterday", "\x00\xff", "9" * 400])
def test_a_window_that_is_not_a_time_is_a_form_error(world, la_jobs, junk):
    page = _schedule(world.client_for(world.dispatcher), junk, "2026-11-04T11:00")
    assert page.status_code == 200
    assert page.context["form"].errors["start"]


def test_the_field_reads_naive_input_in_the_active_zone():
    field = LocalDateTimeField()
    with timezone.override(load_zone("Europe/Berlin")):
        assert field.clean("2026-07-01T12:00") == dt.datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    with timezone.override(load_zone(LA)):
        assert field.clean("2026-07-01T12:00") == dt.datetime(2026, 7, 1, 19, 0, tzinfo=UTC)


def test_dst_problem_says_nothing_about_an_ordinary_time():
    zone = load_zone(LA)
    assert dst_problem(dt.datetime(2026, 6, 1, 2, 30), zone) == ""
    half_hour = load_zone("Australia/Lord_Howe")  # moves its clocks by 30 minutes
    assert "forward 30 minutes" in dst_problem(dt.datetime(2026, 10, 4, 2, 15), half_hour)


def test_date_filters_select_the_local_day(world, la_jobs):
    """23:30 on Nov 4 in Los Angeles is Nov 5 in UTC: the Nov 4 filter finds it there, and the
    technician board puts it on Nov 4."""
    la_jobs.scheduled_start = dt.datetime(2026, 11, 5, 7, 30, tzinfo=UTC)
    la_jobs.scheduled_end = dt.datetime(2026, 11, 5, 8, 0, tzinfo=UTC)
    la_jobs.save()
    client = world.client_for(world.dispatcher)
    nov_4 = client.get("/jobs/?start=2026-11-04&end=2026-11-04")
    assert [j.vendor_id for j in nov_4.context["page"]] == [101]
    nov_5 = client.get("/jobs/?start=2026-11-05&end=2026-11-05")
    assert list(nov_5.context["page"]) == []
    board = client.get("/jobs/board/?view=day&date=2026-11-04").content.decode()
    assert "/jobs/101/" in board


# --- the greeting --------------------------------------------------------------------------------

NINE_PM_UTC = dt.datetime(2026, 11, 4, 21, 0, tzinfo=UTC)


def test_the_greeting_at_21_utc_for_a_company_at_utc_minus_8_says_afternoon(world):
    world.tenant.time_zone = LA
    world.tenant.save()
    client = world.client_for(world.owner)
    with mock.patch("django.utils.timezone.now", return_value=NINE_PM_UTC):
        la = client.get("/").content.decode()
        world.tenant.time_zone = "UTC"
        world.tenant.save()
        utc = client.get("/").content.decode()
    assert "Good afternoon, Olivia" in la
    assert "Good evening, Olivia" in utc


@pytest.mark.parametrize(
    ("zone", "word"),
    [("Asia/Tokyo", "morning"), (LA, "afternoon"), ("Europe/London", "evening")],
)
def test_the_greeting_follows_the_local_hour(zone, word):
    with timezone.override(load_zone(zone)):
        assert greeting(NINE_PM_UTC) == word  # 06:00 JST, 13:00 PST, 21:00 GMT
