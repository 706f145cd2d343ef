"""Ready-made vendor write scenarios, for the tests, the fault benchmark and the chaos run."""

from __future__ import annotations


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
):
    """The four writes of one approved billing draft on a Syncro `ticket` (vendor JSON with
    ``id`` and ``customer_id``), chained: comment → line item (``minutes`` / 60 hours,
    ``taxable: false``, no ``price_retail``) → invoice from the ticket → status "Invoiced".
    Business keys are ``<key>:comment``, ``:line_item``, ``:invoice``, ``:status``."""
    from connectors.outbox.services import WriteSpec

    tid = ticket["id"]
    return [
        WriteSpec(
            "syncro.comment.create",
            {"ticket_id": tid},
            {"subject": "Resolution", "body": body, "hidden": hidden, "do_not_email": True},
            f"{key}:comment",
        ),
        WriteSpec(
            "syncro.line_item.create",
            {"ticket_id": tid},
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
        WriteSpec(
            "syncro.invoice.create",
            {"ticket_id": tid},
            {"ticket_id": tid, "customer_id": ticket["customer_id"], "category": "Standard"},
            f"{key}:invoice",
            depends_on=f"{key}:line_item",
        ),
        WriteSpec(
            "syncro.ticket.update",
            {"ticket_id": tid},
            {"status": "Invoiced"},
            f"{key}:status",
            depends_on=f"{key}:invoice",
        ),
    ]
