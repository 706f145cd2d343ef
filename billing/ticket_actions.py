"""Ticket actions: comment, status / priority / technician, close, new ticket.

Each action is planned on the server (`connectors.outbox.plans.WritePlan`), shown as the exact
JSON the vendor will receive, and sent only when the person confirms that very preview
(seed ``/syncro``: "show the full payload before any POST"). The preview carries a signed token
bound to the tenant, the person, the action and the ticket, with a server-made nonce that is the
batch key (`action_token` / `action_plan_confirmed`): a forged token, one made for another
ticket or person, or a key typed into the form never reaches another object's writes, and a
double-clicked Confirm finds the same batch and makes one write.

Public API (keyword-only):

* `comment_plan`, `ticket_update_plan`, `ticket_close_plan`, `ticket_create_plan` -> WritePlan
* `action_token(plan=, tenant=, user=, action=, obj=) -> str`
* `action_confirm(plan=, token=, by=, action=, obj=, ticket=, note=) -> WriteBatch`
* `ticket_action_batches(tenant=, ticket_vendor_id=) -> list[WriteBatch]`
* `session_log_markdown(ticket=, comments=, resolution=) -> str`
* `session_log_summary(ticket=, comments=) -> str` (the Close form's starting resolution)
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from accounts.models import Tenant
from billing.models import ApprovalEvent
from connectors.models import Connection
from connectors.outbox.models import WriteBatch
from connectors.outbox.plans import (
    WritePlan,
    plan_actor,
    plan_token,
    plan_token_check,
    token_nonce,
)
from connectors.outbox.services import plan_enqueue
from connectors.syncro.models import SyncroCustomer, SyncroTicket
from connectors.syncro.writes import COMMENT_CREATE, TICKET_CREATE, TICKET_UPDATE

#: `WriteBatch.kind` of every ticket action.
BATCH_KIND = "billing.ticket_action"


class ActionError(Exception):
    """The action cannot be planned as asked; the message is for the person."""


def action_key(action: str, nonce: str) -> str:
    """The batch key of one ticket action: ``ticket-action:<action>:<nonce>``."""
    return f"ticket-action:{action}:{nonce}"


def comment_payload(*, subject: str, body: str, hidden: bool, do_not_email: bool) -> dict:
    """``POST /tickets/{id}/comment`` body (flat, never wrapped in ``{"comment": …}``: 422)."""
    return {"subject": subject, "body": body, "hidden": hidden, "do_not_email": do_not_email}


def _plan(connection: Connection, user, action: str, nonce: str, label: str, subject: dict):
    return WritePlan(
        connection=connection,
        kind=BATCH_KIND,
        key=action_key(action, nonce),
        label=label,
        subject=subject,
        actor=plan_actor(connection, user),
    )


def comment_plan(
    *,
    connection: Connection,
    user,
    nonce: str,
    ticket: SyncroTicket,
    subject: str,
    body: str,
    hidden: bool,
    do_not_email: bool,
) -> WritePlan:
    """A comment on `ticket` (seed: subject and body required; hidden / do_not_email asked)."""
    plan = _plan(
        connection, user, "comment", nonce, f"Comment on #{ticket.number}", _subject(ticket)
    )
    plan.add(
        COMMENT_CREATE,
        {"ticket_id": ticket.vendor_id},
        comment_payload(subject=subject, body=body, hidden=hidden, do_not_email=do_not_email),
        "comment",
    )
    return plan


def ticket_update_plan(
    *, connection: Connection, user, nonce: str, ticket: SyncroTicket, changes: dict
) -> WritePlan:
    """``PUT /tickets/{id}`` with only the fields that change (status, priority, user_id).

    Raises:
        ActionError: nothing changes.
    """
    current = {
        "status": ticket.status,
        "priority": ticket.priority,
        "user_id": ticket.user_vendor_id,
    }
    payload = {k: v for k, v in changes.items() if k in current and v != current[k]}
    if not payload:
        raise ActionError("Nothing to change: the ticket already has these values.")
    plan = _plan(connection, user, "update", nonce, f"Change #{ticket.number}", _subject(ticket))
    plan.add(TICKET_UPDATE, {"ticket_id": ticket.vendor_id}, payload, "update")
    return plan


def ticket_close_plan(
    *,
    connection: Connection,
    user,
    nonce: str,
    ticket: SyncroTicket,
    status: str,
    resolution: str,
    hidden: bool,
    do_not_email: bool,
) -> WritePlan:
    """Close: a "Resolution" comment, then (once it is confirmed) the closing status."""
    plan = _plan(connection, user, "close", nonce, f"Close #{ticket.number}", _subject(ticket))
    target = {"ticket_id": ticket.vendor_id}
    comment = plan.add(
        COMMENT_CREATE,
        target,
        comment_payload(
            subject="Resolution", body=resolution, hidden=hidden, do_not_email=do_not_email
        ),
        "comment",
    )
    plan.add(TICKET_UPDATE, target, {"status": status}, "status", after=comment)
    return plan


def ticket_create_plan(
    *,
    connection: Connection,
    user,
    nonce: str,
    customer: SyncroCustomer,
    subject: str,
    problem_type: str,
    status: str,
    priority: str,
    user_id: int,
) -> WritePlan:
    """``POST /tickets``: every field asked for (seed: "Always set user_id and priority")."""
    plan = _plan(
        connection,
        user,
        "create",
        nonce,
        f"New ticket for {customer.name}",
        {"customer_id": customer.vendor_id},
    )
    payload = {
        "customer_id": customer.vendor_id,
        "subject": subject,
        "problem_type": problem_type,
        "status": status,
        "priority": priority,
        "user_id": user_id,
    }
    plan.add(TICKET_CREATE, {"customer_id": customer.vendor_id}, payload, "create")
    return plan


def _subject(ticket: SyncroTicket) -> dict:
    return {"ticket_id": ticket.vendor_id, "ticket_number": ticket.number}


def action_token(*, plan: WritePlan, tenant: Tenant, user, action: str, obj: str) -> str:
    """The signed token the preview form carries to Confirm (see the module docstring)."""
    nonce = plan.key.rsplit(":", 1)[-1]
    return plan_token(
        tenant=tenant, user=user, action=action, obj=obj, nonce=nonce, fingerprint=plan.fingerprint
    )


def action_nonce(*, token: str, tenant: Tenant, user, action: str, obj: str) -> str:
    """The server-made nonce inside a Confirm's token.

    Raises:
        connectors.outbox.plans.PlanRefused: forged, expired, or made for something else.
    """
    return token_nonce(token, tenant=tenant, user=user, action=action, obj=obj)


def action_confirm(
    *,
    plan: WritePlan,
    token: str,
    by,
    action: str,
    obj: str,
    ticket: SyncroTicket | None,
    note: str = "",
) -> WriteBatch:
    """Check the token against the rebuilt `plan`, then queue its writes and record who asked
    (one transaction). Confirming the same token again returns the same batch.

    Raises:
        connectors.outbox.plans.PlanRefused: the token does not fit this preview.
        accounts.models.NoCredential: no Syncro key for the person and no shared one.
    """
    tenant = plan.connection.tenant
    plan_token_check(token, tenant=tenant, user=by, action=action, obj=obj, plan=plan)
    with transaction.atomic():
        already = WriteBatch.objects.filter(tenant=tenant, key=plan.key).exists()
        batch = plan_enqueue(plan, by=by)
        if not already:
            writes = list(batch.writes.order_by("id"))
            ApprovalEvent.objects.create(
                tenant=tenant,
                ticket_vendor_id=ticket.vendor_id if ticket else None,
                ticket_number=ticket.number if ticket else "",
                kind=ApprovalEvent.Kind.REQUESTED,
                actor=by,
                after={
                    "writes": [{"operation": w.operation, "payload": w.payload} for w in writes]
                },
                note=note,
                operation=writes[0].operation if writes else "",
                write_uuid=writes[0].uuid if writes else None,
            )
    return batch


def ticket_action_batches(*, tenant: Tenant, ticket_vendor_id: int, limit: int = 10):
    """The ticket's recent action batches with their writes, newest first."""
    return list(
        WriteBatch.objects.filter(
            tenant=tenant, kind=BATCH_KIND, subject__ticket_id=ticket_vendor_id
        )
        .select_related("requested_by")
        .prefetch_related("writes")
        .order_by("-created_at", "-id")[:limit]
    )


def session_log_markdown(*, ticket: SyncroTicket, comments: list, resolution: str = "") -> str:
    """A session-log entry for a closed ticket (seed /syncro "Integration with session logs"):
    subject, customer, comments oldest first, and the resolution, as Markdown.

    Args:
        comments: mirrored `SyncroTicketComment`s (any order).
        resolution: the resolution text (the last "Resolution" comment when empty).
    """
    ordered = sorted(comments, key=lambda c: (c.vendor_created_at or timezone.now(), c.vendor_id))
    if not resolution:
        resolved = [c for c in ordered if c.subject.strip().lower() == "resolution"]
        resolution = resolved[-1].body if resolved else ""
    lines = [f"# Session log: #{ticket.number} {ticket.subject}", ""]
    lines.append(f"- Customer: {ticket.customer_name}")
    lines.append(f"- Status: {ticket.status}")
    if ticket.vendor_created_at:
        lines.append(f"- Opened: {_local(ticket.vendor_created_at)}")
    if ticket.resolved_at:
        lines.append(f"- Resolved: {_local(ticket.resolved_at)}")
    lines += ["", "## Comments", ""]
    for c in ordered:
        when = _local(c.vendor_created_at) if c.vendor_created_at else ""
        vis = " (internal)" if c.hidden else ""
        lines += [
            f"### {when} · {c.subject or 'Comment'}{vis} · {c.tech or 'unknown'}",
            "",
            c.body.strip(),
            "",
        ]
    if not ordered:
        lines += ["_No comments._", ""]
    lines += ["## Resolution", "", resolution.strip() or "_No resolution recorded._", ""]
    return "\n".join(lines)


#: How many of the latest comments the Close form's starting text summarises.
SUMMARY_COMMENTS = 15
#: The reference the portal appends to what it posts (``connectors.syncro.writes.COMMENT_REF``).
_PORTAL_REF = re.compile(r"\s*Ref: FL-[0-9A-F]{10}\s*$")
_TAGS = re.compile(r"<[^>]+>")


def session_log_summary(*, ticket: SyncroTicket, comments: list) -> str:
    """The session log (`session_log_markdown`) cut down to the editable starting text of a
    resolution comment: the ticket line and one line per public comment, oldest first (the
    last `SUMMARY_COMMENTS`), each flattened to plain text of at most 200 characters.

    Internal (hidden) comments are left out, since the resolution may be sent to the customer,
    and so are earlier "Resolution" comments and the portal's own ``Ref: FL-…`` markers.

    Args:
        comments: mirrored `SyncroTicketComment`s (any order).
    """
    ordered = sorted(comments, key=lambda c: (c.vendor_created_at or timezone.now(), c.vendor_id))
    public = [c for c in ordered if not c.hidden and c.subject.strip().lower() != "resolution"][
        -SUMMARY_COMMENTS:
    ]
    lines = [f"#{ticket.number} {ticket.subject}".strip()]
    if ticket.customer_name:
        lines[0] += f" ({ticket.customer_name})"
    lines.append("")
    if public:
        lines.append("Work done:")
    for c in public:
        text = " ".join(_TAGS.sub(" ", _PORTAL_REF.sub("", c.body or "")).split())
        text = text if len(text) <= 200 else text[:199].rstrip() + "…"
        when = f"{c.vendor_created_at:%Y-%m-%d}" if c.vendor_created_at else ""
        head = " · ".join(p for p in (when, c.subject.strip(), c.tech.strip()) if p)
        lines.append(f"- {head}: {text}" if head else f"- {text}")
    lines += ["", "Resolution: "]
    return "\n".join(lines)


def _local(when) -> str:
    """An aware datetime in the active zone with its abbreviation: "2026-11-02 09:05 PST"."""
    return f"{timezone.localtime(when):%Y-%m-%d %H:%M %Z}"
