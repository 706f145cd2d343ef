"""Acceptance: the Synchroteam inventory streams (depots, stock levels, part movements, part
requests) mirror the sandbox exactly, after a full sync and after a sync killed midway and
resumed; and what a full and an incremental inventory sync cost in requests."""

from __future__ import annotations

import hashlib
import math

import pytest

from connectors.demo import seed_connections
from connectors.models import QuarantinedRecord, SyncRun
from connectors.services import connection_sync_now
from connectors.synchroteam.models import (
    SynchroteamDepot,
    SynchroteamPartMovement,
    SynchroteamPartRequest,
    SynchroteamStockLevel,
)

IN_PROCESS = "http://sandbox.invalid"
STREAMS = {
    "depots": ("synchroteam.depot", SynchroteamDepot),
    "stock_levels": ("synchroteam.stockpart", SynchroteamStockLevel),
    "part_movements": ("synchroteam.partmovement", SynchroteamPartMovement),
    "part_requests": ("synchroteam.partrequest", SynchroteamPartRequest),
}


class Killed(BaseException):
    pass


@pytest.fixture
def connection(world):
    users = {u.email: u for u in (world.owner, world.billing, world.dispatcher, world.tech)}
    connections = seed_connections(world.tenant, users, root=IN_PROCESS)
    return next(c for c in connections if c.vendor == "synchroteam")


def stock_checksum(rows) -> str:
    """sha256 over (level id, depot id, part id, quantity to 3 decimals), in id order."""
    h = hashlib.sha256()
    for vid, depot, part, qty in sorted(rows):
        h.update(f"{vid}|{depot}|{part}|{float(qty):.3f};".encode())
    return h.hexdigest()


def sandbox_stock(sandbox):
    return [
        (r["id"], r["depot"]["id"], r["part"]["id"], r["quantity"])
        for r in sandbox.store.select("synchroteam.stockpart")
    ]


def mirror_stock(connection):
    return list(
        SynchroteamStockLevel.objects.filter(connection=connection, is_deleted=False).values_list(
            "vendor_id", "depot_vendor_id", "part_vendor_id", "quantity"
        )
    )


def assert_inventory_mirrored(sandbox, connection):
    for resource, (kind, model) in STREAMS.items():
        theirs = set(sandbox.store.ids(kind))
        ours = set(
            model.objects.filter(connection=connection, is_deleted=False).values_list(
                "vendor_id", flat=True
            )
        )
        assert theirs and ours == theirs, resource
    assert stock_checksum(mirror_stock(connection)) == stock_checksum(sandbox_stock(sandbox))


def pages(sandbox, kind) -> int:
    return max(1, math.ceil(sandbox.store.count(kind) / 100))


def test_a_full_sync_mirrors_depots_levels_movements_and_requests(sandbox, connection):
    before = sandbox.request_counts().get("synchroteam", 0)
    runs = connection_sync_now(
        connection, mode="full", resources=list(STREAMS), transport=sandbox.transport()
    )
    assert {r.status for r in runs} == {"succeeded"}, [(r.stream.resource, r.error) for r in runs]
    assert_inventory_mirrored(sandbox, connection)
    vans = SynchroteamDepot.objects.filter(connection=connection, kind="vehicle")
    assert vans.count() == sandbox.store.count("synchroteam.user") - 1  # one per technician
    assert SynchroteamPartMovement.objects.exclude(job_vendor_id=None).exists()
    # one request per page of 100, counted by the sandbox
    spent = sandbox.request_counts()["synchroteam"] - before
    assert (
        spent
        == sum(r.requests for r in runs)
        == sum(pages(sandbox, k) for k, _ in STREAMS.values())
    )


@pytest.mark.parametrize("kill_at", [1, 3, 6])
def test_a_sync_killed_midway_then_resumed_gives_the_same_mirror(
    sandbox, connection, settings, kill_at
):
    seen = {"n": 0}

    def die(run):
        seen["n"] += 1
        if seen["n"] == kill_at:
            raise Killed

    with pytest.raises(Killed):
        connection_sync_now(
            connection,
            mode="full",
            resources=list(STREAMS),
            transport=sandbox.transport(),
            on_page=die,
        )
    settings.SYNC_HEARTBEAT_STALE_SECONDS = 0
    runs = connection_sync_now(
        connection, mode="full", resources=list(STREAMS), transport=sandbox.transport()
    )
    assert all(r.status == "succeeded" for r in runs), [(r.stream.resource, r.error) for r in runs]
    assert_inventory_mirrored(sandbox, connection)
    assert SyncRun.objects.filter(status="stale").exists()


def test_an_incremental_sync_asks_movements_and_requests_only_for_what_changed(sandbox, connection):
    connection_sync_now(
        connection, mode="full", resources=list(STREAMS), transport=sandbox.transport()
    )
    sandbox.clock.advance(3600)
    van = sandbox.store.select("synchroteam.depot")[5]
    level = sandbox.store.select("synchroteam.stockpart")[0]
    with sandbox.client("synchroteam") as client:
        answer = client.post(
            "/partrequest/send",
            json={
                "myId": "FL-incr-1",
                "part": {"id": level["part"]["id"]},
                "quantity": 1,
                "depot": {"id": van["id"]},
                "fromDepot": {"id": level["depot"]["id"]},
            },
        ).json()
    assert answer["isComplete"] is True
    before = sandbox.request_counts()["synchroteam"]
    runs = connection_sync_now(connection, resources=list(STREAMS), transport=sandbox.transport())
    by = {r.stream.resource: r for r in runs}
    assert {r.mode for r in runs if r.stream.resource.startswith("part_")} == {"incremental"}
    assert by["part_movements"].requests == by["part_requests"].requests == 1
    assert by["part_movements"].created == by["part_requests"].created == 1
    assert by["stock_levels"].updated == 2  # the warehouse's and the van's
    spent = sandbox.request_counts()["synchroteam"] - before
    expected = pages(sandbox, "synchroteam.depot") + pages(sandbox, "synchroteam.stockpart") + 2
    assert spent == expected
    assert_inventory_mirrored(sandbox, connection)


def test_malformed_stock_records_are_quarantined_and_the_rest_of_the_page_saved(
    sandbox, connection
):
    bad = sandbox.store.select("synchroteam.stockpart")[3]
    bad["quantity"] = "lots"
    sandbox.store.put("synchroteam.stockpart", bad)
    worse = sandbox.store.select("synchroteam.stockpart")[4]
    worse["depot"] = None
    sandbox.store.put("synchroteam.stockpart", worse)
    runs = connection_sync_now(
        connection, mode="full", resources=["stock_levels"], transport=sandbox.transport()
    )
    assert runs[0].status == "succeeded" and runs[0].quarantined == 2
    reasons = set(
        QuarantinedRecord.objects.filter(resource="stock_levels").values_list("reason", flat=True)
    )
    assert reasons == {"quantity is not a number: 'lots'", "missing depot.id"}
    mirrored = SynchroteamStockLevel.objects.filter(connection=connection).count()
    assert mirrored == sandbox.store.count("synchroteam.stockpart") - 2


def test_a_nul_character_in_a_vendor_record_is_dropped_and_the_page_saved(sandbox, connection):
    """PostgreSQL's text and jsonb refuse U+0000; the client removes it from every answer
    (`connectors.http.without_nul`), so the depot is mirrored with the rest of its text."""
    depot = sandbox.store.select("synchroteam.depot")[0]
    depot["name"] = "Van\x00 North"
    depot["nul\x00key"] = ["a\x00b", {"c": "\x00"}]
    sandbox.store.put("synchroteam.depot", depot)
    runs = connection_sync_now(
        connection, mode="full", resources=["depots"], transport=sandbox.transport()
    )
    assert runs[0].status == "succeeded" and runs[0].quarantined == 0
    mirrored = SynchroteamDepot.objects.get(connection=connection, vendor_id=depot["id"])
    assert mirrored.name == "Van North"
    assert mirrored.raw["nulkey"] == ["ab", {"c": ""}]
    assert SynchroteamDepot.objects.filter(connection=connection).count() == sandbox.store.count(
        "synchroteam.depot"
    )
