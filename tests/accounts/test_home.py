"""The morning page: each role's cards with their counts, reasons and links, a technician's own
work first, today's jobs on the company's local day, bounded queries, the place kept for the
alerts card, and the first-run checklist of a company with no connection.

The world is a small mirror written here (no vendor I/O): Demo Field Services in
America/Los_Angeles with a Syncro and a Synchroteam connection, one labor type priced at
120.00/h, drafts by the technician and the billing clerk, a write Syncro refused, tickets
waiting on the customer, jobs today and yesterday, and one healthy and one failing connection.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import home
from accounts.home import Card
from accounts.localtime import load_zone, local_day_bounds
from accounts.models import Credential, Membership, Role, Vendor
from billing.models import BillingDraft, Decision, LaborKind, LaborType
from connectors.models import Connection, SyncRun, SyncStream
from connectors.outbox.models import VendorWrite, WriteBatch
from connectors.synchroteam.models import SynchroteamJob, SynchroteamUser
from connectors.syncro.models import SyncroProduct, SyncroTicket
from dispatch import snapshots

LA = "America/Los_Angeles"
THEO, ANA = (21, "Theo Tran"), (22, "Ana Field")
NOV_4_21_UTC = dt.datetime(2026, 11, 4, 21, 0, tzinfo=dt.UTC)


@dataclass
class Morning:
    sx: Connection
    st: Connection
    today: tuple[dt.datetime, dt.datetime]  # the local day in Los Angeles, as aware datetimes


def _draft(world, sx, user, minutes, **extra) -> BillingDraft:
    return BillingDraft.objects.create(
        tenant=world.tenant,
        connection=sx,
        ticket_vendor_id=9001,
        ticket_number="9001",
        drafted_by=user,
        minutes=minutes,
        labor_type=LaborKind.ONSITE,
        product_vendor_id=26118,
        product_name="Labor - Onsite",
        comment_subject="Work",
        comment_body="Done.",
        comment_hidden=True,
        comment_do_not_email=True,
        line_description="Onsite work",
        **extra,
    )


def _job(st, vid, tech, start, *, status="scheduled", minutes=0) -> SynchroteamJob:
    return SynchroteamJob.objects.create(
        tenant=st.tenant,
        connection=st,
        vendor_id=vid,
        num=str(vid),
        status=status,
        type_name="Repair",
        customer_name=f"Customer {vid}",
        technician_vendor_id=tech[0] if tech else None,
        technician_name=tech[1] if tech else "",
        scheduled_start=start,
        scheduled_end=start + dt.timedelta(hours=1),
        actual_start=start if minutes else None,
        actual_end=start + dt.timedelta(minutes=minutes) if minutes else None,
    )


def _ticket(sx, vid, status, days_since_change) -> SyncroTicket:
    return SyncroTicket.objects.create(
        tenant=sx.tenant,
        connection=sx,
        vendor_id=vid,
        number=str(vid),
        subject=f"Ticket {vid}",
        status=status,
        customer_name="Acme Dental",
        vendor_updated_at=timezone.now() - dt.timedelta(days=days_since_change),
    )


def _runs(conn, *statuses, success_ago: dt.timedelta | None):
    stream = SyncStream.objects.create(
        connection=conn,
        resource="tickets",
        last_success_at=timezone.now() - success_ago if success_ago else None,
    )
    for status in statuses:
        SyncRun.objects.create(tenant=conn.tenant, connection=conn, stream=stream, status=status)


@pytest.fixture
def morning(world) -> Morning:
    t = world.tenant
    t.time_zone = LA
    t.save()
    sx = Connection.objects.create(
        tenant=t, vendor=Vendor.SYNCRO, account="demo", base_url="https://sx.invalid/api/v1"
    )
    st = Connection.objects.create(
        tenant=t, vendor=Vendor.SYNCHROTEAM, account="demo", base_url="https://st.invalid/api/v3"
    )
    SyncroProduct.objects.create(
        tenant=t, connection=sx, vendor_id=26118, name="Labor - Onsite", price_retail=120
    )
    LaborType.objects.create(
        tenant=t, kind=LaborKind.ONSITE, product_vendor_id=26118, product_name="Labor - Onsite"
    )
    # drafts: the technician's 60 + 90 min, the clerk's 30 min pending; a rejected one
    _draft(world, sx, world.tech, 60)
    _draft(world, sx, world.tech, 90)
    _draft(world, sx, world.billing, 30)
    _draft(world, sx, world.tech, 45, decision=Decision.REJECTED)
    # a write Syncro refused (waits for a person) and one confirmed
    key = Credential.create(tenant=t, vendor=Vendor.SYNCRO, label="Shared", secret="sx-secret")
    batch = WriteBatch.objects.create(
        tenant=t, connection=sx, kind="billing.ticket_action", key="k1", label="Comment on #9001"
    )
    for state, bkey in ((VendorWrite.State.REJECTED, "a"), (VendorWrite.State.CONFIRMED, "b")):
        VendorWrite.objects.create(
            tenant=t,
            connection=sx,
            operation="syncro.comment.create",
            business_key=bkey,
            payload={},
            credential=key,
            batch=batch,
            state=state,
        )
    # tickets: two waiting on the customer for 5 days, one since yesterday, one in progress
    _ticket(sx, 7001, "Waiting on Customer", 5)
    _ticket(sx, 7002, "Waiting on Customer", 6)
    _ticket(sx, 7003, "Waiting on Customer", 1)
    _ticket(sx, 7004, "In Progress", 10)
    # Synchroteam: Theo is the technician by e-mail address; jobs on the LA day
    SynchroteamUser.objects.create(
        tenant=t, connection=st, vendor_id=THEO[0], name=THEO[1], email="TECH@demo.test"
    )
    SynchroteamUser.objects.create(tenant=t, connection=st, vendor_id=ANA[0], name=ANA[1])
    with timezone.override(load_zone(LA)):
        start, end = local_day_bounds()
    _job(st, 101, THEO, start + dt.timedelta(hours=9))
    _job(st, 102, THEO, start + dt.timedelta(hours=11), status="completed", minutes=60)
    _job(st, 103, ANA, start + dt.timedelta(hours=14))
    _job(st, 104, None, start + dt.timedelta(hours=15), status="created")
    _job(st, 105, THEO, end + dt.timedelta(hours=9))  # tomorrow
    _job(st, 106, ANA, start - dt.timedelta(hours=15), status="validated", minutes=90)  # yesterday
    # sync health: Syncro fine, Synchroteam failed twice and last succeeded 2 days ago
    _runs(sx, SyncRun.Status.SUCCEEDED, success_ago=dt.timedelta(hours=1))
    _runs(st, SyncRun.Status.FAILED, SyncRun.Status.FAILED, success_ago=dt.timedelta(days=2))
    return Morning(sx, st, (start, end))


def _cards(response) -> dict[str, Card]:
    assert response.status_code == 200
    return {c.key: c for c in response.context["cards"]}


def _keys(response) -> list[str]:
    return [c.key for c in response.context["cards"]]


# --- per role -------------------------------------------------------------------------------------


def test_an_owner_sees_every_office_card_with_its_count_reason_and_link(world, morning):
    page = world.client_for(world.owner).get("/")
    assert _keys(page) == [
        "drafts_to_approve",
        "writes_waiting",
        "alerts",
        "unbilled_jobs",
        "jobs_today",
        "waiting_on_customer",
        "sync_health",
    ]
    cards = _cards(page)
    drafts = cards["drafts_to_approve"]
    assert drafts.count == 3
    assert drafts.figure == "$360.00 · 3.00 h"  # 180 min × 120.00/h
    assert drafts.url == "/billing/?status=pending&filtered=1"
    assert [(b.label, b.value) for b in drafts.bars] == [("Theo Tran", 2), ("Bill Barnes", 1)]
    assert cards["writes_waiting"].count == 1
    assert cards["writes_waiting"].items[0][0] == "Comment on #9001 — rejected by the vendor"
    unbilled = cards["unbilled_jobs"]
    assert unbilled.count == 2  # today's completed job and yesterday's validated one
    assert unbilled.figure == "2.50 h · $300.00"
    assert [(b.label, b.value) for b in unbilled.bars] == [
        ("Ana Field", Decimal("1.50")),
        ("Theo Tran", Decimal("1.00")),
    ]
    jobs = cards["jobs_today"]
    assert jobs.count == 4
    assert [(b.label, b.value) for b in jobs.bars] == [("Theo Tran", 2), ("Ana Field", 1)]
    assert jobs.reason == "2 technicians, 1 done, 1 unassigned."
    assert "view=day" in jobs.url
    waiting = cards["waiting_on_customer"]
    assert waiting.count == 2
    assert "over 3 days (3 waiting in all)" in waiting.reason
    assert waiting.url == "/tickets/?status=Waiting+on+Customer&idle_days=3"
    health = cards["sync_health"]
    assert health.count == 1
    assert [(r.label, r.state_label) for r in health.rows] == [
        ("Synchroteam", "Failing"),
        ("Syncro", "Fine"),
    ]
    assert "2 failures in 24 h" in health.rows[0].note
    html = page.content.decode()
    assert "Drafts to approve" in html and "$360.00 · 3.00 h" in html
    assert '<progress value="2" max="2.0"' in html  # Theo's bar is the longest


def test_the_waiting_on_customer_link_lists_exactly_the_tickets_it_counts(world, morning):
    cache.clear()  # the ticket list caches the account's statuses per tenant
    client = world.client_for(world.billing)
    card = _cards(client.get("/"))["waiting_on_customer"]
    listed = client.get(card.url)
    assert listed.status_code == 200
    assert sorted(t.number for t, _, _ in listed.context["rows"]) == ["7001", "7002"]
    refused = client.get("/tickets/?status=Waiting+on+Customer&idle_days=-4")
    assert refused.status_code == 200 and len(refused.context["rows"]) == 3  # filter dropped


def test_a_billing_clerk_sees_the_billing_cards_and_not_the_team_board(world, morning):
    page = world.client_for(world.billing).get("/")
    assert _keys(page) == [
        "drafts_to_approve",
        "writes_waiting",
        "alerts",
        "unbilled_jobs",
        "waiting_on_customer",
        "sync_health",
    ]
    assert _cards(page)["drafts_to_approve"].count == 3


def test_a_technician_sees_their_own_jobs_and_drafts_first(world, morning):
    page = world.client_for(world.tech).get("/")
    keys = _keys(page)
    assert keys[:2] == ["my_jobs_today", "my_drafts"]
    assert "drafts_to_approve" not in keys and "sync_health" not in keys
    cards = _cards(page)
    mine = cards["my_jobs_today"]
    assert mine.count == 2 and mine.reason == "1 of 2 done."
    assert mine.items[0][0].startswith("09:00 · Customer 101")  # local time, not 17:00 UTC
    assert mine.items[0][1] == "/jobs/101/"
    assert "technician=21" in mine.url
    drafts = cards["my_drafts"]
    assert drafts.count == 2 and drafts.reason == "2 waiting for approval."
    assert f"technician={world.tech.pk}" in drafts.url


def test_a_technician_unknown_to_synchroteam_is_told_why_their_jobs_are_missing(world, morning):
    SynchroteamUser.objects.filter(vendor_id=THEO[0]).update(email="", name="Someone Else")
    mine = _cards(world.client_for(world.tech).get("/"))["my_jobs_today"]
    assert mine.count == 0
    assert "No Synchroteam technician has your e-mail address (tech@demo.test)" in mine.reason


def test_todays_jobs_are_the_companys_local_day_not_the_utc_day(world, morning):
    # 21:00 UTC on Nov 4 is 13:00 in Los Angeles; a job at 23:30 there is 07:30 UTC on Nov 5
    late = _job(morning.st, 107, ANA, dt.datetime(2026, 11, 5, 7, 30, tzinfo=dt.UTC))
    client = world.client_for(world.dispatcher)
    with mock.patch("django.utils.timezone.now", return_value=NOV_4_21_UTC):
        in_la = _cards(client.get("/"))["jobs_today"]
        world.tenant.time_zone = "UTC"
        world.tenant.save()
        in_utc = _cards(client.get("/"))["jobs_today"]
    assert (in_la.count, in_utc.count) == (1, 0)
    assert [b.label for b in in_la.bars] == ["Ana Field"]
    assert late.scheduled_start.date() == dt.date(2026, 11, 5)  # the UTC day differs


def test_the_home_page_makes_the_same_number_of_queries_for_ten_times_the_rows(world, morning):
    client = world.client_for(world.owner)
    client.get("/")  # warm the session
    # both measured views compute the unbilled card: its snapshot is expired here, and by the
    # rows saved below
    snapshots.changed(world.tenant.pk)
    with CaptureQueriesContext(db) as small:
        client.get("/")
    start, _ = morning.today
    for i in range(20):
        _draft(world, morning.sx, world.tech, 15 + i)
        _job(morning.st, 200 + i, THEO if i % 2 else ANA, start + dt.timedelta(hours=8))
        _job(
            morning.st, 300 + i, ANA, start - dt.timedelta(hours=20), status="completed", minutes=30
        )
        _ticket(morning.sx, 8000 + i, "Waiting on Customer", 4)
    with CaptureQueriesContext(db) as large:
        page = client.get("/")
    assert _cards(page)["drafts_to_approve"].count == 23
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(small.captured_queries) <= 40


def test_the_alerts_card_has_its_place_for_every_role(world, morning, monkeypatch):
    assert home.CARDS["alerts"] == "connectors.alerts.home.alerts_card"
    assert all("alerts" in keys for keys in home.ROLE_CARDS.values())
    assert _keys(world.client_for(world.owner).get("/"))[2] == "alerts"
    monkeypatch.setitem(home.CARDS, "alerts", "tests.accounts.test_home.fake_alerts_card")
    assert _keys(world.client_for(world.tech).get("/"))[2] == "alerts"


def fake_alerts_card(request) -> Card:
    return Card(key="alerts", title="Open alerts", count=1, reason="A stream failed.", url="/")


def test_an_outsider_sees_none_of_the_demo_companys_numbers(world, morning):
    other = world.other_tenant
    Connection.objects.create(tenant=other, vendor=Vendor.SYNCRO, account="other")
    cards = _cards(world.client_for(world.outsider).get("/"))
    assert cards["drafts_to_approve"].count == 0
    assert cards["writes_waiting"].count == 0
    assert "waiting_on_customer" not in cards  # no Syncro ticket mirrored for Other Co
    assert [r.label for r in cards["sync_health"].rows] == ["Syncro"]
    assert "jobs_today" not in cards  # no Synchroteam connection


# --- first run ------------------------------------------------------------------------------------


def _steps(response) -> dict[str, bool]:
    return {s.key: s.done for s in response.context["steps"]}


def test_a_company_with_no_connection_sees_the_checklist_instead_of_cards(world):
    page = world.client_for(world.outsider).get("/")
    assert page.context["first_run"] is True
    assert page.context["cards"] == []
    assert _steps(page) == {"connect": False, "labor_types": False, "staff": False, "mfa": False}
    html = page.content.decode()
    assert "Get Other Co started" in html
    for label, url in (
        ("Connect a vendor", "/integrations/"),
        ("Map labor types", "/billing/labor-types/"),
        ("Invite staff", "/company/staff/"),
        ("Turn on multi-factor sign-in", "/account/two-step/"),
    ):
        assert f'<a href="{url}">{label}</a>' in html


def test_each_checklist_step_is_ticked_when_it_is_done(world):
    other = world.other_tenant
    Membership.objects.create(user=world.billing, tenant=other, role=Role.BILLING)
    LaborType.objects.create(
        tenant=other, kind=LaborKind.ONSITE, product_vendor_id=1, product_name="Labor"
    )
    client = world.client_for(world.outsider)
    assert _steps(client.get("/")) == {
        "connect": False,
        "labor_types": True,
        "staff": True,
        "mfa": False,
    }
    Connection.objects.create(tenant=other, vendor=Vendor.SYNCRO, account="other")
    page = client.get("/")
    assert page.context["first_run"] is False
    assert [s.key for s in page.context["steps_left"]] == ["mfa"]
    assert "Still to set up" in page.content.decode()


def test_a_member_who_cannot_do_the_steps_sees_them_without_links(world):
    Membership.objects.create(user=world.tech, tenant=world.other_tenant, role=Role.TECHNICIAN)
    client = world.client_for(world.tech)
    client.post(f"/companies/{world.other_tenant.uuid}/switch/")
    html = client.get("/").content.decode()
    assert "Get Other Co started" in html
    assert 'href="/company/"' not in html
    assert "An owner or admin of Other Co does these steps." in html
