"""The mirror upsert (`connectors.upsert`): inserts new rows, rewrites changed ones, leaves
unchanged ones alone (their ``synced_at`` stays), compares NULLs and JSON both ways, and counts
created / updated / unchanged without ``RETURNING``. Runs on SQLite and PostgreSQL; the ``COPY``
merge is exercised too when the database is PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection as db

from connectors.sync_page import MappedPage
from connectors.syncro.models import SyncroContact, SyncroProduct
from connectors.upsert import UpsertCounts, upsert_rows

T0 = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(hours=1)

METHODS = ["executemany", "copy"] if db.vendor == "postgresql" else ["executemany"]


@pytest.fixture(params=METHODS)
def method(request, settings):
    if request.param == "copy" and db.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL only")
    settings.SYNC_PG_UPSERT = request.param
    return request.param


def contact(vid: int, **over) -> tuple[dict, dict]:
    values = {
        "vendor_id": vid,
        "vendor_updated_at": T0,
        "name": f"Contact {vid}",
        "email": f"c{vid}@example.com",
        "phone": "",
        "customer_vendor_id": 7,
        "custom_fields": {"PO": f"PO-{vid}", "tags": ["a", "b"]},
    }
    values.update(over)
    raw = {"id": vid, **{k: str(v) for k, v in values.items() if k != "vendor_id"}}
    return values, raw


def write(connection, rows, *, model=SyncroContact, now=T0, full=False, generation=1):
    good = {values["vendor_id"]: (values, raw) for values, raw in rows}
    return upsert_rows(
        spec=SimpleNamespace(model=model),
        connection=connection,
        mapped=MappedPage(good, []),
        generation=generation,
        full=full,
        now=now,
    )


def test_new_rows_are_inserted_and_counted_as_created(syncro_connection, method):
    counts = write(syncro_connection, [contact(1), contact(2), contact(3)])
    assert counts == UpsertCounts(created=3, updated=0, unchanged=0)
    row = SyncroContact.objects.get(connection=syncro_connection, vendor_id=2)
    assert (row.name, row.customer_vendor_id, row.synced_at) == ("Contact 2", 7, T0)
    assert row.custom_fields == {"PO": "PO-2", "tags": ["a", "b"]}
    assert row.raw["name"] == "Contact 2" and row.tenant_id == syncro_connection.tenant_id
    assert (row.is_deleted, row.deleted_at, row.seen_generation) == (False, None, 1)


def test_an_unchanged_row_is_not_rewritten_and_keeps_its_synced_at(syncro_connection, method):
    write(syncro_connection, [contact(1), contact(2)])
    counts = write(syncro_connection, [contact(1), contact(2)], now=T1)
    assert counts == UpsertCounts(created=0, updated=0, unchanged=2)
    assert set(SyncroContact.objects.values_list("synced_at", flat=True)) == {T0}


def test_a_changed_row_is_updated_and_the_others_are_not(syncro_connection, method):
    write(syncro_connection, [contact(1), contact(2), contact(3)])
    counts = write(
        syncro_connection,
        [contact(1), contact(2, name="Renamed", vendor_updated_at=T1), contact(3), contact(4)],
        now=T1,
    )
    assert counts == UpsertCounts(created=1, updated=1, unchanged=2)
    rows = {r.vendor_id: r for r in SyncroContact.objects.all()}
    assert (rows[2].name, rows[2].vendor_updated_at, rows[2].synced_at) == ("Renamed", T1, T1)
    assert rows[1].synced_at == rows[3].synced_at == T0
    assert rows[4].synced_at == T1


def test_a_change_of_the_raw_record_alone_is_a_change(syncro_connection, method):
    values, raw = contact(1)
    write(syncro_connection, [(values, raw)])
    counts = write(syncro_connection, [(values, {**raw, "extra": "new key"})], now=T1)
    assert counts == UpsertCounts(0, 1, 0)
    assert SyncroContact.objects.get(vendor_id=1).raw["extra"] == "new key"


@pytest.mark.parametrize(
    ("before", "after", "changed"),
    [(7, None, True), (None, 7, True), (None, None, False), (7, 8, True)],
)
def test_nulls_compare_both_ways(syncro_connection, method, before, after, changed):
    write(syncro_connection, [contact(1, customer_vendor_id=before, vendor_updated_at=None)])
    counts = write(
        syncro_connection, [contact(1, customer_vendor_id=after, vendor_updated_at=None)], now=T1
    )
    assert counts == (UpsertCounts(0, 1, 0) if changed else UpsertCounts(0, 0, 1))
    row = SyncroContact.objects.get(vendor_id=1)
    assert (row.customer_vendor_id, row.synced_at) == (after, T1 if changed else T0)


@pytest.mark.parametrize(
    ("before", "after", "changed"),
    [
        (Decimal("12.50"), None, True),
        (None, Decimal("12.50"), True),
        (Decimal("12.50"), Decimal("12.50"), False),
        (Decimal("12.50"), Decimal("12.75"), True),
    ],
)
def test_decimals_and_their_nulls_compare(syncro_connection, method, before, after, changed):
    def product(price):
        values = {"vendor_id": 5, "name": "Labour", "price_retail": price}
        return values, {"id": 5, "price_retail": str(price)}

    write(syncro_connection, [product(before)], model=SyncroProduct)
    counts = write(syncro_connection, [product(after)], model=SyncroProduct, now=T1)
    assert counts.updated == int(changed) and counts.unchanged == int(not changed)
    assert SyncroProduct.objects.get(vendor_id=5).price_retail == after


@pytest.mark.parametrize(
    ("after", "changed"),
    [
        ({"PO": "PO-1", "tags": ["a", "b"]}, False),
        ({"PO": "PO-1", "tags": ["b", "a"]}, True),
        ({"PO": "PO-1", "tags": ["a", "b"], "Site": None}, True),
        ({}, True),
    ],
)
def test_json_fields_are_compared(syncro_connection, method, after, changed):
    values, raw = contact(1)
    write(syncro_connection, [(values, raw)])
    counts = write(syncro_connection, [({**values, "custom_fields": after}, raw)], now=T1)
    assert counts == (UpsertCounts(0, 1, 0) if changed else UpsertCounts(0, 0, 1))
    assert SyncroContact.objects.get(vendor_id=1).custom_fields == after


def test_a_full_sweep_stamps_unchanged_rows_without_counting_them_as_updated(
    syncro_connection, method
):
    write(syncro_connection, [contact(1), contact(2)], generation=1)
    counts = write(
        syncro_connection,
        [contact(1), contact(2, phone="555")],
        now=T1,
        full=True,
        generation=2,
    )
    assert counts == UpsertCounts(0, 1, 1)
    rows = {r.vendor_id: r for r in SyncroContact.objects.all()}
    assert rows[1].seen_generation == rows[2].seen_generation == 2
    assert (rows[1].synced_at, rows[2].synced_at) == (T0, T1)


def test_an_incremental_page_leaves_the_generation_of_existing_rows(syncro_connection, method):
    write(syncro_connection, [contact(1)], generation=3)
    write(syncro_connection, [contact(1, phone="555")], now=T1, generation=4)
    assert SyncroContact.objects.get(vendor_id=1).seen_generation == 3


def test_a_soft_deleted_record_that_comes_back_is_revived_and_counted_updated(
    syncro_connection, method
):
    write(syncro_connection, [contact(1)])
    SyncroContact.objects.filter(vendor_id=1).update(is_deleted=True, deleted_at=T0)
    counts = write(syncro_connection, [contact(1)], now=T1)
    assert counts == UpsertCounts(0, 1, 0)
    row = SyncroContact.objects.get(vendor_id=1)
    assert (row.is_deleted, row.deleted_at) == (False, None)


def test_rows_of_another_connection_are_neither_counted_nor_touched(
    syncro_connection, world, method
):
    from .conftest import make_connection

    other = make_connection(
        world.other_tenant, "syncro", account="other", base_url="http://x.invalid", secret="k"
    )
    write(other, [contact(1, name="Theirs")])
    counts = write(syncro_connection, [contact(1)])
    assert counts == UpsertCounts(1, 0, 0)
    assert SyncroContact.objects.get(connection=other).name == "Theirs"


def test_a_mapping_naming_no_field_is_refused(syncro_connection, method):
    with pytest.raises(TypeError, match="nickname"):
        write(syncro_connection, [contact(1, nickname="x")])
    assert not SyncroContact.objects.exists()
