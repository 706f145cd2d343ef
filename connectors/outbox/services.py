"""Creating, settling and resolving vendor writes (the outbox's public API).

Callers (billing, dispatch) build a `connectors.outbox.plans.WritePlan`, show it, and once the
person confirms call `plan_enqueue` inside their own transaction, next to their own rows and the
audit row that records the decision; the executor does the rest. Every change of a write's state
goes through `set_state`, which also brings the write's `WriteBatch` state along in the same
transaction (the owner of the batch reads it from there: no signal back up).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import NoCredential
from connectors.alerts.services import refresh_on_commit as alerts_refresh
from connectors.outbox.handlers import handler_for
from connectors.outbox.models import (
    VendorWrite,
    VendorWriteAttempt,
    WriteBatch,
    marker_for,
    payload_fingerprint,
)
from connectors.outbox.plans import WritePlan
from connectors.signals import mirror_changed

log = logging.getLogger(__name__)


class InvalidTransition(ValueError):
    """A write was asked to change state in a way the outbox never does."""


def set_state(
    write: VendorWrite, new_state: str, *, detail: str = "", by=None, **fields
) -> VendorWrite:
    """Save `write` in `new_state` with `fields`; settle its batch in the same transaction.

    Args:
        detail: a sentence for the log (no secrets).
        by: the person who caused the change (a resolution), None for the worker.
    Must run inside a transaction. On CONFIRMED the handler's `write_through` updates the
    mirror from the vendor's answer (`mirror_write_through`: its failure never undoes this).

    Raises:
        InvalidTransition: `connectors.outbox.models.TRANSITIONS` does not allow the change.
    """
    if not write.can_become(new_state):
        raise InvalidTransition(f"A {write.state} write cannot become {new_state}.")
    old = write.state
    write.state = new_state
    for name, value in fields.items():
        setattr(write, name, value)
    if by is not None and getattr(by, "pk", None):
        write.resolved_by = by
    if new_state in VendorWrite.TERMINAL_STATES and write.completed_at is None:
        write.completed_at = timezone.now()
    write.save()
    if old != new_state:
        if new_state == VendorWrite.State.CONFIRMED:
            mirror_write_through(write)
        batch_settle(write.batch_id)
        if {old, new_state} & set(VendorWrite.PERSON_STATES):
            alerts_refresh(write.tenant_id)  # a write began or stopped waiting for a person
    return write


def mirror_write_through(write: VendorWrite) -> bool:
    """Run the handler's `write_through` for a just-confirmed `write` in a savepoint of the
    confirming transaction. Returns False when it failed: the error is logged, the mirror is
    left as it was for the next sync, and the confirmation stands."""
    try:
        handler = handler_for(write.operation)
        with transaction.atomic():
            handler.write_through(write)
        mirror_changed.send_robust(
            None, connection_id=write.connection_id, resource=getattr(handler, "mirrors", "")
        )
    except Exception:
        log.exception(
            "outbox: mirror write-through of write %s (%s) failed; the next sync brings it",
            write.pk,
            write.operation,
        )
        return False
    return True


def batch_settle(batch_id: int | None) -> WriteBatch | None:
    """Derive the batch's state from its writes (locks the batch row; inside a transaction)."""
    if batch_id is None:
        return None
    batch = WriteBatch.objects.select_for_update().filter(pk=batch_id).first()
    if batch is None:
        return None
    pairs = list(batch.writes.values_list("state", "vendor_message"))
    state, message = batch.state_from(pairs)
    if (state, message) != (batch.state, batch.vendor_message):
        batch.state, batch.vendor_message = state, message
        batch.save(update_fields=["state", "vendor_message", "updated_at"])
    return batch


def plan_enqueue(plan: WritePlan, *, by) -> WriteBatch:
    """Create the plan's `WriteBatch` and its writes, exactly as previewed, and schedule them on
    commit. Confirming the same plan key again returns the existing batch and creates nothing
    (a double-clicked Confirm makes one write).

    Args:
        plan: built on the server; `plan.actor` is whose key is used (the person's own, or the
            tenant's shared one: then ``used_shared_key`` is set and the vendor attributes the
            write to the shared key's owner).
        by: the person confirming.
    Returns:
        the batch (``batch.writes`` in chain order).
    Raises:
        accounts.models.NoCredential: no usable credential for this vendor.
        ValueError: `depends_on` names no earlier write of the plan.
    """
    connection = plan.connection
    tenant_id = connection.tenant_id
    with transaction.atomic():
        existing = WriteBatch.objects.filter(tenant_id=tenant_id, key=plan.key).first()
        if existing is not None:
            return existing
        if plan.actor is None:
            raise NoCredential(
                f"No {connection.get_vendor_display()} key for you and no shared key for the company."
            )
        batch = WriteBatch(
            tenant_id=tenant_id,
            connection=connection,
            kind=plan.kind,
            key=plan.key,
            label=plan.label[:200],
            subject=plan.subject,
            requested_by=by if getattr(by, "pk", None) else None,
        )
        try:
            with transaction.atomic():
                batch.save()
        except IntegrityError:
            # The other click of a double-click got there first: theirs is ours.
            return WriteBatch.objects.get(tenant_id=tenant_id, key=plan.key)
        by_key: dict[str, VendorWrite] = {}
        for planned in plan.writes:
            if planned.depends_on and planned.depends_on not in by_key:
                raise ValueError(f"depends_on {planned.depends_on!r} is not an earlier write.")
            body = planned.body
            by_key[planned.key] = VendorWrite.objects.create(
                tenant_id=tenant_id,
                connection=connection,
                batch=batch,
                operation=planned.operation,
                business_key=planned.key,
                depends_on=by_key.get(planned.depends_on) if planned.depends_on else None,
                target=planned.target,
                payload=body,
                payload_sha256=payload_fingerprint(body),
                marker=marker_for(planned.key),
                acting_user=by if getattr(by, "pk", None) else None,
                credential=plan.actor.credential,
                used_shared_key=plan.actor.is_shared,
                max_sends=settings.OUTBOX_MAX_SENDS,
            )
        ready = [w.id for w in by_key.values() if w.depends_on_id is None]
        if ready:
            transaction.on_commit(lambda: schedule_processing(ready))
    return batch


def schedule_processing(write_ids: list[int]) -> None:
    """Hand writes to the django-q2 cluster (a latency optimisation: the sweeper is the relay of
    record, so a lost enqueue only delays a write until the next sweep)."""
    if not settings.OUTBOX_ENQUEUE or not write_ids:
        return
    from django_q.tasks import async_task

    for write_id in write_ids:
        async_task(
            "connectors.outbox.tasks.process_write",
            write_id,
            task_name=f"outbox-write-{write_id}",
            q_options={"ack_failure": True},
        )


class ResolveError(Exception):
    """The write is not waiting for a person, or the action does not fit its state."""


def resolve_write(
    *, write: VendorWrite, by, action: str, remote_id: str | None = None, note: str = ""
) -> VendorWrite:
    """A person settles a write that waits for them (REJECTED or NEEDS_REVIEW).

    Actions:
        "mark_done": the person saw the record at the vendor; the write becomes CONFIRMED (with
            `remote_id` when given) and its dependents may go.
        "send_again": the person checked the vendor and it is not there; one more send is allowed.
        "cancel": nothing more is sent for this write nor for the writes that depend on it.
    Raises:
        ResolveError: the write is not waiting for a person, or `action` is unknown.
    """
    with transaction.atomic():
        write = VendorWrite.objects.select_for_update().get(pk=write.pk)
        if not write.is_waiting_for_person:
            raise ResolveError("This write is not waiting for a person any more.")
        who = getattr(by, "email", "someone")
        text = f"{action.replace('_', ' ')} by {who}" + (f": {note}" if note else "")
        VendorWriteAttempt.objects.create(
            write=write,
            kind=VendorWriteAttempt.Kind.RESOLVE,
            outcome=VendorWriteAttempt.Outcome.CONFIRMED
            if action == "mark_done"
            else VendorWriteAttempt.Outcome.NOT_SENT,
            detail=text[:500],
            actor=by if getattr(by, "pk", None) else None,
        )
        if action == "mark_done":
            set_state(
                write,
                VendorWrite.State.CONFIRMED,
                detail=text,
                by=by,
                remote_id=remote_id or write.remote_id,
                lease_until=None,
            )
            dependents = list(
                write.dependents.filter(state=VendorWrite.State.PENDING).values_list(
                    "id", flat=True
                )
            )
            transaction.on_commit(lambda: schedule_processing(dependents))
        elif action == "send_again":
            set_state(
                write,
                VendorWrite.State.PENDING,
                detail=text,
                by=by,
                max_sends=write.send_count + 1,
                not_found_count=0,
                verify_count=0,
                next_attempt_at=timezone.now(),
                lease_until=None,
            )
            transaction.on_commit(lambda: schedule_processing([write.id]))
        elif action == "cancel":
            set_state(write, VendorWrite.State.CANCELLED, detail=text, by=by, lease_until=None)
            _cancel_dependents(write, text, by=by)
        else:
            raise ResolveError(f"Unknown action {action!r}.")
    return write


def _cancel_dependents(write: VendorWrite, reason: str, *, by=None) -> None:
    for dependent in write.dependents.exclude(state__in=VendorWrite.TERMINAL_STATES):
        set_state(
            dependent,
            VendorWrite.State.CANCELLED,
            detail=f"cancelled because an earlier step was: {reason}",
            by=by,
        )
        _cancel_dependents(dependent, reason, by=by)
