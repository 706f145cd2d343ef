"""The ticket list's search (`billing.selectors.ticket_queryset`, ``q``): a substring of the
number, subject or customer name, case-insensitive, live tickets of the company only; on
SQLite through the FTS5 trigram table its triggers keep (migration syncro 0008,
`connectors.fts`), on PostgreSQL through ILIKE and its trigram indexes. Every case runs on
both databases.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import Vendor
from billing import selectors
from connectors import fts
from connectors.models import Connection
from connectors.syncro.models import SyncroTicket


def _ticket(conn, vid, number, subject, customer, **extra) -> SyncroTicket:
    return SyncroTicket.objects.create(
        tenant=conn.tenant,
        connection=conn,
        vendor_id=vid,
        number=number,
        status="New",
        subject=subject,
        customer_name=customer,
        **extra,
    )


@pytest.fixture
def tickets(world):
    sx = Connection.objects.create(tenant=world.tenant, vendor=Vendor.SYNCRO, account="a")
    other = Connection.objects.create(tenant=world.other_tenant, vendor=Vendor.SYNCRO, account="b")
    _ticket(sx, 1, "32164", "Printer jams on tray 2", "Acme Dental")
    _ticket(sx, 2, "32165", "VPN drops every hour", "Birch Bakery")
    _ticket(sx, 3, "32166", 'The "quoted" error', "Café Noël")
    _ticket(sx, 4, "32167", "Printer toner", "Acme Dental", is_deleted=True)
    _ticket(other, 5, "32168", "Printer at another company", "Other Co")
    return sx


def _found(world, q: str) -> set[str]:
    qs = selectors.ticket_queryset(world.tenant, selectors.TicketFilters(q=q))
    return {t.number for t in qs}


@pytest.mark.parametrize(
    ("q", "numbers"),
    [
        ("printer", {"32164"}),  # not the deleted one, not another company's
        ("JAMS ON", {"32164"}),
        ("acme", {"32164"}),  # the customer name
        ("32165", {"32165"}),  # digits: the number, or in the subject
        ("2", {"32164"}),
        ("#32166", {"32166"}),  # a number exactly
        ("#3216", set()),
        ("Acme 3216", set()),
        ("ray 2", {"32164"}),
        ('"quoted"', {"32166"}),  # double quotes are text, not FTS syntax
        ("Noël", {"32166"}),
        ("vp", {"32165"}),  # under 3 characters: the LIKE path
        ("hour every", set()),  # a phrase, in order
        ("NEAR(printer tray)", set()),  # FTS operators are text too
    ],
)
def test_the_search_finds_number_subject_and_customer_of_live_tickets(world, tickets, q, numbers):
    assert _found(world, q) == numbers


def test_an_upserted_subject_is_found_by_its_new_text_only(world, tickets):
    SyncroTicket.objects.filter(connection=tickets, vendor_id=2).update(
        subject="Email bounces", customer_name="Cedar Clinic"
    )  # as the sync's upsert writes it
    assert _found(world, "bounces") == {"32165"}
    assert _found(world, "vpn drops") == set()
    assert _found(world, "cedar") == {"32165"}
    assert _found(world, "birch") == set()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's two plans")
def test_a_search_of_common_words_walks_the_list_with_like_and_finds_the_same(
    world, tickets, monkeypatch
):
    queries = ("printer", "acme", "the", "toner", "jams on tray")
    rare = {}
    for q in queries:
        qs = selectors.ticket_queryset(world.tenant, selectors.TicketFilters(q=q))
        assert "MATCH" in str(qs.query) and " LIKE " not in str(qs.query)
        rare[q] = {t.number for t in qs}
    monkeypatch.setattr(fts, "FTS_COMMON", 0)  # every word counts as common
    common = {}
    for q in queries:
        qs = selectors.ticket_queryset(world.tenant, selectors.TicketFilters(q=q))
        assert "MATCH" not in str(qs.query) and " LIKE " in str(qs.query)
        common[q] = {t.number for t in qs}
    assert common == rare and rare["toner"] == set() and rare["jams on tray"] == {"32164"}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's two plans")
def test_one_rare_word_is_enough_for_the_full_text_path(world, tickets, monkeypatch):
    monkeypatch.setattr(fts, "FTS_COMMON", 1)  # "printer" is in two rows: common; "jams" rare
    qs = selectors.ticket_queryset(world.tenant, selectors.TicketFilters(q="printer jams"))
    assert "MATCH" in str(qs.query) and {t.number for t in qs} == {"32164"}
    qs = selectors.ticket_queryset(world.tenant, selectors.TicketFilters(q="printer"))
    assert "MATCH" not in str(qs.query) and {t.number for t in qs} == {"32164"}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's full-text table")
def test_the_full_text_table_and_its_triggers_exist(db):
    triggers = fts.fts_triggers(selectors.TICKET_FTS)
    assert triggers == {f"syncro_ticket_fts_{t}" for t in ("ai", "ad", "au")}, (
        "a migration rebuilt the ticket table: run syncro 0008's create() again (its docstring)"
    )


@pytest.mark.parametrize(
    "q", ["\x00abc", 'ab"', '"""', "* OR 1", "☃☃☃", "a" * 100, "NEAR(", "^abc", "abc\\"]
)
def test_an_odd_search_lists_or_names_it_never_a_500(world, tickets, q):
    page = world.client_for(world.owner).get(reverse("billing:ticket_list"), {"q": q})
    assert page.status_code == 200
