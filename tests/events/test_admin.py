"""The Django admin shows outbound webhooks and stock minimums read-only, scoped to the
companies the admin user manages, and never an endpoint's signing secret."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from accounts.models import User
from connectors.events import services
from connectors.events.models import OutboundEvent, WebhookDelivery, WebhookEndpoint
from connectors.events.services import emit_event


def _endpoint(tenant, url):
    secret = services.new_secret()
    endpoint = WebhookEndpoint.objects.create(
        tenant=tenant,
        url=url,
        event_types=["job.completed"],
        secret=secret,
        secret_fingerprint=secret[-4:],
    )
    return endpoint, secret


def test_endpoints_events_and_deliveries_are_shown_without_the_secret(world):
    mine, secret = _endpoint(world.tenant, "https://bi.example.com/mine")
    theirs, _ = _endpoint(world.other_tenant, "https://bi.example.com/theirs")
    emit_event(world.tenant, "job.completed", {"job_id": 1})
    emit_event(world.other_tenant, "job.completed", {"job_id": 2})
    delivery = WebhookDelivery.objects.get(endpoint=mine)
    root = world.client_for(User.objects.create_superuser("root@fieldline.test", "x"))
    for url in (
        reverse("admin:events_webhookendpoint_changelist"),
        reverse("admin:events_webhookendpoint_change", args=[mine.pk]),
        reverse("admin:events_outboundevent_changelist"),
        reverse("admin:events_webhookdelivery_changelist"),
        reverse("admin:events_webhookdelivery_change", args=[delivery.pk]),
    ):
        page = root.get(url)
        assert page.status_code == 200, url
        assert secret not in page.content.decode(), url
    change = root.get(reverse("admin:events_webhookendpoint_change", args=[mine.pk]))
    assert 'name="url"' not in change.content.decode()  # read-only
    assert root.post(reverse("admin:events_webhookendpoint_add"), {}).status_code == 403

    world.owner.is_staff = True
    world.owner.save()
    owner = world.client_for(world.owner)
    listing = owner.get(reverse("admin:events_webhookendpoint_changelist")).content.decode()
    assert "/mine" in listing and "/theirs" not in listing
    foreign = owner.get(reverse("admin:events_webhookendpoint_change", args=[theirs.pk]))
    assert foreign.status_code in (302, 404)
    events = owner.get(reverse("admin:events_outboundevent_changelist")).content.decode()
    assert str(OutboundEvent.objects.get(tenant=world.other_tenant).uuid) not in events


def test_stock_minimums_are_listed_read_only(world):
    from connectors.models import Connection
    from dispatch.models import StockMinimum

    connection = Connection.objects.create(tenant=world.tenant, vendor="synchroteam", account="x")
    row = StockMinimum.objects.create(
        tenant=world.tenant,
        connection=connection,
        depot_vendor_id=11,
        part_vendor_id=22,
        minimum=Decimal("4"),
    )
    root = world.client_for(User.objects.create_superuser("root@fieldline.test", "x"))
    assert root.get(reverse("admin:dispatch_stockminimum_changelist")).status_code == 200
    page = root.get(reverse("admin:dispatch_stockminimum_change", args=[row.pk]))
    assert page.status_code == 200 and 'name="minimum"' not in page.content.decode()
