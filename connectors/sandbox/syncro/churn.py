"""Syncro churn: tickets move along, new ones arrive, invoices get paid, the odd ticket is
deleted; stamped with the sandbox's now."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.sandbox import accounts
from connectors.sandbox.store import Where
from connectors.sandbox.vendor import Ctx

from .records import (
    K_COMMENT,
    K_CUSTOMER,
    K_INVOICE,
    K_LINE,
    K_TICKET,
    K_TIMER,
    ts,
    user_obj,
)
from .tickets import TicketRoutes
from .vocab import (
    COMMENT_BODIES,
    OPEN_STATUSES,
    PRIORITIES,
    PROBLEM_TYPES,
    SUBJECTS,
)

if TYPE_CHECKING:
    from .emulator import SyncroSandbox


def churn_syncro(v: SyncroSandbox, count: int, rng: Any) -> dict[str, Any]:
    """Move open tickets along (status + comment), create new tickets, add a line item here and
    there, mark an invoice paid, delete the odd ticket. All stamped with the sandbox's now."""
    sb = v.sandbox
    store = sb.store
    out: dict[str, list[int]] = {"updated": [], "created": [], "deleted": []}
    if count <= 0:
        return out
    open_ids = store.ids(K_TICKET, [Where("status NOT IN ('Invoiced', 'Closed')")])
    all_customers = store.ids(K_CUSTOMER)
    user = rng.choice(accounts.SYNCRO_USERS)
    ctx = Ctx(sb, None, user)  # type: ignore[arg-type]
    for tid in rng.sample(open_ids, min(len(open_ids), max(count // 2, 1))):
        ticket = store.get(K_TICKET, tid)
        if ticket is None:
            continue
        idx = OPEN_STATUSES.index(ticket["status"]) if ticket["status"] in OPEN_STATUSES else 0
        new_status = (
            "Resolved"
            if rng.random() < 0.3
            else OPEN_STATUSES[min(idx + 1, len(OPEN_STATUSES) - 1)]
        )
        v._apply_ticket_fields(ctx, ticket, {"status": new_status})
        v.add_comment(
            ctx,
            ticket,
            {
                "subject": "Update",
                "body": rng.choice(COMMENT_BODIES).format(
                    name="the user",
                    company="the vendor",
                    num=rng.randrange(100000, 999999),
                    day="Monday",
                ),
                "hidden": rng.random() < 0.5,
            },
        )
        store.put(K_TICKET, ticket)
        out["updated"].append(tid)
    for _ in range(max(count // 4, 1)):
        customer = store.get(K_CUSTOMER, rng.choice(all_customers))
        tid = store.next_id(K_TICKET)
        number = store.next_id("syncro.ticket_number")
        ticket = TicketRoutes.new_ticket(
            tid,
            number,
            customer,
            subject=rng.choice(SUBJECTS).format(
                name="a user", company=customer["business_then_name"]
            ),
            at=sb.clock.now(),
        )
        ticket.update(
            priority=rng.choice(PRIORITIES),
            problem_type=rng.choice(PROBLEM_TYPES),
            user_id=user.user_id,
            user=user_obj(user.user_id),
        )
        store.put(K_TICKET, ticket)
        v.add_comment(
            ctx,
            ticket,
            {
                "subject": "Initial Issue",
                "body": "Customer called in: "
                + rng.choice(SUBJECTS).format(name="a user", company="their vendor"),
            },
        )
        out["created"].append(tid)
    unpaid = store.ids(K_INVOICE, [Where("status = 'unpaid'")])
    for iid in rng.sample(unpaid, min(len(unpaid), max(count // 10, 1))):
        inv = store.get(K_INVOICE, iid)
        inv.update(is_paid=True, verified_paid=True, updated_at=ts(sb.clock.now()))
        store.put(K_INVOICE, inv)
    candidates = sorted(set(open_ids) - set(out["updated"]))
    if count >= 10 and candidates:
        tid = rng.choice(candidates)
        if store.get(K_TICKET, tid) and not store.count(
            K_INVOICE, [Where("parent_id = ?", (tid,))]
        ):
            for kind in (K_COMMENT, K_LINE, K_TIMER):
                store.delete_where(kind, [Where("parent_id = ?", (tid,))])
            store.delete(K_TICKET, tid)
            out["deleted"].append(tid)
    return out
