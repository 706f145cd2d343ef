"""Out-of-range input answers a form error, never a 500 (issue 13, finding 4)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.inputs import DATE_RANGE_MESSAGE, MAX_DATE, MIN_DATE

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/tickets/?created_to=9999-12-31",
        "/tickets/?created_from=0001-01-01",
        "/jobs/board/?date=9999-12-31",
        "/jobs/board/?date=0001-01-01",
        "/jobs/board/?date=9999-12-31&view=day",
        "/reconciliation/timesheet/?week=9999-12-31",
        "/reconciliation/timesheet/?week=9999-12-31&format=csv",
        "/reconciliation/timesheet/?week=0001-01-01",
        "/billing/audit/?start=2020-01-01&end=9999-12-31",
        "/billing/audit/?start=2020-01-01&end=9999-12-31&format=csv",
        "/billing/audit/?start=0001-01-01&end=2020-01-01",
    ],
)
def test_a_date_at_the_end_of_the_calendar_is_not_a_500(world, url):
    response = _client(world.owner).get(url)
    assert response.status_code < 500, response.exc_info
    if response.streaming:  # the whole download, not only its first line
        b"".join(response.streaming_content)


@pytest.mark.parametrize(
    "drafts", ["abc", "abc:def", "", ":", "00000000-0000-0000-0000-000000000000:x"]
)
def test_bulk_approve_with_a_malformed_draft_value_is_not_a_500(world, drafts):
    response = _client(world.owner).post("/billing/approve/", {"drafts": drafts})
    assert response.status_code < 500, response.exc_info


@pytest.mark.parametrize("hours", ["-5", "0", "169", "1000"])
def test_company_settings_refuse_an_overtime_threshold_out_of_bounds(world, hours):
    form = {
        "name": world.tenant.name,
        "billing_attribution": "drafter",
        "invoice_mode": "per_draft",
        "currency": "USD",
        "overtime_hours_per_week": hours,
        "time_zone": "UTC",
    }
    response = _client(world.owner).post("/company/", form)
    assert response.status_code == 200
    world.tenant.refresh_from_db()
    assert world.tenant.overtime_hours_per_week == 40
    assert b"between 1 and 168" in response.content
    assert f'value="{hours}"'.encode() in response.content  # what was typed is kept


RANGE = DATE_RANGE_MESSAGE.encode()


@pytest.mark.parametrize(
    "url",
    [
        "/tickets/?created_to=9999-12-31",
        "/jobs/board/?date=9999-12-31",
        "/jobs/board/?date=0001-01-01&view=day",
        "/reconciliation/timesheet/?week=9999-12-31",
        "/reconciliation/timesheet/?week=9999-12-31&format=csv",
        "/billing/audit/?start=2020-01-01&end=9999-12-31",
        "/billing/audit/?start=2020-01-01&end=9999-12-31&format=csv",
        "/reconciliation/?start=1999-12-31",
        "/jobs/?end=2101-01-01",
    ],
)
def test_a_date_out_of_range_is_named_on_the_page_and_kept_as_typed(world, url):
    response = _client(world.owner).get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")  # no CSV of a refused range
    assert RANGE in response.content
    typed = url.rsplit("=", 1)[-1] if "format" not in url else url.split("&")[1].split("=")[1]
    assert typed.encode() in response.content


@pytest.mark.parametrize(
    "url", ["/jobs/board/?date=9999-12-31", "/reconciliation/timesheet/?week=0001-01-01"]
)
def test_htmx_gets_a_400_that_names_the_refused_date(world, url):
    response = _client(world.owner).get(url, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert RANGE in response.content


@pytest.mark.parametrize("technician", ["²", "99999999999999999999999", "-3", "abc"])
def test_the_board_refuses_a_technician_that_is_not_an_id(world, technician):
    response = _client(world.owner).get(f"/jobs/board/?technician={technician}")
    assert response.status_code == 200
    assert b"Not an id." in response.content


def test_the_last_and_first_accepted_days_still_page_back_and_forth(world):
    client = _client(world.owner)
    for url in (
        f"/jobs/board/?date={MAX_DATE}",
        f"/jobs/board/?date={MIN_DATE}&view=day",
        f"/reconciliation/timesheet/?week={MAX_DATE}",
        f"/billing/audit/?start={MIN_DATE}&end={MAX_DATE}",
    ):
        response = client.get(url)
        assert response.status_code == 200 and RANGE not in response.content, url


def test_a_superscript_digit_is_not_a_ticket_id_for_the_customer_guard(world, rf):
    """``"²".isdigit()`` is True but ``int("²")`` raises: the guard reads ASCII digits only."""
    from dispatch.views import _guard

    request = rf.get("/")
    request.tenant = world.tenant
    assert _guard(request, job=None, ticket_id="²", confirmed="")["guard_ticket"] is None


@pytest.mark.parametrize(
    "field, value", [("full_sync_hour", 24), ("incremental_interval_minutes", 0)]
)
def test_a_connection_schedule_out_of_bounds_is_refused(world, field, value):
    from django.core.exceptions import ValidationError

    from connectors.models import Connection

    connection = Connection(tenant=world.tenant, vendor="syncro", account="demo", **{field: value})
    with pytest.raises(ValidationError) as refused:
        connection.full_clean()
    assert field in refused.value.message_dict
