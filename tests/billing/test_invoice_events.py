"""An invoice the portal creates in Syncro (approved draft, outbox, write-through) raises
``invoice.created`` once for the company's receiver (issue 16, build item 5)."""

from __future__ import annotations

import json

import pytest

from connectors.events import delivery, watch
from connectors.syncro.models import SyncroInvoice
from tests.billing.test_write_through import _approved, _settled
from tests.events.receiver import receiver  # noqa: F401 - fixture
from tests.events.test_outbound_webhooks import _add_endpoint, _verify

pytestmark = pytest.mark.django_db(transaction=False)


def test_an_invoice_made_by_the_portal_raises_invoice_created_once(
    syncro,
    world,
    receiver,  # noqa: F811 - the imported fixture
    django_capture_on_commit_callbacks,
):
    secret = _add_endpoint(world.client_for(world.owner), receiver.url, ["invoice.created"])
    watch.scan_connection(syncro.connection.pk)  # the baseline after the first full sync
    before = set(SyncroInvoice.objects.values_list("vendor_id", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        _settled(_approved(syncro, world))
    delivery.deliver_due()
    assert len(receiver.requests) == 1  # raised by the write-through, no sync ran
    watch.scan_connection(syncro.connection.pk)  # a later sync sees the same invoice
    delivery.deliver_due()
    (new,) = set(SyncroInvoice.objects.values_list("vendor_id", flat=True)) - before
    events = [_verify(secret, r) for r in receiver.requests]
    assert [(e["type"], e["data"]["invoice_id"]) for e in events] == [("invoice.created", new)]
    assert json.loads(receiver.requests[0].body)["data"]["vendor"] == "syncro"
