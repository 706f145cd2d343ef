"""The job list's search (`dispatch.selectors.jobs_filtered`, ``q``): number, myId, or text of
the description or customer name, case-insensitive, live jobs of the company only; on SQLite
through the FTS5 trigram table the triggers keep (migration synchroteam 0008), on PostgreSQL
through ILIKE and its trigram indexes. Every case runs on both databases.
"""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.models import Vendor
from connectors.models import Connection
from connectors.synchroteam.models import SynchroteamJob
from dispatch import selectors


def _job(conn, vid, num, description, customer, **extra) -> SynchroteamJob:
    return SynchroteamJob.objects.create(
        tenant=conn.tenant,
        connection=conn,
        vendor_id=vid,
        num=num,
        status="scheduled",
        description=description,
        customer_name=customer,
        **extra,
    )


@pytest.fixture
def jobs(world):
    st = Connection.objects.create(tenant=world.tenant, vendor=Vendor.SYNCHROTEAM, account="a")
    other = Connection.objects.create(
        tenant=world.other_tenant, vendor=Vendor.SYNCHROTEAM, account="b"
    )
    _job(st, 1, "1001", "Replace the boiler valve", "Acme Dental")
    _job(st, 2, "1002", "Annual inspection", "Birch Bakery", my_id="PO-77")
    _job(st, 3, "1003", 'Fix the "quoted" sign', "Café Noël")
    _job(st, 4, "1004", "Boiler service", "Acme Dental", is_deleted=True)
    _job(other, 5, "1005", "Boiler check at another company", "Other Co")
    return st


def _found(world, q: str) -> set[str]:
    rows = selectors.jobs_filtered(tenant=world.tenant, filters={"q": q})
    return {j.num for j in rows}


@pytest.mark.parametrize(
    ("q", "nums"),
    [
        ("boiler", {"1001"}),  # a word in the middle, another case; not the deleted or others'
        ("BOILER VALVE", {"1001"}),
        ("acme", {"1001"}),  # the customer name
        ("1002", {"1002"}),  # the number
        ("PO-77", {"1002"}),  # the myId
        ('"quoted"', {"1003"}),  # double quotes are text, not FTS syntax
        ("Noël", {"1003"}),
        ("in", {"1002"}),  # under 3 characters: the LIKE path ("Annual inspection")
        ("valve boiler", set()),  # a phrase, in order
        ("NEAR(boiler valve)", set()),  # FTS operators are text too
    ],
)
def test_the_search_finds_numbers_and_text_of_the_companys_live_jobs(world, jobs, q, nums):
    assert _found(world, q) == nums


def test_an_edited_description_is_found_by_its_new_text_only(world, jobs):
    job = SynchroteamJob.objects.get(connection=jobs, vendor_id=2)
    job.description = "Chimney sweep"
    job.save()
    SynchroteamJob.objects.filter(pk=job.pk).update(customer_name="Cedar Clinic")  # as an upsert
    assert _found(world, "chimney") == {"1002"}
    assert _found(world, "inspection") == set()
    assert _found(world, "cedar") == {"1002"}
    assert _found(world, "birch") == set()


def _listed(world, q: str) -> tuple[list[str], str]:
    rows = selectors.jobs_filtered(tenant=world.tenant, filters={"q": q})
    return [j.num for j in rows], str(rows.query)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's two plans")
def test_a_search_matching_most_jobs_walks_the_list_order_and_finds_the_same(
    world, jobs, monkeypatch
):
    queries = ("boiler", "acme", "the", "service")
    rare = {q: _listed(world, q) for q in queries}
    monkeypatch.setattr(selectors, "JOB_FTS_COMMON", 0)  # every text match counts as common
    common = {q: _listed(world, q) for q in queries}
    assert {q: r[0] for q, r in common.items()} == {q: r[0] for q, r in rare.items()}
    assert set(rare["the"][0]) == {"1001", "1003"} and rare["service"][0] == []  # one deleted
    walk = '+"synchroteam_synchroteamjob".id IN (SELECT'  # the probe that keeps the date order
    assert not any(walk in sql for _, sql in rare.values())
    assert all(walk in sql for _, sql in common.values())


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's full-text table")
def test_the_full_text_table_and_its_triggers_exist(db):
    with connection.cursor() as cur:
        cur.execute("SELECT type, name FROM sqlite_master WHERE name LIKE 'synchroteam_job_fts%'")
        found = set(cur.fetchall())
    assert {
        ("table", "synchroteam_job_fts"),
        ("trigger", "synchroteam_job_fts_ai"),
        ("trigger", "synchroteam_job_fts_ad"),
        ("trigger", "synchroteam_job_fts_au"),
    } <= found, "a migration rebuilt the job table: run 0008's create() again (its docstring)"


@pytest.mark.parametrize(
    "q", ["\x00abc", 'ab"', '"""', "* OR 1", "☃☃☃", "a" * 100, "NEAR(", "^abc", "abc\\"]
)
def test_an_odd_search_lists_or_names_it_never_a_500(world, jobs, q):
    from django.urls import reverse

    page = world.client_for(world.owner).get(reverse("dispatch:job_list"), {"q": q})
    assert page.status_code == 200
