"""The vendor registry: every vendor has one descriptor, shared code asks it, and the rules that
moved into the descriptors (budgets, quota headers, base URLs) behave as before. That shared
code never branches on a vendor name is tests/test_structure.py's job."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import Vendor as VendorName
from connectors.errors import QuotaExhausted
from connectors.fieldcamp.client import FieldCampClient
from connectors.models import Connection, LimitState
from connectors.outbox.handlers import handler_for
from connectors.ratelimit import ConnectionGate
from connectors.services import client_for_secret
from connectors.synchroteam.client import SynchroteamClient
from connectors.syncro.client import SyncroClient
from connectors.vendors import UnknownVendor, all_vendors, vendor_for


def test_every_vendor_value_has_a_descriptor_with_its_name():
    for value in VendorName.values:
        assert vendor_for(value).name == value
    assert [v.name for v in all_vendors()] == ["syncro", "synchroteam", "fieldcamp"]


def test_an_unknown_vendor_name_is_refused():
    with pytest.raises(UnknownVendor):
        vendor_for("zoho")


@pytest.mark.parametrize(
    ("vendor", "client_class"),
    [("syncro", SyncroClient), ("synchroteam", SynchroteamClient), ("fieldcamp", FieldCampClient)],
)
def test_a_connection_resolves_its_descriptor_and_client(db, world, vendor, client_class):
    connection = Connection.objects.create(tenant=world.tenant, vendor=vendor, account="acme")
    assert connection.vendor_descriptor is vendor_for(vendor)
    client = client_for_secret(connection, "secret-1")
    try:
        assert isinstance(client, client_class)
    finally:
        client.close()


def test_default_base_urls_follow_each_vendors_rule(db, world):
    make = lambda vendor: Connection(tenant=world.tenant, vendor=vendor, account="acme")  # noqa: E731
    assert make("syncro").default_base_url == settings.SYNCRO_BASE_URL_TEMPLATE.format(
        account="acme"
    )
    assert make("synchroteam").default_base_url == settings.SYNCHROTEAM_BASE_URL
    assert make("fieldcamp").default_base_url == settings.FIELDCAMP_BASE_URL


def test_each_descriptor_exposes_the_write_handlers_the_outbox_runs():
    for descriptor in all_vendors():
        assert descriptor.write_handlers
        for handler in descriptor.write_handlers:
            assert handler.vendor == descriptor.name
            assert handler_for(handler.operation) is handler


def test_streams_are_found_by_resource_and_unique_per_vendor():
    for descriptor in all_vendors():
        resources = [s.resource for s in descriptor.streams]
        assert len(resources) == len(set(resources))
        assert descriptor.stream(resources[0]) is descriptor.streams[0]
        with pytest.raises(KeyError):
            descriptor.stream("no-such-stream")


def test_only_synchroteam_and_fieldcamp_take_webhooks():
    assert vendor_for("syncro").webhook is None
    assert vendor_for("synchroteam").webhook.delivery_header == "X-Delivery-Id"
    assert vendor_for("fieldcamp").webhook.delivery_header == "X-FieldCamp-Delivery-Id"


def test_syncro_budgets_share_the_egress_scope_across_tenants(db, world):
    a = Connection(tenant=world.tenant, vendor="syncro", account="a")
    b = Connection(tenant=world.other_tenant, vendor="syncro", account="b")
    limits = vendor_for("syncro").limits
    budgets_a, budgets_b = limits.budgets(a, "token-a"), limits.budgets(b, "token-b")
    egress = f"syncro:egress:{settings.SYNCRO_EGRESS_ID}"
    assert budgets_a[-1].scope == budgets_b[-1].scope == egress  # the vendor's limit: per IP
    assert budgets_a[0].scope != budgets_b[0].scope  # each tenant's reads share
    assert [b.kinds for b in budgets_a] == [("read",), ("read",), ("read", "write")]
    assert limits.retry_after_default == 60.0


def test_synchroteam_quota_headers_pause_background_reads_but_not_writes(db, world):
    connection = Connection.objects.create(tenant=world.tenant, vendor="synchroteam", account="x")
    gate = ConnectionGate(connection, "key-1", max_wait=0.1)
    reset = (timezone.now() + dt.timedelta(hours=2)).isoformat()
    response = httpx.Response(
        200,
        headers={
            "X-Quota-Remaining": str(settings.SYNCHROTEAM_QUOTA_RESERVE),
            "X-Quota-Limit": "15000",
            "X-Quota-Reset": reset,
        },
    )
    gate.after(response, method="GET", kind="read")
    state = LimitState.objects.get(scope=gate.vendor_scope)
    assert state.quota_remaining == settings.SYNCHROTEAM_QUOTA_RESERVE
    assert gate.quota_remaining == settings.SYNCHROTEAM_QUOTA_RESERVE
    with pytest.raises(QuotaExhausted):
        gate.before(method="GET", path="job/list", kind="read")
    gate.before(method="POST", path="job/send", kind="write")  # writes may use the reserve


def test_fieldcamp_rate_headers_block_the_key_near_its_limit(db, world):
    connection = Connection.objects.create(tenant=world.tenant, vendor="fieldcamp", account="w")
    gate = ConnectionGate(connection, "fc-key", max_wait=0.1)
    response = httpx.Response(
        200,
        headers={
            "X-RateLimit-Remaining": "1",
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Reset": "30",
        },
    )
    gate.after(response, method="GET", kind="read")
    state = LimitState.objects.get(scope=gate.vendor_scope)
    assert state.quota_remaining == 1 and state.quota_limit == 100
    assert state.blocked_until is not None and state.blocked_until > timezone.now()
