"""Inventory pages, minimums, the below-threshold list, replenishment through the outbox and
the low-stock alert, on the in-process sandbox."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from connectors.alerts.models import Alert, AlertKind
from connectors.alerts.services import evaluate
from connectors.outbox import executor
from connectors.outbox.models import VendorWrite
from connectors.services import connection_sync_now
from connectors.synchroteam.models import (
    SynchroteamDepot,
    SynchroteamJob,
    SynchroteamPart,
    SynchroteamPartRequest,
    SynchroteamStockLevel,
)
from dispatch.inventory import selectors
from dispatch.inventory.signals import stock_below_threshold
from dispatch.models import StockMinimum

State = VendorWrite.State
INVENTORY = ["parts", "users", "jobs", "depots", "stock_levels", "part_movements", "part_requests"]


@pytest.fixture
def stocked(dispatch):
    runs = connection_sync_now(dispatch.synchroteam, mode="full", resources=INVENTORY)
    assert all(r.status == "succeeded" for r in runs), [(r.stream.resource, r.error) for r in runs]
    return dispatch


def _van_level(world):
    """A van's level of a part that the Main Warehouse holds at least 5 of."""
    tenant = world.tenant
    main = SynchroteamDepot.objects.for_tenant(tenant).get(is_default=True)
    held = dict(
        SynchroteamStockLevel.objects.for_tenant(tenant)
        .filter(depot_vendor_id=main.vendor_id, quantity__gte=5)
        .values_list("part_vendor_id", "quantity")
    )
    van_ids = SynchroteamDepot.objects.for_tenant(tenant).filter(kind="vehicle").values("vendor_id")
    level = (
        SynchroteamStockLevel.objects.for_tenant(tenant)
        .filter(depot_vendor_id__in=van_ids, part_vendor_id__in=list(held))
        .order_by("vendor_id")
        .first()
    )
    return main, SynchroteamDepot.objects.get(vendor_id=level.depot_vendor_id), level


def _set_minimum(world, depot, level, minimum):
    client = world.client_for(world.dispatcher)
    return client.post(
        reverse("dispatch:inventory_minimum", args=[depot.vendor_id]),
        {"part": level.part_vendor_id, "minimum": str(minimum)},
    )


def test_every_inventory_page_renders_for_a_technician(world, stocked):
    client = world.client_for(world.tech)
    depot = SynchroteamDepot.objects.for_tenant(world.tenant).filter(kind="vehicle").first()
    part = SynchroteamPart.objects.for_tenant(world.tenant).filter(type="part").first()
    for url in (
        reverse("dispatch:inventory"),
        reverse("dispatch:inventory_depot", args=[depot.vendor_id]),
        reverse("dispatch:inventory_part", args=[part.vendor_id]),
        reverse("dispatch:inventory_below"),
    ):
        page = client.get(url)
        assert page.status_code == 200, url
    index = client.get(reverse("dispatch:inventory")).content.decode()
    assert depot.name in index and "Main Warehouse" in index
    # the technician may look, not set minimums nor replenish
    level = SynchroteamStockLevel.objects.filter(depot_vendor_id=depot.vendor_id).first()
    minimum = reverse("dispatch:inventory_minimum", args=[depot.vendor_id])
    assert client.post(minimum, {"part": level.part_vendor_id, "minimum": "3"}).status_code == 403
    replenish = reverse(
        "dispatch:inventory_replenish", args=[depot.vendor_id, level.part_vendor_id]
    )
    assert client.get(replenish).status_code == 403
    assert not StockMinimum.objects.exists()


def test_the_part_page_draws_its_levels_and_weekly_movements(world, stocked):
    part = (
        SynchroteamPart.objects.for_tenant(world.tenant)
        .filter(vendor_id__in=SynchroteamStockLevel.objects.values("part_vendor_id"))
        .first()
    )
    page = world.client_for(world.tech).get(
        reverse("dispatch:inventory_part", args=[part.vendor_id])
    )
    html = page.content.decode()
    assert '<svg class="stock-chart"' in html and "<polyline" in html
    assert 'class="out"' in html  # parts used on jobs
    levels = SynchroteamStockLevel.objects.for_tenant(world.tenant).filter(
        part_vendor_id=part.vendor_id
    )
    assert html.count('class="limit-bar') == levels.count()
    chart = page.context["chart"]
    assert chart["weeks"][-1].total == sum(lv.quantity for lv in levels)


def test_a_minimum_opens_the_low_stock_alert_and_lists_the_van_with_tomorrows_jobs(
    world, stocked, time_machine, django_capture_on_commit_callbacks
):
    main, van, level = _van_level(world)
    job = (
        SynchroteamJob.objects.for_tenant(world.tenant)
        .filter(technician_vendor_id=van.user_vendor_id, scheduled_start__isnull=False)
        .exclude(status="cancelled")
        .order_by("-scheduled_start")
        .first()
    )
    time_machine.move_to(job.scheduled_start - dt.timedelta(days=1), tick=False)
    sent = []
    stock_below_threshold.connect(
        lambda sender, **kw: sent.append(kw), weak=False, dispatch_uid="t"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):  # the refresh after the save
            response = _set_minimum(world, van, level, level.quantity + 2)
    finally:
        stock_below_threshold.disconnect(dispatch_uid="t")
    assert response.status_code == 302
    alert = Alert.objects.get(tenant=world.tenant, kind=AlertKind.LOW_STOCK, cleared_at=None)
    assert van.name in alert.message
    assert [(s["below"], s["payload"]["part"]["id"]) for s in sent] == [
        (True, level.part_vendor_id)
    ]
    page = world.client_for(world.dispatcher).get(reverse("dispatch:inventory_below"))
    (row,) = page.context["rows"]
    assert (row.depot.vendor_id, row.shortfall) == (van.vendor_id, Decimal(2))
    assert job in row.jobs_tomorrow
    assert (
        reverse("dispatch:inventory_replenish", args=[van.vendor_id, level.part_vendor_id])
        in page.content.decode()
    )


def test_replenishing_previews_the_exact_body_and_key_then_sends_once_even_after_a_timeout(
    world, stocked, settings
):
    main, van, level = _van_level(world)
    _set_minimum(world, van, level, level.quantity + 2)
    evaluate(world.tenant)
    assert Alert.objects.filter(kind=AlertKind.LOW_STOCK, cleared_at=None).count() == 1
    client = world.client_for(world.dispatcher)
    url = reverse("dispatch:inventory_replenish", args=[van.vendor_id, level.part_vendor_id])
    form = client.get(url)
    assert form.context["form"]["quantity"].value() == 2
    preview = client.post(url, {"source": main.vendor_id, "quantity": 2, "action": "preview"})
    plan = preview.context["plan"]
    (write,) = plan.writes
    body = write.body
    assert body["myId"].startswith("FL-") and body["myId"] in preview.content.decode()
    assert body["fromDepot"] == {"id": main.vendor_id} and body["depot"] == {"id": van.vendor_id}
    assert (
        "Whose key" in preview.content.decode()
        and plan.actor.credential.label in preview.content.decode()
    )
    settings.CONNECTORS_HTTP_READ_TIMEOUT = 0.2
    stocked.sandbox.faults.add("synchroteam POST /partrequest/send timeout_after_commit times=1")
    token = preview.context["token"]
    data = {"source": main.vendor_id, "quantity": 2, "action": "confirm", "token": token}
    first = client.post(url, data)
    again = client.post(url, data)  # a double click
    assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"]
    executor.run_until_settled()
    (sent,) = VendorWrite.objects.filter(tenant=world.tenant)
    assert sent.state == State.CONFIRMED and sent.payload == body
    created = [
        e
        for e in stocked.sandbox.ledger.writes(vendor="synchroteam", path="/partrequest/send")
        if e.created("synchroteam.partrequest")
    ]
    assert len(created) == 1  # once, although the answer was lost
    assert len(stocked.sandbox.synchroteam.find("partrequest", my_id=body["myId"])) == 1
    # visible in the mirror at once: the request and the van's new level, no sync
    request = SynchroteamPartRequest.objects.get(vendor_id=int(sent.remote_id))
    assert (request.my_id, request.status) == (body["myId"], "completed")
    level.refresh_from_db()
    assert (
        level.quantity
        == stocked.sandbox.store.get("synchroteam.stockpart", level.vendor_id)["quantity"]
    )
    # and the alert closed with the stock
    evaluate(world.tenant)
    assert not Alert.objects.filter(kind=AlertKind.LOW_STOCK, cleared_at=None).exists()
    follow = client.get(first["Location"])
    assert sent.remote_id in follow.content.decode()


def test_the_low_stock_alert_opens_and_closes_with_the_synced_level(world, stocked):
    main, van, level = _van_level(world)
    _set_minimum(world, van, level, level.quantity)  # at the minimum: not below
    assert not Alert.objects.filter(kind=AlertKind.LOW_STOCK, cleared_at=None).exists()
    sb = stocked.sandbox
    record = sb.store.get("synchroteam.stockpart", level.vendor_id)
    record.update(quantity=record["quantity"] - 1, dateModified="2026-11-02 10:00:00")
    sb.store.put("synchroteam.stockpart", record)
    connection_sync_now(stocked.synchroteam, resources=["stock_levels"])
    evaluate(world.tenant)
    assert Alert.objects.filter(kind=AlertKind.LOW_STOCK, cleared_at=None).count() == 1
    assert StockMinimum.objects.get().below_since is not None
    record.update(quantity=record["quantity"] + 3, dateModified="2026-11-02 11:00:00")
    sb.store.put("synchroteam.stockpart", record)
    connection_sync_now(stocked.synchroteam, resources=["stock_levels"])
    evaluate(world.tenant)
    assert not Alert.objects.filter(kind=AlertKind.LOW_STOCK, cleared_at=None).exists()
    assert Alert.objects.filter(kind=AlertKind.LOW_STOCK).exclude(cleared_at=None).count() == 1
    assert StockMinimum.objects.get().below_since is None


def test_another_companys_depot_part_and_request_are_404(world, stocked):
    main, van, level = _van_level(world)
    outsider = world.client_for(world.outsider)
    for url in (
        reverse("dispatch:inventory_depot", args=[van.vendor_id]),
        reverse("dispatch:inventory_part", args=[level.part_vendor_id]),
        reverse("dispatch:inventory_replenish", args=[van.vendor_id, level.part_vendor_id]),
    ):
        assert outsider.get(url).status_code in (403, 404), url
    # a dispatcher of this company naming a depot id that is not theirs
    client = world.client_for(world.dispatcher)
    assert client.get(reverse("dispatch:inventory_depot", args=[99])).status_code == 404
    url = reverse("dispatch:inventory_replenish", args=[van.vendor_id, level.part_vendor_id])
    refused = client.post(url, {"source": 99, "quantity": 1, "action": "preview"})
    assert refused.status_code == 200 and "source" in refused.context["form"].errors


@pytest.mark.parametrize(
    "data",
    [
        {"source": "x", "quantity": "2"},
        {"quantity": "-1"},
        {"quantity": "9" * 30},
        {"quantity": "1e3"},
        {"action": "confirm", "token": "forged"},
    ],
)
def test_odd_replenish_input_is_refused_and_keeps_what_was_typed(world, stocked, data):
    main, van, level = _van_level(world)
    client = world.client_for(world.dispatcher)
    url = reverse("dispatch:inventory_replenish", args=[van.vendor_id, level.part_vendor_id])
    body = {"source": main.vendor_id, "quantity": "1", "action": "preview", **data}
    page = client.post(url, body)
    assert page.status_code == 200 and page.context["plan"] is None
    assert page.context["form"].data["quantity"] == body["quantity"]
    assert not VendorWrite.objects.exists()


@pytest.mark.parametrize("minimum", ["-1", "abc", "1e400", "1" * 40, ""])
def test_odd_minimums_are_refused_with_what_was_typed(world, stocked, minimum):
    main, van, level = _van_level(world)
    response = _set_minimum(world, van, level, minimum)
    assert response.status_code == 400
    assert response.context["form"].data["minimum"] == minimum
    assert not StockMinimum.objects.exists()


def test_a_confirm_token_made_for_another_part_is_refused(world, stocked):
    main, van, level = _van_level(world)
    client = world.client_for(world.dispatcher)
    url = reverse("dispatch:inventory_replenish", args=[van.vendor_id, level.part_vendor_id])
    preview = client.post(url, {"source": main.vendor_id, "quantity": 1, "action": "preview"})
    other = (
        SynchroteamStockLevel.objects.for_tenant(world.tenant)
        .filter(depot_vendor_id=van.vendor_id)
        .exclude(part_vendor_id=level.part_vendor_id)
        .first()
    )
    other_url = reverse("dispatch:inventory_replenish", args=[van.vendor_id, other.part_vendor_id])
    data = {
        "source": main.vendor_id,
        "quantity": 1,
        "action": "confirm",
        "token": preview.context["token"],
    }
    page = client.post(other_url, data)
    assert page.status_code == 200 and not VendorWrite.objects.exists()
    assert "another action, person or record" in page.content.decode()


def test_selectors_agree_with_the_sandbox_totals(world, stocked):
    overview = selectors.depot_overview(world.tenant)
    units = sum(r.units for r in overview["warehouses"] + overview["vehicles"])
    assert units == sum(
        r["quantity"] for r in stocked.sandbox.store.select("synchroteam.stockpart")
    )


def test_a_fractional_shortfall_is_replenished_up_to_the_minimum_and_counted_once(world, stocked):
    """2.5 missing asks 3 (rounding down would leave the van below its minimum); the index
    counts the level once, as the below-threshold list does."""
    _, van, level = _van_level(world)
    assert _set_minimum(world, van, level, level.quantity + Decimal("2.5")).status_code == 302
    client = world.client_for(world.dispatcher)
    url = reverse("dispatch:inventory_replenish", args=[van.vendor_id, level.part_vendor_id])
    assert client.get(url).context["form"].initial["quantity"] == 3
    index = client.get(reverse("dispatch:inventory"))
    assert (
        index.context["below"] == 1 == len(selectors.below_threshold(world.tenant, timezone.now()))
    )


def test_a_level_bar_stays_inside_its_track_for_a_negative_or_huge_count(world, stocked):
    import re

    depot = SynchroteamDepot.objects.for_tenant(world.tenant).filter(kind="vehicle").first()
    levels = list(SynchroteamStockLevel.objects.filter(depot_vendor_id=depot.vendor_id)[:2])
    SynchroteamStockLevel.objects.filter(pk=levels[0].pk).update(quantity=Decimal("-5"))
    html = (
        world.client_for(world.tech)
        .get(reverse("dispatch:inventory_depot", args=[depot.vendor_id]))
        .content.decode()
    )
    widths = [float(w) for w in re.findall(r'class="fill" width="([^"]+)"', html)]
    assert widths and all(0.0 <= w <= 100.0 for w in widths)
    assert 0.0 in widths  # the negative count draws an empty bar, not a negative width
    assert "-5 held" in html


def test_a_movement_late_on_a_local_sunday_counts_in_that_week(world, stocked):
    from zoneinfo import ZoneInfo

    from connectors.synchroteam.models import SynchroteamPartMovement
    from dispatch.inventory.charts import weeks_of

    zone = ZoneInfo("America/Los_Angeles")
    move = SynchroteamPartMovement.objects.for_tenant(world.tenant).exclude(part_vendor_id=None)[0]
    part = SynchroteamPart.objects.get(tenant=world.tenant, vendor_id=move.part_vendor_id)
    SynchroteamPartMovement.objects.filter(part_vendor_id=part.vendor_id).exclude(
        pk=move.pk
    ).update(is_deleted=True)
    today = dt.date(2026, 11, 25)  # a Wednesday; the week before began Monday Nov 16
    sunday_night = dt.datetime(2026, 11, 22, 23, 30, tzinfo=zone)  # Monday 07:30 UTC
    SynchroteamPartMovement.objects.filter(pk=move.pk).update(
        date=sunday_night, from_depot_vendor_id=None, to_depot_vendor_id=1, quantity=7
    )
    with timezone.override(zone):
        weeks = weeks_of(world.tenant, part, today=today, weeks=3)
    assert [w.start for w in weeks] == [
        dt.date(2026, 11, 9),
        dt.date(2026, 11, 16),
        today.replace(day=23),
    ]
    assert [w.received for w in weeks] == [0, 7, 0]


def test_the_offered_source_holds_what_is_asked_or_the_most_there_is():
    from types import SimpleNamespace as NS

    wh = NS(vendor_id=1, kind=SynchroteamDepot.Kind.WAREHOUSE)
    van_a = NS(vendor_id=2, kind=SynchroteamDepot.Kind.VEHICLE)
    van_b = NS(vendor_id=3, kind=SynchroteamDepot.Kind.VEHICLE)
    # a van holding 7 is not offered for 41 when the warehouse has 50
    assert selectors.default_source([(van_a, Decimal(7)), (wh, Decimal(50))], 41) == (wh, 41)
    # the warehouse first among those that can, even when a van holds more
    assert selectors.default_source([(van_a, Decimal(90)), (wh, Decimal(41))], 41) == (wh, 41)
    # nobody holds 41: the one holding the most, offered what it holds (whole units)
    assert selectors.default_source([(van_a, Decimal(7)), (van_b, Decimal("12.5"))], 41) == (
        van_b,
        12,
    )
    assert selectors.default_source([(van_a, Decimal("0.5"))], 3) == (van_a, 1)
    assert selectors.default_source([], 41) == (None, 41)


def test_the_replenish_form_offers_a_depot_that_can_fill_it(world, stocked):
    main, van, level = _van_level(world)
    held = SynchroteamStockLevel.objects.get(
        depot_vendor_id=main.vendor_id, part_vendor_id=level.part_vendor_id
    ).quantity
    others = SynchroteamStockLevel.objects.filter(part_vendor_id=level.part_vendor_id).exclude(
        depot_vendor_id__in=[main.vendor_id, van.vendor_id]
    )
    others.update(quantity=1)
    wanted = int(held) + int(level.quantity) - 1  # the main depot holds all of the shortfall
    _set_minimum(world, van, level, wanted)
    client = world.client_for(world.dispatcher)
    url = reverse("dispatch:inventory_replenish", args=[van.vendor_id, level.part_vendor_id])
    form = client.get(url).context["form"]
    assert form.initial["source"] == main.vendor_id
    SynchroteamStockLevel.objects.filter(pk__in=[o.pk for o in others]).update(quantity=0)
    SynchroteamStockLevel.objects.filter(
        depot_vendor_id=main.vendor_id, part_vendor_id=level.part_vendor_id
    ).update(quantity=3)
    page = client.get(url)
    assert page.context["form"].initial == {"quantity": 3, "source": main.vendor_id}
    assert "no single depot holds that many" in page.content.decode()


def test_when_no_depot_can_fill_it_the_one_holding_the_most_is_offered_even_a_van():
    from types import SimpleNamespace as NS

    wh = NS(vendor_id=1, kind=SynchroteamDepot.Kind.WAREHOUSE)
    van = NS(vendor_id=2, kind=SynchroteamDepot.Kind.VEHICLE)
    assert selectors.default_source([(wh, Decimal(3)), (van, Decimal(12))], 41) == (van, 12)
