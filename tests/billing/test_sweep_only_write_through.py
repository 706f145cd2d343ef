"""A stream left out of the 10-minute incremental (`Changes.SWEEP`: Syncro line items have no
updated-since filter) still shows the portal's own writes at once: the outbox writes them
through to the mirror (connectors/syncro/mirror.py), no sync runs."""

from __future__ import annotations

import pytest

from connectors.mapping import Changes
from connectors.models import SyncRun
from connectors.schedules import incremental_resources
from connectors.syncro.models import SyncroLineItem
from connectors.syncro.writes import INVOICE_CREATE, LINE_ITEM_CREATE
from connectors.vendors import vendor_for
from tests.billing.test_write_through import _approved, _settled, _writes

pytestmark = pytest.mark.django_db(transaction=False)


def test_a_line_item_the_portal_wrote_is_mirrored_though_line_items_are_swept_nightly(
    syncro, world
):
    assert vendor_for("syncro").stream("line_items").changes == Changes.SWEEP
    assert "line_items" not in incremental_resources(syncro.connection)
    runs = SyncRun.objects.count()

    draft = _settled(_approved(syncro, world))

    assert SyncRun.objects.count() == runs  # no sync ran
    writes = _writes(draft)
    invoice_id = int(writes[INVOICE_CREATE].remote_id)
    line = SyncroLineItem.objects.get(
        connection=syncro.connection,
        invoice_vendor_id=invoice_id,
        name__contains=writes[LINE_ITEM_CREATE].marker,
    )
    assert not line.is_deleted and line.ticket_vendor_id == syncro.ticket.vendor_id
