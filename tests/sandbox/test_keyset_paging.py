"""Keyset paging in the sandbox store serves exactly the pages OFFSET serves (issue 14 item 5),
and the generator no longer stacks records on the anchor instant (issue 14 item 6)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from connectors.sandbox import Sandbox, SandboxConfig
from connectors.sandbox.datagen import vendor_gen
from connectors.sandbox.store import Store, Where, register_kind

KIND = "test.keyset"
register_kind(
    KIND,
    lambda d: {"id": d["id"], "status": d["status"], "updated_at": d["updated_at"]},
)


def _row(rng: random.Random, i: int) -> dict:
    # few distinct timestamps (ties) and some NULLs, so the id tie-break and NULL order matter
    stamp = None if rng.random() < 0.1 else f"2026-05-0{rng.randint(1, 4)}T09:00:00.000000"
    return {"id": i, "status": rng.choice(["open", "closed"]), "updated_at": stamp}


@pytest.fixture
def store():
    rng = random.Random(3)
    s = Store(None)
    s.put_many(KIND, [_row(rng, i) for i in rng.sample(range(1, 5000), 237)])
    yield s
    s.close()


QUERIES = [
    ({}, []),
    ({"order": "updated_at"}, []),
    ({"order": "updated_at", "desc": True}, []),
    ({"desc": True}, [Where("status = ?", ("open",))]),
    ({"order": "updated_at"}, [Where("status = ?", ("closed",)), Where("id > ?", (800,))]),
]


def _page(store: Store, keyset: bool, where, page: int, size: int, **kw) -> list[str]:
    store.keyset = keyset
    try:
        return store.select_raw(KIND, where, limit=size, offset=(page - 1) * size, **kw)
    finally:
        store.keyset = True


def _keyset_queries(store: Store) -> list[str]:
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    return seen


@pytest.mark.parametrize(("kw", "where"), QUERIES)
@pytest.mark.parametrize("size", [1, 10, 25])
def test_a_sweep_serves_the_offset_pages_and_seeks_after_the_first(store, kw, where, size):
    expected = []
    page = 1
    while rows := _page(store, False, where, page, size, **kw):
        expected.append(rows)
        page += 1
    statements = _keyset_queries(store)
    got = [_page(store, True, where, p, size, **kw) for p in range(1, page + 1)]
    store.conn.set_trace_callback(None)
    assert got == [*expected, []]
    assert sum(len(p) for p in got) == store.count(KIND, where)
    # pages 2.. were read after the previous page's last row, skipping nothing (except after a
    # page ending on a NULL sort value: ~10 % of rows)
    pages = [s for s in statements if s.startswith("SELECT data,")]
    seeks = [s for s in pages[1:] if s.endswith("OFFSET 0")]
    assert len(pages) == page + 0 and len(seeks) >= (page - 1) * 0.6


def test_jumps_and_revisits_match_offset(store):
    kw = {"order": "updated_at", "desc": True}
    for page in [1, 2, 3, 7, 5, 3, 8, 2, 30, 9]:
        assert _page(store, True, [], page, 10, **kw) == _page(store, False, [], page, 10, **kw)


@pytest.mark.parametrize("change", ["insert before", "insert after", "delete", "update"])
def test_after_a_write_the_next_page_is_the_offset_page_again(store, change):
    kw = {"order": "updated_at"}
    for page in (1, 2, 3):
        _page(store, True, [], page, 20, **kw)
    rng = random.Random(9)
    first_ids = [int(x.split(",")[0].split(":")[1]) for x in _page(store, False, [], 1, 20, **kw)]
    if change == "insert before":
        store.put_many(
            KIND,
            [{**_row(rng, 9000 + i), "updated_at": "2026-04-01T00:00:00.000000"} for i in (1, 2)],
        )
    elif change == "insert after":
        store.put(KIND, {**_row(rng, 9100), "updated_at": "2026-06-01T00:00:00.000000"})
    elif change == "delete":
        store.delete(KIND, first_ids[0])
    else:
        store.put(KIND, {"id": first_ids[1], "status": "open", "updated_at": None})
    for page in (4, 3, 5, 1, 2):
        assert _page(store, True, [], page, 20, **kw) == _page(store, False, [], page, 20, **kw)


def test_a_rolled_back_write_forgets_boundaries_and_counts(store):
    for page in (1, 2):
        _page(store, True, [], page, 30)
    before = store.count(KIND, [Where("status = ?", ("open",))])
    with pytest.raises(RuntimeError), store.transaction():
        store.put(KIND, {"id": 1, "status": "open", "updated_at": None})
        assert _page(store, True, [], 3, 30) == _page(store, False, [], 3, 30)
        assert store.count(KIND, [Where("status = ?", ("open",))]) == before + 1
        raise RuntimeError
    assert _page(store, True, [], 3, 30) == _page(store, False, [], 3, 30)
    assert store.count(KIND, [Where("status = ?", ("open",))]) == before


def test_gen_after_never_passes_the_anchor_and_does_not_pile_up_on_it():
    anchor = datetime(2026, 5, 1, 9, tzinfo=UTC)
    gen = vendor_gen(1, "syncro", 10, anchor)
    starts = [anchor - timedelta(hours=h) for h in (0.5, 2, 10, 40)]
    draws = [gen.after(s, 72) for s in starts for _ in range(500)]
    assert all(d <= anchor for d in draws)
    assert all(d >= s for s, d in zip([s for s in starts for _ in range(500)], draws, strict=True))
    assert sum(d == anchor for d in draws) <= 1


def test_generated_tickets_do_not_share_the_high_water_timestamp():
    sb = Sandbox.create(
        seed=13,
        scale=3000,
        clock_start="2026-05-01T09:00:00Z",
        frozen=True,
        config=SandboxConfig.unlimited(),
    )
    try:
        stamps = Counter(t["updated_at"] for t in sb.store.select("syncro.ticket"))
    finally:
        sb.close()
    newest = max(stamps)
    assert stamps[newest] <= 2
    assert max(stamps.values()) <= 3
