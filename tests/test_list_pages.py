"""The list pages at scale (issue 14): their query counts do not grow with the records, no list
page counts a whole table (``SELECT COUNT(*)`` without a ``LIMIT`` under it), the unbilled tag
matching, and the job list's customer search (tenant isolation, odd input).

No timings here (speed is measured in ``benchmarks/pages_bench.py``); these count queries.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from itertools import count

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Vendor
from accounts.paging import COUNT_CAP, CappedPaginator
from billing.models import BillingDraft
from connectors.job_tags import tag_columns, tags_in
from connectors.models import Connection, RequestUsage
from connectors.synchroteam.models import (
    SynchroteamActivity,
    SynchroteamCustomer,
    SynchroteamJob,
    SynchroteamUser,
)
from connectors.syncro.mapping import map_line_item
from connectors.syncro.models import SyncroLineItem, SyncroTicket
from dispatch.reconciliation import unbilled_jobs
from dispatch.selectors import status_counts

_ids = count(1000)
COUNT_CALL = re.compile(r"\bCOUNT\(", re.IGNORECASE)
BOUNDED = re.compile(r"\bLIMIT\b|\bIN \(\d+(?:, \d+)*\)", re.IGNORECASE)


def unbounded_counts(queries) -> list[str]:
    """The queries of `queries` with a ``COUNT(`` (grouped ones too) and no ``LIMIT`` nor
    ``IN (ids…)`` list after it (a capped count reads ``SELECT COUNT(*) FROM (SELECT … LIMIT
    1001) subquery``; a per-row figure counts the rows of one page, named by id)."""
    out = []
    for q in queries:
        sql = q["sql"]
        m = COUNT_CALL.search(sql)
        if m and not BOUNDED.search(sql[m.end() :]):
            out.append(sql)
    return out


class Mirror:
    """One tenant's Synchroteam and Syncro mirror that grows on demand."""

    def __init__(self, tenant):
        self.tenant = tenant
        # usage rows count back from one fixed minute (unique per scope, connection, minute):
        # an `add` in the next minute must not land on a minute an earlier `add` used
        self.minute = timezone.now().replace(second=0, microsecond=0)
        self.st = Connection.objects.create(tenant=tenant, vendor=Vendor.SYNCHROTEAM, account="a")
        self.sx = Connection.objects.create(tenant=tenant, vendor=Vendor.SYNCRO, account="a")
        self.tech = SynchroteamUser.objects.create(
            tenant=tenant, connection=self.st, vendor_id=501, name="Ana Tech", profile="tech"
        )

    def add(self, n: int, *, drafter=None) -> None:
        """`n` more of everything: customers, jobs (scheduled today, half of them finished and
        unbilled, a line item naming some), tickets, billing drafts and usage rows."""
        now = timezone.now()
        t, st, sx = self.tenant, self.st, self.sx
        for _ in range(n):
            i = next(_ids)
            SynchroteamCustomer.objects.create(
                tenant=t, connection=st, vendor_id=i, name=f"Client {i}"
            )
            done = i % 2 == 0
            job = SynchroteamJob.objects.create(
                tenant=t,
                connection=st,
                vendor_id=i,
                num=str(i),
                status="completed" if done else "scheduled",
                customer_vendor_id=i,
                customer_name=f"Client {i}",
                technician_vendor_id=501,
                technician_name="Ana Tech",
                scheduled_start=now,
                scheduled_end=now + dt.timedelta(hours=1),
                actual_start=now if done else None,
                actual_end=now + dt.timedelta(hours=1) if done else None,
                raw={"site": {"name": "Main"}},
            )
            if done:
                SynchroteamActivity.objects.create(
                    tenant=t,
                    connection=st,
                    vendor_id=i,
                    type="work",
                    user_vendor_id=501,
                    job_vendor_id=job.vendor_id,
                    start=now,
                    end=now + dt.timedelta(minutes=30),
                )
            if i % 4 == 0:
                SyncroLineItem.objects.create(
                    tenant=t, connection=sx, vendor_id=i, name=f"Labor [ST-JOB {i}]"
                )
            SyncroTicket.objects.create(
                tenant=t,
                connection=sx,
                vendor_id=i,
                number=str(i),
                subject=f"Printer {i}",
                status="New",
                customer_name=f"Client {i}",
                vendor_created_at=now,
            )
            if drafter is not None:
                BillingDraft.objects.create(
                    tenant=t,
                    connection=sx,
                    ticket_vendor_id=i,
                    ticket_number=str(i),
                    drafted_by=drafter,
                    minutes=30,
                    labor_type="onsite",
                    product_vendor_id=1,
                    product_name="Labor",
                    comment_subject="Labor",
                    comment_body="Work",
                    comment_hidden=False,
                    comment_do_not_email=True,
                    line_description="Work",
                )
            for conn in (st, sx):
                RequestUsage.objects.create(
                    scope=f"{conn.vendor}:test",
                    connection=conn,
                    minute=self.minute - dt.timedelta(minutes=i),
                    requests=3,
                )


@pytest.fixture
def mirror(world) -> Mirror:
    return Mirror(world.tenant)


PAGES = [
    ("dispatch:unbilled", {}),
    ("dispatch:job_list", {}),
    ("dispatch:job_list", {"status": "completed"}),
    ("dispatch:job_list", {"customer_q": "Client"}),
    ("dispatch:board", {}),
    ("billing:ticket_list", {}),
    ("billing:ticket_list", {"q": "printer"}),
    ("billing:ticket_list", {"page": "2"}),
    ("billing:queue", {}),
    ("connectors:integrations", {}),
]


def _queries(client, name: str, params: dict) -> list[dict]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(name), params)
    assert response.status_code == 200, (name, params, response.status_code)
    return list(ctx.captured_queries)


@pytest.mark.parametrize("name,params", PAGES)
def test_a_list_page_costs_the_same_queries_for_four_records_and_for_forty(
    world, mirror, name, params
):
    client = world.client_for(world.owner)
    mirror.add(4, drafter=world.billing)  # at least one of each kind of row
    client.get(reverse(name), params)  # per-tenant caches filled once
    few = _queries(client, name, params)
    mirror.add(40, drafter=world.billing)
    client.get(reverse(name), params)
    many = _queries(client, name, params)
    assert len(many) == len(few), [q["sql"][:160] for q in many]


@pytest.mark.parametrize("name,params", PAGES)
def test_no_list_page_counts_a_whole_table(world, mirror, name, params):
    mirror.add(3, drafter=world.billing)
    found = unbounded_counts(_queries(world.client_for(world.owner), name, params))
    assert found == []


def test_the_count_check_catches_the_paginator_count_it_replaced(world, mirror):
    """The check above can fail: Django's own `Paginator` is what the pages used before."""
    mirror.add(2)
    tickets = SyncroTicket.objects.filter(tenant=world.tenant)
    with CaptureQueriesContext(connection) as ctx:
        assert Paginator(tickets, 25).count == 2
    assert len(unbounded_counts(ctx.captured_queries)) == 1
    with CaptureQueriesContext(connection) as ctx:
        assert CappedPaginator(tickets, 25).count == 2
    assert unbounded_counts(ctx.captured_queries) == []


def test_the_count_check_catches_a_grouped_count_too(world, mirror):
    """The job list's status bars were one ``GROUP BY status`` count of every job."""
    mirror.add(2)
    jobs = SynchroteamJob.objects.filter(tenant=world.tenant)
    with CaptureQueriesContext(connection) as ctx:
        list(jobs.order_by().values("status").annotate(n=Count("*")))
    assert len(unbounded_counts(ctx.captured_queries)) == 1


def test_the_status_bars_count_each_status_up_to_the_cap_in_one_query(world, mirror):
    mirror.add(12)  # even ids completed, odd ones scheduled (6 each), all scheduled now
    with CaptureQueriesContext(connection) as ctx:
        counts = {c.status: (c.n, c.label) for c in status_counts(tenant=world.tenant, cap=4)}
    assert len(ctx.captured_queries) == 1 and unbounded_counts(ctx.captured_queries) == []
    assert counts["completed"] == counts["scheduled"] == (5, "4+")
    assert counts["started"] == (0, "0")
    exact = {c.status: c.label for c in status_counts(tenant=world.tenant)}
    assert (exact["completed"], exact["scheduled"], exact["cancelled"]) == ("6", "6", "0")


def test_the_status_bars_count_recent_upcoming_and_unscheduled_jobs_not_history(world, mirror):
    mirror.add(4)  # 2 completed, 2 scheduled, now
    jobs = SynchroteamJob.objects.filter(tenant=world.tenant)
    old, unscheduled = jobs.filter(status="completed")[:2]
    jobs.filter(pk=old.pk).update(scheduled_start=timezone.now() - dt.timedelta(days=90))
    jobs.filter(pk=unscheduled.pk).update(scheduled_start=None)
    gone = jobs.filter(status="scheduled").first()
    jobs.filter(pk=gone.pk).update(is_deleted=True)
    counts = {c.status: c.n for c in status_counts(tenant=world.tenant)}
    assert (counts["completed"], counts["scheduled"]) == (1, 1)  # not the old one, not deleted
    since = timezone.now() - dt.timedelta(days=120)
    counts = {c.status: c.n for c in status_counts(tenant=world.tenant, since=since)}
    assert counts["completed"] == 2


def test_a_capped_list_says_more_and_still_opens_deep_pages(world, mirror):
    mirror.add(7)
    tickets = SyncroTicket.objects.filter(tenant=world.tenant).order_by("vendor_id")
    pages = CappedPaginator(tickets, 2, cap=5)
    assert pages.capped and pages.count == 5 and pages.count_label == "5+"
    assert pages.num_pages is None
    last = pages.get_page(4)  # past the counted 5 rows: rows 7 (of 7)
    assert [t.vendor_id for t in last] == [tickets[6].vendor_id]
    assert not last.has_next() and last.has_previous()
    assert pages.get_page(3).has_next()
    assert pages.get_page(99).number == 1  # past the end: the first page, never an error
    assert pages.get_page("x").number == 1
    exact = CappedPaginator(tickets, 2, cap=COUNT_CAP)
    assert not exact.capped and exact.count == 7 and exact.num_pages == 4


def test_the_ticket_list_past_the_cap_shows_the_capped_count_and_page_numbers(
    world, mirror, settings
):
    mirror.add(3)
    settings.LIST_COUNT_CAP = 2
    client = world.client_for(world.billing)
    page = client.get(reverse("billing:ticket_list"), {"page": "2", "per": "25"})
    assert page.status_code == 200
    assert b"2+ tickets" in page.content
    assert b"Last" not in page.content  # the last page is not known


# --- the unbilled tag matching ------------------------------------------------------------------


def test_tags_are_found_once_each_in_order_also_overlapping_and_bracketed_ones():
    assert tags_in("Labor [ST-JOB 12] and [ST-JOB 7] [ST-JOB 12]") == ["[ST-JOB 12]", "[ST-JOB 7]"]
    assert tags_in("[ST-JOB [ST-JOB 5]") == ["[ST-JOB [ST-JOB 5]", "[ST-JOB 5]"]
    assert tags_in("[ST-JOB a]b] done") == ["[ST-JOB a]", "[ST-JOB a]b]"]
    assert tags_in("[ST-JOB 12") == []
    assert tags_in("[ST-JOB 1\n2]") == []  # no job number holds a line break
    far = "[ST-JOB 9]" + "x" * 80 + "]"
    assert tags_in(far) == ["[ST-JOB 9]"]  # a "]" past the longest job number ends nothing


def test_the_first_tag_is_indexed_and_the_others_kept_one_per_line():
    assert tag_columns("Labor", "") == {"job_tag": "", "job_tags_more": ""}
    assert tag_columns("Labor [ST-JOB 10]", "and [ST-JOB 100]") == {
        "job_tag": "[ST-JOB 10]",
        "job_tags_more": "[ST-JOB 100]",
    }


def test_the_syncro_mapping_extracts_the_tags_of_name_and_description():
    mapped = map_line_item({"id": 5, "name": "Labor", "description": "Visit [ST-JOB 77]"})
    assert (mapped["job_tag"], mapped["job_tags_more"]) == ("[ST-JOB 77]", "")


def test_a_line_item_naming_two_jobs_and_a_bracketed_number_bills_them_all(world, mirror):
    mirror.add(16)
    done = list(
        SynchroteamJob.objects.filter(tenant=world.tenant, status="completed").order_by("pk")
    )
    untagged = [j for j in done if int(j.num) % 4 != 0]
    first, second, odd = untagged[:3]
    odd.num = "A]7"
    odd.save()
    SyncroLineItem.objects.create(
        tenant=world.tenant,
        connection=mirror.sx,
        vendor_id=next(_ids),
        name=f"Labor [ST-JOB {first.num}] [ST-JOB {second.num}] [ST-JOB A]7]",
    )
    left = set(unbilled_jobs(tenant=world.tenant).values_list("pk", flat=True))
    assert left == {j.pk for j in untagged} - {first.pk, second.pk, odd.pk}
    assert left  # some jobs stay unbilled: the rule still selects


def test_editing_a_drafts_line_description_moves_its_tag(world, mirror):
    mirror.add(4)
    job = unbilled_jobs(tenant=world.tenant).first()
    draft = _draft(world, mirror, f"Work [ST-JOB {job.num}]", "pending")
    assert job.pk not in set(unbilled_jobs(tenant=world.tenant).values_list("pk", flat=True))
    draft.line_description = "Work, no tag"
    draft.save(update_fields=["line_description"])
    draft.refresh_from_db()
    assert draft.job_tag == ""
    assert job.pk in set(unbilled_jobs(tenant=world.tenant).values_list("pk", flat=True))


def _draft(world, mirror, line_description: str, decision: str) -> BillingDraft:
    return BillingDraft.objects.create(
        tenant=world.tenant,
        connection=mirror.sx,
        ticket_vendor_id=1,
        drafted_by=world.billing,
        minutes=30,
        labor_type="onsite",
        product_vendor_id=1,
        product_name="Labor",
        comment_subject="Labor",
        comment_body="Work",
        comment_hidden=False,
        comment_do_not_email=True,
        line_description=line_description,
        decision=decision,
    )


def test_a_job_named_by_a_line_item_name_or_description_or_a_live_draft_is_not_unbilled(
    world, mirror
):
    mirror.add(12)  # even ids finished, every fourth tagged by a line item's name
    done = list(
        SynchroteamJob.objects.filter(tenant=world.tenant, status="completed").order_by("pk")
    )
    by_name = {j.pk for j in done if int(j.num) % 4 == 0}
    in_description, drafted, rejected = [j for j in done if j.pk not in by_name][:3]
    SyncroLineItem.objects.create(
        tenant=world.tenant,
        connection=mirror.sx,
        vendor_id=next(_ids),
        name="Labor",
        raw={"description": f"Visit [ST-JOB {in_description.num}]"},
    )
    for job, decision in ((drafted, "pending"), (rejected, "rejected")):
        _draft(world, mirror, f"Work [ST-JOB {job.num}]", decision)
    left = set(unbilled_jobs(tenant=world.tenant).values_list("pk", flat=True))
    assert left == {j.pk for j in done} - by_name - {in_description.pk, drafted.pk}
    with_drafted = set(
        unbilled_jobs(tenant=world.tenant, include_drafted=True).values_list("pk", flat=True)
    )
    assert with_drafted == left | {drafted.pk}


# --- the job list's customer search -------------------------------------------------------------


def _search(client, text):
    return client.get(reverse("dispatch:customer_search"), {"customer_q": text})


def test_the_customer_search_answers_about_twenty_of_this_companys_customers(world, mirror):
    mirror.add(25)
    other = Mirror(world.other_tenant)
    SynchroteamCustomer.objects.create(
        tenant=world.other_tenant, connection=other.st, vendor_id=1, name="Client Elsewhere"
    )
    page = _search(world.client_for(world.tech), "client")
    assert page.status_code == 200
    assert page.content.count(b"customer=") == 20
    assert b"type more of the name" in page.content
    assert b"Elsewhere" not in page.content
    assert b"Elsewhere" in _search(world.client_for(world.outsider), "client").content


@pytest.mark.parametrize(
    "text",
    ["x" * 10_000, "\x00", "%", "_", "'; DROP TABLE x; --", "Ã©\ufffd\u202e", " "],
)
def test_odd_customer_search_input_is_answered_never_a_500(world, mirror, text):
    mirror.add(2)
    client = world.client_for(world.tech)
    page = _search(client, text)
    assert page.status_code == 200
    jobs = client.get(reverse("dispatch:job_list"), {"customer_q": text, "q": text})
    assert jobs.status_code == 200


def test_random_bytes_in_the_query_string_are_no_500(world, mirror):
    import random

    rng = random.Random(3)
    client = world.client_for(world.tech)
    for _ in range(20):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 60)))
        query = "".join(f"%{b:02X}" for b in raw)
        for name in ("dispatch:customer_search", "dispatch:job_list"):
            url = f"{reverse(name)}?customer_q={query}&customer={query}"
            assert client.get(url).status_code == 200, url


def test_the_customer_filter_takes_this_companys_id_and_names_a_foreign_one(world, mirror):
    mirror.add(4)
    client = world.client_for(world.tech)
    ours = SynchroteamJob.objects.filter(tenant=world.tenant).first()
    page = client.get(reverse("dispatch:job_list"), {"customer": ours.customer_vendor_id})
    assert page.status_code == 200
    assert f"Customer: <strong>{ours.customer_name}</strong>".encode() in page.content
    assert b">1 job<" in page.content
    other = Mirror(world.other_tenant)
    theirs = SynchroteamCustomer.objects.create(
        tenant=world.other_tenant, connection=other.st, vendor_id=999_999, name="Secret Corp"
    )
    for value in (theirs.vendor_id, 12_345_678, "abc", "9" * 40, "-1"):
        page = client.get(reverse("dispatch:job_list"), {"customer": value})
        assert page.status_code == 200, value
        assert b"Secret Corp" not in page.content
        assert b"not applied" in page.content, value
        assert b"4 jobs" in page.content, value  # the rest of the list, unfiltered


def test_the_migrations_fill_the_tags_of_rows_written_before_them(world, mirror):
    from importlib import import_module

    from django.apps import apps

    line = SyncroLineItem(
        tenant=world.tenant,
        connection=mirror.sx,
        vendor_id=next(_ids),
        name="Labor",
        raw={"description": "[ST-JOB 5] and [ST-JOB 6]"},
    )
    SyncroLineItem.objects.bulk_create([line])  # no save(): the columns stay empty
    draft = _draft(world, mirror, "Work [ST-JOB 8]", "pending")
    BillingDraft.objects.filter(pk=draft.pk).update(job_tag="")
    import_module("connectors.syncro.migrations.0005_job_tags").fill_job_tags(apps, None)
    import_module("billing.migrations.0004_job_tags").fill_job_tags(apps, None)
    line = SyncroLineItem.objects.get(vendor_id=line.vendor_id)
    assert (line.job_tag, line.job_tags_more) == ("[ST-JOB 5]", "[ST-JOB 6]")
    assert BillingDraft.objects.get(pk=draft.pk).job_tag == "[ST-JOB 8]"


def test_past_the_cap_the_queue_totals_say_they_are_of_the_first_drafts(world, mirror, settings):
    mirror.add(3, drafter=world.billing)  # three pending drafts of 30 minutes
    settings.LIST_COUNT_CAP = 2
    page = world.client_for(world.owner).get(
        reverse("billing:queue"), {"status": "pending", "filtered": "1"}
    )
    totals = page.context["totals"]
    assert (totals.count, totals.hours, totals.capped) == (2, Decimal("1.00"), True)
    assert "2+ drafts · the first 2: 1.00 h" in " ".join(page.content.decode().split())
    settings.LIST_COUNT_CAP = 1000
    page = world.client_for(world.owner).get(
        reverse("billing:queue"), {"status": "pending", "filtered": "1"}
    )
    assert (page.context["totals"].count, page.context["totals"].capped) == (3, False)


def test_the_queue_stat_cards_stop_counting_at_their_cap(world, mirror, monkeypatch):
    from billing import views

    mirror.add(3, drafter=world.billing)
    assert views._queue_counts(world.tenant)["pending_label"] == "3"
    monkeypatch.setattr(views, "QUEUE_COUNT_CAP", 2)
    counts = views._queue_counts(world.tenant)
    assert (counts["pending"], counts["pending_label"], counts["sending_label"]) == (3, "2+", "0")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
@pytest.mark.parametrize(
    "filters",
    [{}, {"status": "Not Closed"}, {"q": "printer"}, {"status": "In Progress", "q": "vpn"}],
    ids=["none", "not-closed", "text", "status-and-text"],
)
def test_the_ticket_list_reads_its_index_in_order_instead_of_sorting(world, mirror, filters):
    """The page query walks (tenant, is_deleted, -created, -id) and stops at the page: no
    temporary B-tree sorting every live ticket (``NOT is_deleted`` led SQLite to one)."""
    from billing.selectors import TicketFilters, ticket_queryset

    mirror.add(4)
    sql, params = ticket_queryset(world.tenant, TicketFilters(**filters))[
        :26
    ].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " / ".join(row[3] for row in cursor.fetchall())
    assert "sx_tkt_lst (tenant_id=? AND is_deleted=?)" in plan or "sx_tkt_st" in plan, plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan, plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
def test_the_unbilled_filter_reads_the_unbilled_timers_index(world, mirror):
    from billing.selectors import TicketFilters, ticket_queryset

    mirror.add(4)
    qs = ticket_queryset(world.tenant, TicketFilters(unbilled=True))
    sql, params = qs[:26].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " / ".join(row[3] for row in cursor.fetchall())
    assert "sx_tmr_unb" in plan, plan


def test_the_unbilled_count_is_the_number_of_tickets_the_filter_lists(world, mirror, settings):
    """Counted from the unbilled timers (one per ticket, however many timers it has), with the
    other filters applied: the same number as the listed tickets, and capped like any list."""
    from connectors.syncro.models import SyncroTimerEntry

    mirror.add(6)
    tickets = list(SyncroTicket.objects.filter(tenant=world.tenant).order_by("vendor_id"))
    SyncroTicket.objects.filter(pk=tickets[1].pk).update(status="In Progress")
    SyncroTicket.objects.filter(pk=tickets[2].pk).update(is_deleted=True)
    timers = [
        (tickets[0], True, False),
        (tickets[0], True, False),  # a second unbilled timer: still one ticket
        (tickets[1], True, False),
        (tickets[2], True, False),  # a deleted ticket's: not listed, not counted
        (tickets[3], True, True),  # charged already
        (tickets[4], False, False),  # not billable
    ]
    for i, (ticket, billable, recorded) in enumerate(timers):
        SyncroTimerEntry.objects.create(
            tenant=world.tenant,
            connection=mirror.sx,
            vendor_id=90_000 + i,
            ticket_vendor_id=ticket.vendor_id,
            billable=billable,
            recorded=recorded,
            active_duration=600,
        )
    client = world.client_for(world.owner)
    for params, expected in [
        ({"unbilled": "on"}, {tickets[0].vendor_id, tickets[1].vendor_id}),
        ({"unbilled": "on", "status": "In Progress"}, {tickets[1].vendor_id}),
        ({"unbilled": "on", "status": "Closed"}, set()),
    ]:
        page = client.get(reverse("billing:ticket_list"), params).context["page"]
        listed = {t.vendor_id for t in page.object_list}
        assert listed == expected, params
        assert page.paginator.count == len(expected), params
    settings.LIST_COUNT_CAP = 1
    page = client.get(reverse("billing:ticket_list"), {"unbilled": "on"}).context["page"]
    assert (page.paginator.count, page.paginator.capped, page.paginator.count_label) == (
        1,
        True,
        "1+",
    )
