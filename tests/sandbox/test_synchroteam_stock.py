"""The Synchroteam inventory emulation: depots, stock parts, part movements, part requests."""

from __future__ import annotations

from collections import defaultdict

import pytest


@pytest.fixture
def st(sandbox):
    with sandbox.client("synchroteam") as client:
        yield client


def all_pages(client, path, **params):
    rows, page = [], 1
    while True:
        body = client.get(path, params={**params, "page": page, "pageSize": 100}).json()
        rows += body["data"]
        if len(body["data"]) < body["pageSize"]:
            return rows, body["recordsTotal"]
        page += 1


def test_three_warehouses_and_one_van_per_technician(st):
    depots, total = all_pages(st, "/depot/list")
    users, _ = all_pages(st, "/user/list")
    techs = {u["id"] for u in users if u["profile"] == "technician"}
    vans = [d for d in depots if d["user"]]
    assert len(depots) == total == len(vans) + 3
    assert {v["user"]["id"] for v in vans} == techs
    assert [d["name"] for d in depots if d["isDefault"]] == ["Main Warehouse"]


@pytest.mark.parametrize("path", ["/stockpart/list", "/partmovement/list", "/partrequest/list"])
def test_inventory_lists_page_like_every_synchroteam_list(st, path):
    body = st.get(path, params={"pageSize": 500}).json()
    assert set(body) == {"page", "pageSize", "recordsTotal", "data"}
    assert body["pageSize"] == 100 and body["recordsTotal"] > 0
    assert st.get(path).json()["pageSize"] == 25


def test_every_level_is_its_movements_in_minus_out_from_the_start(st, sandbox):
    """Levels and movements tell the same story: replaying the movements backwards from today's
    levels never goes below zero."""
    levels, _ = all_pages(st, "/stockpart/list")
    moves, _ = all_pages(st, "/partmovement/list")
    qty = {(lv["depot"]["id"], lv["part"]["id"]): lv["quantity"] for lv in levels}
    net = defaultdict(int)
    for m in moves:
        if m["toDepot"]:
            net[(m["toDepot"]["id"], m["part"]["id"])] += m["quantity"]
        if m["fromDepot"]:
            net[(m["fromDepot"]["id"], m["part"]["id"])] -= m["quantity"]
    assert set(net) <= set(qty)
    assert all(qty[k] - net[k] >= 0 for k in qty)
    assert any(m["job"] and not m["toDepot"] for m in moves)  # parts used on jobs
    assert all(q >= 0 for q in qty.values())


def test_changed_since_filters_movements_and_requests_on_date_modified(st):
    moves, total = all_pages(st, "/partmovement/list")
    cut = sorted(m["dateModified"] for m in moves)[len(moves) // 2]
    recent, n = all_pages(st, "/partmovement/list", changedSince=cut)
    assert n == len(recent) == sum(m["dateModified"] >= cut for m in moves) < total
    assert (
        st.get("/partrequest/list", params={"changedSince": "2999-01-01 00:00:00"}).json()[
            "recordsTotal"
        ]
        == 0
    )
    assert st.get("/partmovement/list", params={"changedSince": "soon"}).status_code == 400


def test_depot_details_lists_the_parts_it_holds(st):
    depots, _ = all_pages(st, "/depot/list")
    van = next(d for d in depots if d["user"])
    body = st.get("/depot/details", params={"id": van["id"]}).json()
    levels, _ = all_pages(st, "/stockpart/list", depotId=van["id"])
    assert {(p["part"]["id"], p["quantity"]) for p in body["parts"]} == {
        (lv["part"]["id"], lv["quantity"]) for lv in levels
    }


def _source_and_van(st):
    levels, _ = all_pages(st, "/stockpart/list")
    depots, _ = all_pages(st, "/depot/list")
    main = next(d for d in depots if d["isDefault"])
    van = next(d for d in depots if d["user"])
    level = next(lv for lv in levels if lv["depot"]["id"] == main["id"] and lv["quantity"] >= 3)
    return main, van, level


def _level(st, depot_id, part_id):
    rows = st.get("/stockpart/list", params={"depotId": depot_id, "partId": part_id}).json()
    return rows["data"][0]["quantity"] if rows["data"] else 0


def test_a_part_request_from_a_warehouse_moves_the_stock_once_per_my_id(st, sandbox):
    main, van, level = _source_and_van(st)
    part = level["part"]["id"]
    before = (_level(st, main["id"], part), _level(st, van["id"], part))
    body = {
        "myId": "FL-test-1",
        "part": {"id": part},
        "quantity": 2,
        "depot": {"id": van["id"]},
        "fromDepot": {"id": main["id"]},
    }
    first = st.post("/partrequest/send", json=body).json()
    again = st.post("/partrequest/send", json=body).json()
    assert first == again and first["isComplete"] and first["user"]["id"] == van["user"]["id"]
    assert (_level(st, main["id"], part), _level(st, van["id"], part)) == (
        before[0] - 2,
        before[1] + 2,
    )
    movement = st.get("/partmovement/details", params={"id": first["partMovement"]["id"]}).json()
    assert (movement["fromDepot"]["id"], movement["toDepot"]["id"], movement["quantity"]) == (
        main["id"],
        van["id"],
        2,
    )
    created = [e for e in sandbox.ledger.writes(vendor="synchroteam") if e.created()]
    assert len(created) == 1


def test_a_request_the_source_cannot_fill_stays_open_and_moves_nothing(st):
    main, van, level = _source_and_van(st)
    part = level["part"]["id"]
    body = {
        "part": {"reference": level["part"]["reference"]},
        "quantity": level["quantity"] + 1,
        "depot": {"id": van["id"]},
        "fromDepot": {"id": main["id"]},
    }
    answer = st.post("/partrequest/send", json=body).json()
    assert (answer["isSent"], answer["isComplete"], answer["partMovement"]) == (True, False, None)
    assert _level(st, main["id"], part) == level["quantity"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"quantity": 0}, "Quantity must be a positive number."),
        ({"quantity": "two"}, "Quantity must be a positive number."),
        ({"part": None}, "Part is required."),
        ({"part": {"id": 640016}}, "Part not found or not tracked in stock."),  # a service
        ({"depot": {"id": 1}}, "Depot not found."),
        ({"fromDepot": "main"}, "Depot is required."),
    ],
)
def test_part_request_refusals_are_400_with_a_message(st, change, message):
    main, van, level = _source_and_van(st)
    body = {
        "part": {"id": level["part"]["id"]},
        "quantity": 1,
        "depot": {"id": van["id"]},
        "fromDepot": {"id": main["id"]},
        **change,
    }
    response = st.post("/partrequest/send", json=body)
    assert response.status_code == 400 and response.json() == {"message": message}
