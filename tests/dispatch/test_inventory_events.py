"""Inventory wired to the outbound events and the BI exports (`dispatch.inventory.events`)."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from connectors.events.models import OutboundEvent
from connectors.events.services import endpoint_create
from connectors.synchroteam.models import SynchroteamStockLevel
from tests.dispatch.test_inventory import _set_minimum, _van_level, stocked  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_level_going_below_its_minimum_raises_one_stock_event(
    world,
    stocked,  # noqa: F811 - the fixture imported above
    settings,
    django_capture_on_commit_callbacks,
):
    settings.OUTBOUND_WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    endpoint, _secret = endpoint_create(
        world.tenant, url="http://127.0.0.1:9/hook", event_types=["stock.below_threshold"]
    )
    main, van, level = _van_level(world)
    with django_capture_on_commit_callbacks(execute=True):  # the refresh after the save
        assert _set_minimum(world, van, level, level.quantity + 2).status_code == 302
    events = list(OutboundEvent.objects.filter(tenant=world.tenant))
    assert [e.event_type for e in events] == ["stock.below_threshold"]
    data = events[0].payload
    assert (data["depot_id"], data["part_id"]) == (van.vendor_id, level.part_vendor_id)
    assert data["depot_name"] == van.name
    assert float(data["threshold"]) == float(level.quantity + 2)
    assert float(data["quantity"]) == float(level.quantity)
    assert events[0].deliveries.filter(endpoint=endpoint).count() == 1
    # Setting the same minimum again is no new crossing: no second event.
    with django_capture_on_commit_callbacks(execute=True):
        _set_minimum(world, van, level, level.quantity + 2)
    assert OutboundEvent.objects.filter(tenant=world.tenant).count() == 1


def test_the_stock_export_lists_every_level_with_its_minimum(world, stocked):  # noqa: F811
    main, van, level = _van_level(world)
    _set_minimum(world, van, level, level.quantity + 1)
    response = world.client_for(world.dispatcher).get(
        reverse("dispatch:export_download", args=["stock"])
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == SynchroteamStockLevel.objects.for_tenant(world.tenant).alive().count()
    (mine,) = [
        r
        for r in rows
        if r["depot_id"] == str(van.vendor_id) and r["part_id"] == str(level.part_vendor_id)
    ]
    assert (mine["depot"], mine["below_minimum"]) == (van.name, "yes")
    assert float(mine["minimum"]) == float(level.quantity + 1)
