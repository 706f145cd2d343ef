"""Issue 15 item 4: ``GET /tickets/{id}/comments`` lists newest first by default (a live
observation recorded by a public client's test log, see docs/sandbox.md), while an explicit
``sort_direction``/``sort_by`` keeps working."""

from __future__ import annotations

import pytest


@pytest.fixture
def busy_ticket(sandbox, syncro, ticket_id):
    """The fixture ticket with 14 more comments, one sandbox-minute apart (15 in all)."""
    for n in range(14):
        sandbox.clock.advance(60)
        response = syncro.post(
            f"/tickets/{ticket_id}/comment", json={"subject": f"s{n}", "body": f"c{n}"}
        )
        assert response.status_code == 200
    return ticket_id


def _ids(response):
    assert response.status_code == 200
    return [c["id"] for c in response.json()["comments"]]


def test_default_is_newest_first(syncro, busy_ticket):
    first_page = _ids(syncro.get(f"/tickets/{busy_ticket}/comments"))
    assert len(first_page) == 10
    assert first_page == sorted(first_page, reverse=True)
    everything = _ids(syncro.get(f"/tickets/{busy_ticket}/comments", params={"per_page": 100}))
    assert first_page == everything[:10]  # the ten newest, not the ten oldest
    assert everything[0] == max(everything)


def test_second_page_continues_downwards(syncro, busy_ticket):
    one = _ids(syncro.get(f"/tickets/{busy_ticket}/comments"))
    two = _ids(syncro.get(f"/tickets/{busy_ticket}/comments", params={"page": 2}))
    assert len(two) == 5 and max(two) < min(one)


@pytest.mark.parametrize("direction", ["ASC", "asc"])
def test_explicit_ascending_is_oldest_first(syncro, busy_ticket, direction):
    ids = _ids(syncro.get(f"/tickets/{busy_ticket}/comments", params={"sort_direction": direction}))
    assert ids == sorted(ids)


@pytest.mark.parametrize("sort_by", ["created_at", "updated_at"])
def test_sort_by_keeps_the_default_direction_and_honours_an_explicit_one(
    syncro, busy_ticket, sort_by
):
    url = f"/tickets/{busy_ticket}/comments"
    newest = syncro.get(url, params={"sort_by": sort_by}).json()["comments"]
    stamps = [c[sort_by] for c in newest]
    assert stamps == sorted(stamps, reverse=True)
    oldest = syncro.get(url, params={"sort_by": sort_by, "sort_direction": "ASC"}).json()
    stamps = [c[sort_by] for c in oldest["comments"]]
    assert stamps == sorted(stamps)


def test_unknown_direction_falls_back_to_the_default(syncro, busy_ticket):
    ids = _ids(syncro.get(f"/tickets/{busy_ticket}/comments", params={"sort_direction": "up"}))
    assert ids == sorted(ids, reverse=True)
