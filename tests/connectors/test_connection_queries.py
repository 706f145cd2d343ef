"""One way to find a tenant's connection: ``Connection.objects.for_tenant(t).enabled().of(v)``;
the per-app helpers agree with it (disabled connections are not offered)."""

from __future__ import annotations

import pytest

from accounts.models import Vendor
from billing.selectors import syncro_connection
from connectors.fieldcamp.services import fieldcamp_connection
from connectors.models import Connection
from dispatch.selectors import synchroteam_connection

pytestmark = pytest.mark.django_db


def _connect(tenant, vendor, *, enabled=True):
    return Connection.objects.create(tenant=tenant, vendor=vendor, account="a", enabled=enabled)


def test_of_keeps_only_the_vendors_connections(world):
    syncro = _connect(world.tenant, Vendor.SYNCRO)
    _connect(world.tenant, Vendor.FIELDCAMP)
    _connect(world.other_tenant, Vendor.SYNCRO)
    found = Connection.objects.for_tenant(world.tenant).enabled().of(Vendor.SYNCRO)
    assert list(found) == [syncro]


def test_a_disabled_connection_is_not_found(world):
    _connect(world.tenant, Vendor.SYNCHROTEAM, enabled=False)
    assert not Connection.objects.for_tenant(world.tenant).enabled().of(Vendor.SYNCHROTEAM)


def test_the_helpers_agree_with_the_queryset(world):
    syncro = _connect(world.tenant, Vendor.SYNCRO)
    _connect(world.tenant, Vendor.SYNCHROTEAM, enabled=False)
    fieldcamp = _connect(world.tenant, Vendor.FIELDCAMP)
    assert syncro_connection(world.tenant) == syncro
    assert synchroteam_connection(world.tenant) is None
    assert fieldcamp_connection(world.tenant) == fieldcamp
    assert syncro_connection(world.other_tenant) is None  # the outsider's tenant has none
