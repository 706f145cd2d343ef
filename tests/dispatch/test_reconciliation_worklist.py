"""Reconciliation as a worklist: hours and amount per unbilled job, filters and totals, odd query
strings, and the customer-mismatch guard on drafting a job onto a Syncro ticket.

The world is a small mirror written here (no vendor I/O happens before approval): three finished
jobs with known activities, two Syncro customers with a ticket each, and two labor types mapped
to priced Syncro products (Onsite 120.00/h, Remote 95.00/h).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from accounts.models import Vendor
from billing.models import ApprovalEvent, BillingDraft, LaborKind, LaborType
from billing.money import draft_amounts
from connectors.models import Connection
from connectors.synchroteam.models import (
    SynchroteamActivity,
    SynchroteamCustomer,
    SynchroteamJob,
    SynchroteamUser,
)
from connectors.syncro.models import SyncroCustomer, SyncroProduct, SyncroTicket
from dispatch import services
from dispatch.reconciliation import customer_check, worklist_technicians

UTC = dt.UTC


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@dataclass
class Recon:
    st: Connection
    sx: Connection
    acme_job: SynchroteamJob  # Ana, Acme Dental, 135 work minutes + 30 travel
    birch_job: SynchroteamJob  # Ben, Birch Bakery, 60 work minutes
    acme_job_2: SynchroteamJob  # Ben, Acme Dental, no work activity: 40 actual minutes
    acme_ticket: SyncroTicket
    birch_ticket: SyncroTicket


def _job(conn, vid, num, customer, tech, end, **extra) -> SynchroteamJob:
    return SynchroteamJob.objects.create(
        tenant=conn.tenant,
        connection=conn,
        vendor_id=vid,
        num=num,
        status=extra.pop("status", "completed"),
        type_name="Repair",
        customer_vendor_id=customer[0],
        customer_name=customer[1],
        technician_vendor_id=tech[0],
        technician_name=tech[1],
        actual_end=end,
        **extra,
    )


def _act(conn, vid, kind, job, start, end, *, user=21, deleted=False):
    SynchroteamActivity.objects.create(
        tenant=conn.tenant,
        connection=conn,
        vendor_id=vid,
        type=kind,
        user_vendor_id=user,
        job_vendor_id=job.vendor_id if job else None,
        start=start,
        end=end,
        is_deleted=deleted,
    )


@pytest.fixture
def recon(world) -> Recon:
    t = world.tenant
    st = Connection.objects.create(
        tenant=t, vendor=Vendor.SYNCHROTEAM, account="demo", base_url="https://st.invalid/api/v3"
    )
    sx = Connection.objects.create(
        tenant=t, vendor=Vendor.SYNCRO, account="demo", base_url="https://sx.invalid/api/v1"
    )
    for vid, name, price in ((26118, "Labor - Onsite Business", "120.00"),
                             (1190473, "Labor - Remote Business", "95.00")):  # fmt: skip
        SyncroProduct.objects.create(
            tenant=t, connection=sx, vendor_id=vid, name=name, price_retail=Decimal(price)
        )
    LaborType.objects.create(
        tenant=t, kind=LaborKind.ONSITE, product_vendor_id=26118, product_name="Labor - Onsite"
    )
    LaborType.objects.create(
        tenant=t, kind=LaborKind.REMOTE, product_vendor_id=1190473, product_name="Labor - Remote"
    )
    for vid, name in ((501, "Acme Dental"), (502, "Birch Bakery")):
        SyncroCustomer.objects.create(tenant=t, connection=sx, vendor_id=vid, name=name)
    tickets = [
        SyncroTicket.objects.create(
            tenant=t,
            connection=sx,
            vendor_id=vid,
            number=str(vid),
            subject=subject,
            status="In Progress",
            customer_vendor_id=cid,
            customer_name=cname,
        )
        for vid, subject, cid, cname in (
            (9001, "Chair repair", 501, "Acme Dental"),
            (9002, "Oven service", 502, "Birch Bakery"),
        )
    ]
    acme, birch = (11, "Acme Dental"), (12, "Birch Bakery")
    ana, ben = (21, "Ana Tech"), (22, "Ben Fixer")
    j1 = _job(st, 101, "1001", acme, ana, at(3, 15))
    j2 = _job(st, 102, "1002", birch, ben, at(5, 12), status="validated")
    j3 = _job(st, 103, "1003", acme, ben, at(10, 9, 40), actual_start=at(10, 9))
    _job(st, 104, "1004", acme, ana, None, status="scheduled")  # not finished: never listed
    _act(st, 1, "work", j1, at(3, 9), at(3, 10, 30))  # 90
    _act(st, 2, "work", j1, at(3, 11), at(3, 11, 45))  # 45
    _act(st, 3, "travel", j1, at(3, 8, 30), at(3, 9))  # 30 travel, not billed
    _act(st, 4, "unavailability", j1, at(3, 12), at(3, 13))  # never worked time
    _act(st, 5, "work", j1, at(3, 13), at(3, 17), deleted=True)  # gone from Synchroteam
    _act(st, 6, "clockin", None, at(3, 8), None)  # an instant
    _act(st, 7, "work", j2, at(5, 10), at(5, 11), user=22)  # 60
    _act(st, 8, "work", j3, at(10, 9), at(10, 9), user=22)  # zero length: not counted
    return Recon(st, sx, j1, j2, j3, tickets[0], tickets[1])


def _rows(response) -> dict[str, tuple[Decimal, Decimal | None]]:
    return {r.job.num: (r.hours, r.amount) for r in response.context["work"].rows}


# --- hours and amounts ---------------------------------------------------------------------------


def test_each_row_shows_the_hours_of_its_work_activities_and_their_amount_at_the_rate(world, recon):
    page = world.client_for(world.billing).get(reverse("dispatch:unbilled"))
    assert page.status_code == 200
    assert _rows(page) == {
        "1001": (Decimal("2.25"), Decimal("270.00")),  # 135 min × 120.00/h
        "1002": (Decimal("1.00"), Decimal("120.00")),
        "1003": (Decimal("0.67"), Decimal("80.40")),  # actual 09:00-09:40, Syncro's 0.67 h
    }
    work = page.context["work"]
    assert (work.hours, work.amount) == (Decimal("3.92"), Decimal("470.40"))
    html = page.content.decode()
    assert "$270.00" in html and "2.25 h" in html and "$470.40" in html
    assert "+30 min travel, not billed" in html


def test_the_amount_follows_the_rate_picked_and_is_a_dash_for_an_unmapped_labor_type(world, recon):
    client = world.client_for(world.billing)
    remote = client.get(reverse("dispatch:unbilled") + "?labor=remote")
    assert _rows(remote)["1001"] == (Decimal("2.25"), Decimal("213.75"))  # 2.25 × 95.00
    unmapped = client.get(reverse("dispatch:unbilled") + "?labor=emergency")
    assert {amt for _, amt in _rows(unmapped).values()} == {None}
    assert unmapped.context["work"].amount is None
    html = unmapped.content.decode()
    assert "not mapped to a priced Syncro product" in html
    assert '<td class="num nowrap">—</td>' in html


def test_a_row_bills_what_the_draft_made_from_it_bills(world, recon):
    page = world.client_for(world.billing).get(reverse("dispatch:unbilled"))
    hours, amount = _rows(page)["1001"]
    draft = services.job_draft_billing(
        tenant=world.tenant,
        job=recon.acme_job,
        ticket=recon.acme_ticket,
        labor_type=LaborKind.ONSITE,
        by=world.billing,
    )
    assert draft.minutes == 135
    assert draft_amounts([draft])[draft.pk] == amount


def test_each_row_has_one_secondary_action_and_no_primary_button(world, recon):
    html = world.client_for(world.billing).get(reverse("dispatch:unbilled")).content.decode()
    assert html.count("Draft billing…") == 3
    assert "btn-primary" not in html.split('id="unbilled-results"')[1]
    assert html.count("<progress ") == 2  # hours per technician: Ana and Ben


# --- filters -------------------------------------------------------------------------------------


def test_the_technician_filter_names_mirrored_users_with_finished_jobs(world, recon):
    assert worklist_technicians(world.tenant) == [(21, "Ana Tech"), (22, "Ben Fixer")]
    common = {"tenant": world.tenant, "connection": recon.st}
    SynchroteamUser.objects.create(**common, vendor_id=21, name="Ana Tech-Lopez")
    SynchroteamUser.objects.create(**common, vendor_id=22, name="Ben Fixer", is_deleted=True)
    SynchroteamUser.objects.create(**common, vendor_id=23, name="Cy Idle")  # no finished job
    assert worklist_technicians(world.tenant) == [(21, "Ana Tech-Lopez"), (22, "Ben Fixer")]


@pytest.mark.parametrize(
    "query, nums, hours, amount",
    [
        ("technician=22", {"1002", "1003"}, "1.67", "200.40"),
        ("customer=11", {"1001", "1003"}, "2.92", "350.40"),
        ("start=2026-11-04&end=2026-11-06", {"1002"}, "1.00", "120.00"),
        ("customer=11&start=2026-11-04", {"1003"}, "0.67", "80.40"),
    ],
)
def test_filters_narrow_the_rows_and_the_totals(world, recon, query, nums, hours, amount):
    client = world.client_for(world.billing)
    page = client.get(reverse("dispatch:unbilled") + "?" + query)
    assert set(_rows(page)) == nums
    work = page.context["work"]
    assert (work.hours, work.amount) == (Decimal(hours), Decimal(amount))
    fragment = client.get(reverse("dispatch:unbilled") + "?" + query, HTTP_HX_REQUEST="true")
    assert b"<html" not in fragment.content
    assert set(_rows(fragment)) == nums
    assert f"${amount}".encode() in fragment.content


@pytest.mark.parametrize(
    "query, quoted",
    [
        ("start=2026-13-45", "2026-13-45"),
        ("end=yesterday", "yesterday"),
        ("technician=abc", "abc"),
        ("technician=99999999999999999999999", "99999999999999999999999"),
        ("customer=-1", "-1"),
        ("labor=gold", "gold"),
        ("start=2026-11-09&end=2026-11-01", "2026-11-01"),
    ],
)
def test_a_malformed_filter_is_named_and_left_out_never_a_500(world, recon, query, quoted):
    client = world.client_for(world.billing)
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        page = client.get(reverse("dispatch:unbilled") + "?" + query + "&page=zz", **headers)
        assert page.status_code == 200
        (problem,) = page.context["problems"]
        assert f"“{quoted}”" in problem and "not applied" in problem
        assert escape(problem) in page.content.decode()
    assert len(page.context["work"].rows) >= 1  # the other filters still apply


# --- the customer-mismatch guard -----------------------------------------------------------------


def _post(world, job, **data):
    url = reverse("dispatch:draft_billing", args=[job.vendor_id])
    return world.client_for(world.billing).post(url, {"labor_type": "onsite", **data})


def test_another_customers_ticket_is_refused_without_confirmation_and_keeps_the_form(world, recon):
    response = _post(world, recon.acme_job, ticket="9002")
    assert response.status_code == 200
    assert not BillingDraft.objects.filter(tenant=world.tenant).exists()
    html = response.content.decode()
    assert "Acme Dental" in html and "Birch Bakery" in html
    assert "I confirm this job is billed to Birch Bakery" in html
    assert "No draft was created" in html and html.count("but the ticket is for") == 1
    assert 'name="confirm_customer" value="9002"' in html
    assert '<option value="9002" selected>' in html  # what was chosen is kept
    assert '<option value="onsite" selected>' in html


def test_a_confirmation_made_for_another_ticket_does_not_count(world, recon):
    response = _post(world, recon.acme_job, ticket="9002", confirm_customer="9001")
    assert response.status_code == 200
    assert not BillingDraft.objects.filter(tenant=world.tenant).exists()


def test_a_confirmed_mismatch_creates_the_draft_and_the_audit_names_both_customers(world, recon):
    response = _post(world, recon.acme_job, ticket="9002", confirm_customer="9002")
    assert response.status_code == 302
    draft = BillingDraft.objects.get(tenant=world.tenant)
    assert (draft.ticket_vendor_id, draft.customer_name, draft.minutes) == (
        9002,
        "Birch Bakery",
        135,
    )
    event = ApprovalEvent.objects.get(draft=draft, kind=ApprovalEvent.Kind.DRAFTED)
    assert "Customer mismatch confirmed" in event.note
    assert "Acme Dental" in event.note and "Birch Bakery" in event.note
    assert event.actor == world.billing
    assert event.after["customer_mismatch"] == {
        "synchroteam_job_id": 101,
        "synchroteam_customer_id": 11,
        "synchroteam_customer": "Acme Dental",
        "matched_syncro_customer_id": 501,
        "syncro_customer_id": 502,
        "syncro_customer": "Birch Bakery",
        "confirmed_by": world.billing.pk,
    }
    assert event.after["minutes"] == 135  # the draft's own snapshot is still there
    draft_page = world.client_for(world.owner).get(
        reverse("billing:draft_detail", args=[draft.uuid])
    )
    assert "Customer mismatch confirmed" in draft_page.content.decode()


def test_the_same_customers_ticket_needs_no_confirmation(world, recon):
    response = _post(world, recon.acme_job, ticket="9001")
    assert response.status_code == 302
    draft = BillingDraft.objects.get(tenant=world.tenant)
    assert draft.ticket_vendor_id == 9001
    event = ApprovalEvent.objects.get(draft=draft, kind=ApprovalEvent.Kind.DRAFTED)
    assert event.note == "" and "customer_mismatch" not in event.after


def test_the_guard_is_in_the_service_not_only_the_page(world, recon):
    with pytest.raises(services.CustomerMismatch) as refused:
        services.job_draft_billing(
            tenant=world.tenant,
            job=recon.birch_job,
            ticket=recon.acme_ticket,
            labor_type=LaborKind.ONSITE,
            by=world.billing,
        )
    assert "Birch Bakery" in str(refused.value) and "Acme Dental" in str(refused.value)
    assert not BillingDraft.objects.exists()


def test_without_a_syncro_customer_of_that_name_the_names_decide(world, recon):
    SyncroCustomer.objects.filter(tenant=world.tenant).delete()
    assert not customer_check(
        tenant=world.tenant, job=recon.acme_job, ticket=recon.acme_ticket
    ).differs
    assert customer_check(
        tenant=world.tenant, job=recon.acme_job, ticket=recon.birch_ticket
    ).differs


def test_the_warning_shows_as_soon_as_another_customers_ticket_is_chosen(world, recon):
    client = world.client_for(world.billing)
    url = reverse("dispatch:draft_billing", args=[recon.acme_job.vendor_id])
    page = client.get(url).content.decode()
    assert 'hx-get="' + url + '?part=guard"' in page and 'id="customer-guard"' in page
    other = client.get(url + "?part=guard&ticket=9002", HTTP_HX_REQUEST="true").content.decode()
    assert "Different customer" in other and 'name="confirm_customer" value="9002"' in other
    same = client.get(url + "?part=guard&ticket=9001", HTTP_HX_REQUEST="true").content.decode()
    assert "confirm_customer" not in same and "the job's customer" in same
    for odd in ("abc", "99999999999999999999999", "", "9002&ticket=x"):
        answer = client.get(url + "?part=guard&ticket=" + odd, HTTP_HX_REQUEST="true")
        assert answer.status_code == 200
    outsider = world.client_for(world.outsider)
    assert outsider.get(url + "?part=guard&ticket=9002", HTTP_HX_REQUEST="true").status_code == 404


def test_the_ticket_list_puts_the_jobs_customer_first_and_groups_the_others(world, recon):
    html = (
        world.client_for(world.billing)
        .get(reverse("dispatch:draft_billing", args=[recon.acme_job.vendor_id]))
        .content.decode()
    )
    own, others = html.index("Tickets of Acme Dental"), html.index("Other customers")
    assert own < html.index('value="9001"') < others < html.index('value="9002"')


def test_after_drafting_the_worklist_keeps_its_filters_and_the_job_leaves_it(world, recon):
    response = _post(world, recon.acme_job, ticket="9001", back="customer=11&labor=remote&x=1")
    assert response["Location"] == reverse("dispatch:unbilled") + "?customer=11&labor=remote"
    page = world.client_for(world.billing).get(response["Location"])
    assert set(_rows(page)) == {"1003"}


def test_the_customer_filter_is_a_search_linking_back_to_the_worklist(world, recon):
    client = world.client_for(world.billing)
    page = client.get(reverse("dispatch:unbilled")).content.decode()
    assert 'name="customer_q"' in page and '<select name="customer"' not in page
    assert "target=unbilled" in page
    SynchroteamCustomer.objects.create(
        tenant=world.tenant, connection=recon.st, vendor_id=11, name="Acme Dental"
    )
    found = client.get(
        reverse("dispatch:customer_search"),
        {"customer_q": "acme", "target": "unbilled", "technician": "21"},
    ).content.decode()
    assert escape(reverse("dispatch:unbilled") + "?technician=21&customer=11") in found
    # the job list's search still links to the job list, and an unknown target falls back to it
    for target in ("", "jobs", "https://evil.example"):
        other = client.get(
            reverse("dispatch:customer_search"), {"customer_q": "acme", "target": target}
        ).content.decode()
        assert escape(reverse("dispatch:job_list") + "?customer=11") in other
    chosen = client.get(reverse("dispatch:unbilled"), {"customer": "11"})
    assert {r.job.num for r in chosen.context["work"].rows} == {"1001", "1003"}
    assert "Customer: <strong>Acme Dental</strong>" in chosen.content.decode()
    unknown = client.get(reverse("dispatch:unbilled"), {"customer": "77"})
    assert "No customer of this company" in unknown.context["problems"][0]
    assert len(unknown.context["work"].rows) == 3


def test_a_customer_without_a_mirrored_record_stays_filtered_and_htmx_skips_the_search(
    world, recon
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = world.client_for(world.billing)
    page = client.get(reverse("dispatch:unbilled"), {"customer": "11"}).content.decode()
    # no SynchroteamCustomer 11 here: the filter still rides in the form and is named
    assert 'type="hidden" name="customer" value="11"' in page and "Customer: <strong>#11" in page
    with CaptureQueriesContext(connection) as queries:
        fragment = client.get(
            reverse("dispatch:unbilled"),
            {"customer": "11", "customer_q": "ac"},
            HTTP_HX_REQUEST="true",
        )
    assert fragment.status_code == 200 and "customer-options" not in fragment.content.decode()
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "synchroteam_synchroteamcustomer" not in sql


# --- the cached snapshot -------------------------------------------------------------------------


def _computed(ctx) -> bool:
    """Whether the captured queries computed the unbilled snapshot (they read activities)."""
    return any("synchroteam_synchroteamactivity" in q["sql"] for q in ctx.captured_queries)


def test_a_job_drafted_from_the_worklist_leaves_it_at_once_without_recomputing(world, recon):
    client = world.client_for(world.billing)
    assert set(_rows(client.get(reverse("dispatch:unbilled")))) == {"1001", "1002", "1003"}
    assert _post(world, recon.acme_job, ticket="9001").status_code == 302
    with CaptureQueriesContext(db) as ctx:
        page = client.get(reverse("dispatch:unbilled"))
    assert set(_rows(page)) == {"1002", "1003"}
    assert page.context["work"].hours == Decimal("1.67")  # the totals follow: 1.00 + 0.67
    assert not _computed(ctx)


def test_a_rejected_draft_brings_its_job_back_on_the_next_view(world, recon):
    from billing.services import draft_reject

    client = world.client_for(world.billing)
    _post(world, recon.birch_job, ticket="9002")
    assert set(_rows(client.get(reverse("dispatch:unbilled")))) == {"1001", "1003"}
    draft = BillingDraft.objects.get(tenant=world.tenant)
    draft_reject(draft=draft, by=world.owner, reason="Wrong ticket")
    with CaptureQueriesContext(db) as ctx:
        page = client.get(reverse("dispatch:unbilled"))
    assert set(_rows(page)) == {"1001", "1002", "1003"}
    assert _computed(ctx)
