"""Inventory writes: a depot's minimum for a part (portal row), and a replenishment sent to
Synchroteam as a part request through the outbox, previewed then confirmed.

* `minimum_save(tenant=, connection=, depot=, part=, minimum=, by=) -> StockMinimum`
* `replenish_plan(connection=, user=, depot=, part=, source=, quantity=, urgent=, nonce=)
  -> WritePlan`: the exact ``partrequest/send`` body (``myId`` = the marker) and whose key.
* `replenish_enqueue(plan=, by=) -> WriteBatch`, `replenish_batch(tenant=, batch_uuid=)`.

Source of the body: `connectors.synchroteam.stock_writes` (README "Synchroteam inventory").
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from connectors.alerts.services import refresh_on_commit
from connectors.outbox.models import WriteBatch
from connectors.outbox.plans import WritePlan, plan_actor
from connectors.outbox.services import plan_enqueue
from connectors.synchroteam.models import SynchroteamDepot, SynchroteamPart
from connectors.synchroteam.stock_writes import PART_REQUEST_CREATE
from dispatch.models import StockMinimum

#: `WriteBatch.kind` of a replenishment
BATCH_KIND = "dispatch.replenish"


class InventoryError(Exception):
    """The request cannot become a part request (the message is for the person)."""


def minimum_save(
    *, tenant, connection, depot: SynchroteamDepot, part: SynchroteamPart, minimum: Decimal, by
) -> StockMinimum:
    """Set (or change) the minimum of `part` in `depot`; the low-stock alert is re-evaluated
    after the commit, so it opens or clears at once."""
    with transaction.atomic():
        row, _ = StockMinimum.objects.update_or_create(
            connection=connection,
            depot_vendor_id=depot.vendor_id,
            part_vendor_id=part.vendor_id,
            defaults={"tenant": tenant, "minimum": minimum, "updated_by": by},
        )
        refresh_on_commit(tenant.pk)
    return row


def replenish_plan(
    *,
    connection,
    user,
    depot: SynchroteamDepot,
    part: SynchroteamPart,
    source: SynchroteamDepot,
    quantity: int,
    urgent: bool,
    nonce: str,
) -> WritePlan:
    """One ``partrequest/send`` moving `quantity` of `part` from `source` into `depot`, for the
    van's technician when `depot` is a van. `nonce` is made at preview and comes back in the
    signed token: confirming twice enqueues once, and the ``myId`` shown is the one sent.

    Raises:
        InventoryError: the source is the depot itself, or the quantity is not positive.
    """
    if source.vendor_id == depot.vendor_id:
        raise InventoryError("Pick another depot to take the parts from.")
    if quantity < 1:
        raise InventoryError("Ask for at least one.")
    payload: dict = {
        "part": {"id": part.vendor_id, "reference": part.reference},
        "quantity": quantity,
        "depot": {"id": depot.vendor_id},
        "fromDepot": {"id": source.vendor_id},
        "isUrgent": bool(urgent),
        "comment": "Replenish to minimum (Fieldline)",
    }
    if depot.user_vendor_id:
        payload["user"] = {"id": depot.user_vendor_id}
    plan = WritePlan(
        connection=connection,
        kind=BATCH_KIND,
        key=f"st-preq:{nonce}",
        label=f"Replenish {quantity} × {part.reference} into {depot.name}"[:200],
        subject={"depot_id": depot.vendor_id, "part_id": part.vendor_id},
        actor=plan_actor(connection, user),
    )
    plan.add(PART_REQUEST_CREATE, {"depot_id": depot.vendor_id}, payload, "request")
    return plan


def plan_nonce(plan: WritePlan) -> str:
    """The part of the plan's key the signed token carries."""
    return plan.key.rsplit(":", 1)[-1]


def replenish_enqueue(*, plan: WritePlan, by) -> WriteBatch:
    """Enqueue the confirmed plan (a second confirm of the same token finds the same batch).

    Raises:
        accounts.models.NoCredential: no Synchroteam key for the person nor the company.
    """
    return plan_enqueue(plan, by=by)


def replenish_batch(*, tenant, batch_uuid) -> WriteBatch | None:
    """The tenant's replenishment batch with this UUID (None for anything else)."""
    return WriteBatch.objects.filter(tenant=tenant, kind=BATCH_KIND, uuid=batch_uuid).first()
