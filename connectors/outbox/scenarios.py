"""Ready-made write plans for the tests, the fault benchmark and the chaos run.

They build the same shapes the product builds (billing's `draft_plan`), from vendor JSON rather
than mirrored rows, so a test can drive the outbox against the sandbox without a draft. Not
used by any page.
"""

from __future__ import annotations

import hashlib

from connectors.outbox.plans import PlannedWrite, WritePlan, plan_actor
from connectors.syncro.writes import (
    COMMENT_CREATE,
    INVOICE_CREATE,
    LINE_ITEM_CREATE,
    TICKET_UPDATE,
    TIMER_CHARGE,
)


def billing_chain(
    ticket: dict,
    *,
    key: str,
    product_id: int,
    body: str,
    description: str,
    product_name: str = "Labor - Onsite Business",
    hidden: bool = True,
    minutes: int = 45,
) -> list[PlannedWrite]:
    """The four writes of one approved billing draft on a Syncro `ticket` (vendor JSON with
    ``id`` and ``customer_id``), chained: comment → line item (``minutes`` / 60 hours,
    ``taxable: false``, no ``price_retail``) → invoice from the ticket → status "Invoiced".
    Business keys are ``<key>:comment``, ``:line_item``, ``:invoice``, ``:status``."""
    tid = ticket["id"]
    target = {"ticket_id": tid}
    return [
        PlannedWrite(
            COMMENT_CREATE,
            target,
            {"subject": "Resolution", "body": body, "hidden": hidden, "do_not_email": True},
            f"{key}:comment",
        ),
        PlannedWrite(
            LINE_ITEM_CREATE,
            target,
            {
                "product_id": product_id,
                "quantity": round(minutes / 60, 2),
                "name": product_name,
                "description": description,
                "taxable": False,
            },
            f"{key}:line_item",
            depends_on=f"{key}:comment",
        ),
        PlannedWrite(
            INVOICE_CREATE,
            target,
            {"ticket_id": tid, "customer_id": ticket["customer_id"], "category": "Standard"},
            f"{key}:invoice",
            depends_on=f"{key}:line_item",
        ),
        PlannedWrite(
            TICKET_UPDATE,
            target,
            {"status": "Invoiced"},
            f"{key}:status",
            depends_on=f"{key}:invoice",
        ),
    ]


def timer_charge(ticket_id: int, timer_id: int) -> PlannedWrite:
    """The charge of one Syncro timer entry, keyed as the ticket page keys it
    (``timer:<ticket>:<timer>:charge``, `billing.timers.timer_key`): body ``{timer_entry_id}``."""
    return PlannedWrite(
        TIMER_CHARGE,
        {"ticket_id": ticket_id, "timer_entry_id": timer_id},
        {"timer_entry_id": timer_id},
        f"timer:{ticket_id}:{timer_id}:charge",
    )


def plan_of(connection, writes: list[PlannedWrite], *, user=None, kind: str = "test") -> WritePlan:
    """A plan holding `writes` as given, sent with `user`'s key (else the tenant's shared one).

    The batch key is derived from the writes' business keys, so the same writes planned twice
    are one batch."""
    keys = "|".join(w.key for w in writes)
    return WritePlan(
        connection=connection,
        kind=kind,
        key=f"{kind}:" + hashlib.sha256(keys.encode()).hexdigest()[:32],
        label=writes[0].key if writes else kind,
        subject=dict(writes[0].target) if writes else {},
        actor=plan_actor(connection, user),
        writes=list(writes),
    )
