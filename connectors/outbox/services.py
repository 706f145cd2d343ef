"""Creating, previewing and resolving vendor writes (the outbox's public API).

Callers (billing, dispatch) build `WriteSpec`s and call `enqueue_writes` inside their own
transaction, next to the approval and its audit row; the executor does the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Credential, Tenant
from connectors.outbox.handlers import handler_for
from connectors.outbox.models import (
    VendorWrite,
    VendorWriteAttempt,
    marker_for,
    payload_fingerprint,
)
from connectors.outbox.signals import vendor_write_changed


@dataclass(frozen=True)
class WriteSpec:
    """One write to enqueue.

    Attributes:
        operation: a registered operation name, e.g. "syncro.comment.create".
        target: parent ids, e.g. ``{"ticket_id": 123}``.
        payload: the body before the marker is added.
        business_key: what must happen once (unique per tenant), e.g. "draft:<uuid>:comment".
        depends_on: business_key of another spec in the same call that must be confirmed first.
    """

    operation: str
    target: dict
    payload: dict
    business_key: str
    depends_on: str | None = None
    extra: dict = field(default_factory=dict)


def preview_payload(operation: str, payload: dict, business_key: str) -> dict:
    """The exact JSON body the vendor will receive for this write (marker included)."""
    return handler_for(operation).apply_marker(payload, marker_for(business_key))


def set_state(write: VendorWrite, new_state: str, *, detail: str = "", **fields) -> VendorWrite:
    """Save `write` in `new_state` with `fields`, and send `vendor_write_changed`.

    Must run inside a transaction: the signal's receivers write their audit rows in it.
    """
    old = write.state
    write.state = new_state
    for name, value in fields.items():
        setattr(write, name, value)
    if new_state in VendorWrite.TERMINAL_STATES and write.completed_at is None:
        write.completed_at = timezone.now()
    write.save()
    if old != new_state:
        vendor_write_changed.send(
            sender=VendorWrite, write=write, old_state=old, new_state=new_state, detail=detail
        )
    return write


def enqueue_writes(
    *, tenant: Tenant, connection, acting_user, specs: list[WriteSpec], source_ref: str
) -> list[VendorWrite]:
    """Create the writes for `specs` (idempotent per business key) and schedule them on commit.

    The credential is the acting user's own key for the connection's vendor, or the tenant's
    shared one (then ``used_shared_key`` is true and the vendor will attribute the write to the
    shared key's owner).

    Returns:
        the VendorWrite of each spec, in order (existing ones when already enqueued).
    Raises:
        accounts.models.NoCredential: no usable credential for this vendor.
        ValueError: the connection belongs to another tenant, or `depends_on` names no spec.
    """
    if connection.tenant_id != tenant.id:
        raise ValueError("The connection belongs to another tenant.")
    actor = Credential.objects.for_actor(tenant, connection.vendor, acting_user)
    keys = [s.business_key for s in specs]
    by_key = {
        w.business_key: w for w in VendorWrite.objects.filter(tenant=tenant, business_key__in=keys)
    }
    created: list[VendorWrite] = []
    for spec in specs:
        if spec.business_key in by_key:
            continue
        if spec.depends_on and spec.depends_on not in by_key:
            raise ValueError(f"depends_on {spec.depends_on!r} is not an earlier spec of this call.")
        body = preview_payload(spec.operation, spec.payload, spec.business_key)
        write = VendorWrite(
            tenant=tenant,
            connection=connection,
            operation=spec.operation,
            business_key=spec.business_key,
            depends_on=by_key.get(spec.depends_on) if spec.depends_on else None,
            target=spec.target,
            payload=body,
            payload_sha256=payload_fingerprint(body),
            marker=marker_for(spec.business_key),
            acting_user=acting_user if getattr(acting_user, "pk", None) else None,
            credential=actor.credential,
            used_shared_key=actor.is_shared,
            source_ref=source_ref,
            max_sends=settings.OUTBOX_MAX_SENDS,
        )
        try:
            with transaction.atomic():
                write.save()
        except IntegrityError:
            # Another request enqueued the same business key at the same moment: use theirs.
            by_key[spec.business_key] = VendorWrite.objects.get(
                tenant=tenant, business_key=spec.business_key
            )
            continue
        vendor_write_changed.send(
            sender=VendorWrite,
            write=write,
            old_state="",
            new_state=write.state,
            detail="queued" + (" with the shared key" if actor.is_shared else ""),
        )
        by_key[spec.business_key] = write
        created.append(write)
    ready = [w.id for w in created if w.depends_on_id is None]
    if ready:
        transaction.on_commit(lambda: schedule_processing(ready))
    return [by_key[k] for k in keys]


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
        )
        if action == "mark_done":
            set_state(
                write,
                VendorWrite.State.CONFIRMED,
                detail=text,
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
                max_sends=write.send_count + 1,
                not_found_count=0,
                verify_count=0,
                next_attempt_at=timezone.now(),
                lease_until=None,
            )
            transaction.on_commit(lambda: schedule_processing([write.id]))
        elif action == "cancel":
            set_state(write, VendorWrite.State.CANCELLED, detail=text, lease_until=None)
            _cancel_dependents(write, text)
        else:
            raise ResolveError(f"Unknown action {action!r}.")
    return write


def _cancel_dependents(write: VendorWrite, reason: str) -> None:
    for dependent in write.dependents.exclude(state__in=VendorWrite.TERMINAL_STATES):
        set_state(
            dependent,
            VendorWrite.State.CANCELLED,
            detail=f"cancelled because an earlier step was: {reason}",
        )
        _cancel_dependents(dependent, reason)
