"""The outbox executor: claim a write, send it once, settle the outcome, verify before any re-send.

One call of `process_write` does at most one vendor request for the write's main effect (a send
or a look for its marker), in three steps that never hold a database transaction open across the
network:

1. **claim** (short transaction): the row is locked with ``select_for_update(skip_locked=True)``
   (PostgreSQL; SQLite serialises writers with ``BEGIN IMMEDIATE``), checked to be due, moved to
   IN_FLIGHT (a send) or VERIFYING (a look) with a lease, and committed;
2. **call** the vendor through the write's handler, with the acting user's credential;
3. **settle** (short transaction): record the outcome if our lease still holds; a confirmation
   updates the mirror in the same transaction (the handler's `write_through`), from the
   vendor's answer or, where that is partial, from one targeted GET made in step 2
   (`_mirror_read`; a failed read or mirror update never fails the write).

Outcomes of a send: success → CONFIRMED; 4xx → REJECTED with the vendor's message; our own rate
limiter, a 429 or a connection that never opened → PENDING again (nothing was sent); a read
timeout, a reset, a 5xx or an unreadable 2xx → AMBIGUOUS. An AMBIGUOUS write is never sent again
blindly: the next call looks for its marker; found → CONFIRMED, not found twice (after the last
send) → PENDING, so it may be sent again; after `max_sends` sends or OUTBOX_MAX_VERIFIES looks it
waits for a person (NEEDS_REVIEW). A write whose worker died keeps its lease until it expires;
then the sweeper treats it like an ambiguous one.

Sources: reference/reliability.md §1.2 (phases A–D), seed `/syncro` hard rules ("After any
ambiguous POST result … Do NOT retry. GET the resource first").
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from connectors.errors import (
    AmbiguousError,
    AuthError,
    RateLimited,
    TransientError,
    VendorError,
)
from connectors.outbox.handlers import handler_for
from connectors.outbox.models import VendorWrite, VendorWriteAttempt
from connectors.outbox.services import schedule_processing, set_state

log = logging.getLogger(__name__)
State = VendorWrite.State
Outcome = VendorWriteAttempt.Outcome
Kind = VendorWriteAttempt.Kind

WORKER = f"{socket.gethostname()}:{os.getpid()}"


def _due_filter(now) -> Q:
    runnable = Q(state__in=VendorWrite.RUNNABLE_STATES, next_attempt_at__lte=now)
    abandoned = Q(state__in=VendorWrite.LEASED_STATES, lease_until__lt=now)
    ready = Q(depends_on__isnull=True) | Q(depends_on__state=State.CONFIRMED)
    return (runnable | abandoned) & ready


def due_write_ids(limit: int = 100) -> list[int]:
    """Ids of writes a worker may take now, oldest first."""
    now = timezone.now()
    return list(
        VendorWrite.objects.filter(_due_filter(now))
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def _claim(write_id: int) -> tuple[VendorWrite, str, str] | None:
    """Take the lease on a due write. Returns (write, mode "send"|"verify", lease token) or None."""
    now = timezone.now()
    with transaction.atomic():
        write = (
            VendorWrite.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(_due_filter(now), pk=write_id)
            .first()
        )
        if write is None:
            return None
        # AMBIGUOUS, or a lease that expired under IN_FLIGHT/VERIFYING (the worker died or hung):
        # the vendor may have the record, so look before anything else.
        mode = "send" if write.state == State.PENDING else "verify"
        if mode == "send" and write.send_count >= write.max_sends:
            set_state(
                write,
                State.NEEDS_REVIEW,
                lease_until=None,
                detail=f"sent {write.send_count} times without a confirmation; a person must check the vendor",
            )
            return None
        if mode == "verify" and write.verify_count >= settings.OUTBOX_MAX_VERIFIES:
            set_state(
                write,
                State.NEEDS_REVIEW,
                lease_until=None,
                detail=f"looked {write.verify_count} times without a clear answer; a person must check",
            )
            return None
        token = uuid.uuid4().hex
        lease = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
        if mode == "send":
            set_state(
                write,
                State.IN_FLIGHT,
                detail=f"send #{write.send_count + 1}",
                lease_until=lease,
                lease_token=token,
                send_count=write.send_count + 1,
                last_sent_at=now,
                first_sent_at=write.first_sent_at or now,
                verify_count=0,
                not_found_count=0,
            )
        else:
            set_state(
                write,
                State.VERIFYING,
                detail="looking for the marker",
                lease_until=lease,
                lease_token=token,
                verify_count=write.verify_count + 1,
            )
    return write, mode, token


def _settle(
    write_id: int,
    token: str,
    new_state: str,
    *,
    attempt: tuple[str, str, int | None, str],
    detail: str,
    mirror_record=None,
    **fields,
) -> VendorWrite | None:
    """Record a call's outcome if our lease still holds (else only the attempt is logged).
    `mirror_record` is the vendor record read for the mirror (`_mirror_read`), handed to the
    handler's `write_through` when the write becomes CONFIRMED here."""
    kind, outcome, status, note = attempt
    with transaction.atomic():
        write = VendorWrite.objects.select_for_update().get(pk=write_id)
        VendorWriteAttempt.objects.create(
            write=write,
            kind=kind,
            outcome=outcome,
            http_status=status,
            detail=note[:500],
            worker=WORKER,
        )
        if write.lease_token != token or write.state not in VendorWrite.LEASED_STATES:
            log.warning(
                "outbox: lease on write %s was lost before its outcome was recorded", write_id
            )
            return None
        fields.setdefault("lease_until", None)
        fields.setdefault("lease_token", "")
        write.mirror_record = mirror_record
        set_state(write, new_state, detail=detail, **fields)
        if new_state == State.CONFIRMED:
            dependents = list(
                write.dependents.filter(state=State.PENDING).values_list("id", flat=True)
            )
            transaction.on_commit(lambda: schedule_processing(dependents))
        return write


def _mirror_read(handler, client, write: VendorWrite, remote_id: str, response=None):
    """The record to mirror for a write about to be confirmed: one `find`, `precheck` or
    `after_confirm` already read (``write.mirror_record``), else the handler's targeted GET
    (`mirror_read`, through the same rate-limited client), else None. Outside any transaction;
    never raises: a failed read (our limiter, a timeout, a bug) is logged and the mirror waits
    for the next sync, while the write is confirmed all the same."""
    if write.mirror_record is not None:
        return write.mirror_record
    try:
        return handler.mirror_read(client, write, remote_id, response)
    except Exception as exc:
        log.warning(
            "outbox: could not read write %s's record %s for the mirror: %r",
            write.id,
            remote_id,
            exc,
        )
        return None


def _later(seconds: float) -> timezone.datetime:
    return timezone.now() + timedelta(seconds=max(0.0, seconds))


def process_write(write_id: int) -> str | None:
    """Do the next step of one write. Returns its new state, or None if it was not ours to take.

    Never raises for vendor failures (they become states); programming errors propagate after
    the write was left AMBIGUOUS, so nothing is re-sent without a look.
    """
    claimed = _claim(write_id)
    if claimed is None:
        return None
    write, mode, token = claimed
    handler = handler_for(write.operation)
    try:
        client = client_for_write(write)
    except Exception as exc:  # no usable key any more: nothing was sent
        result = _settle(
            write.id,
            token,
            State.REJECTED,
            attempt=(Kind.SEND, Outcome.NOT_SENT, None, str(exc)),
            detail=f"cannot build the vendor client: {exc}",
            vendor_message=str(exc),
            send_count=max(0, write.send_count - (1 if mode == "send" else 0)),
        )
        return result.state if result else None
    try:
        if mode == "send":
            return _send(write, token, handler, client)
        return _verify(write, token, handler, client)
    finally:
        close = getattr(client, "close", None)
        if close:
            close()


def _send(write: VendorWrite, token: str, handler, client) -> str | None:
    # Before every send (not only the first): the effect may have appeared meanwhile, e.g. another
    # draft's invoice pulled this line item while this write waited for its re-send.
    try:
        existing = handler.precheck(client, write)
    except VendorError as exc:
        return _not_sent(write, token, exc, kind=Kind.PRECHECK)
    if existing:
        return _state(
            _settle(
                write.id,
                token,
                State.CONFIRMED,
                attempt=(
                    Kind.PRECHECK,
                    Outcome.FOUND,
                    None,
                    f"already at the vendor: {existing}",
                ),
                detail="already done at the vendor; not sent",
                remote_id=str(existing),
                send_count=write.send_count - 1,
                mirror_record=_mirror_read(handler, client, write, str(existing)),
            )
        )
    try:
        result = handler.send(client, write)
    except AmbiguousError as exc:
        return _state(
            _settle(
                write.id,
                token,
                State.AMBIGUOUS,
                attempt=(Kind.SEND, Outcome.AMBIGUOUS, exc.status, str(exc)),
                detail=f"no clear answer ({exc.status or exc.__class__.__name__}); will look before any re-send",
                last_error=str(exc)[:2000],
                next_attempt_at=_later(settings.OUTBOX_VERIFY_DELAY_SECONDS),
            )
        )
    except (RateLimited, TransientError) as exc:
        return _not_sent(write, token, exc, kind=Kind.SEND)
    except VendorError as exc:
        if isinstance(exc, AuthError):
            write.credential.mark_failed(error=f"{exc.status}: {exc.vendor_message}")
        return _state(
            _settle(
                write.id,
                token,
                State.REJECTED,
                attempt=(Kind.SEND, Outcome.REJECTED, exc.status, exc.vendor_message),
                detail=f"rejected by the vendor ({exc.status}): {exc.vendor_message}",
                vendor_message=exc.vendor_message[:2000],
                last_error=str(exc)[:2000],
            )
        )
    except Exception as exc:
        # A bug between send and parse: we cannot know whether the vendor got it.
        _settle(
            write.id,
            token,
            State.AMBIGUOUS,
            attempt=(Kind.SEND, Outcome.AMBIGUOUS, None, repr(exc)),
            detail="unexpected error while sending; will look before any re-send",
            last_error=repr(exc)[:2000],
            next_attempt_at=_later(settings.OUTBOX_VERIFY_DELAY_SECONDS),
        )
        raise
    problem = ""
    try:
        problem = handler.after_confirm(client, write, result.remote_id)
    except VendorError as exc:
        problem = f"created, but the follow-up check failed: {exc.vendor_message}"
    if problem:
        return _state(
            _settle(
                write.id,
                token,
                State.NEEDS_REVIEW,
                attempt=(Kind.SEND, Outcome.CONFIRMED, None, problem),
                detail=problem,
                remote_id=result.remote_id,
                response=result.response,
                vendor_message=problem,
            )
        )
    return _state(
        _settle(
            write.id,
            token,
            State.CONFIRMED,
            attempt=(Kind.SEND, Outcome.CONFIRMED, None, f"id {result.remote_id}"),
            detail=f"confirmed by the vendor (id {result.remote_id})",
            remote_id=result.remote_id,
            response=result.response,
            mirror_record=_mirror_read(handler, client, write, result.remote_id, result.response),
        )
    )


def _not_sent(write: VendorWrite, token: str, exc: VendorError, *, kind: str) -> str | None:
    """Nothing reached the vendor (our limiter, a 429, no connection): the send is given back."""
    wait = getattr(exc, "retry_after", None) or settings.OUTBOX_RETRY_DELAY_SECONDS
    return _state(
        _settle(
            write.id,
            token,
            State.PENDING,
            attempt=(kind, Outcome.NOT_SENT, exc.status, str(exc)),
            detail=f"not sent ({exc.__class__.__name__}); trying again in {int(wait)} s",
            send_count=max(0, write.send_count - 1),
            last_error=str(exc)[:2000],
            next_attempt_at=_later(wait),
        )
    )


def _verify(write: VendorWrite, token: str, handler, client) -> str | None:
    try:
        found = handler.find(client, write)
    except VendorError as exc:
        return _state(
            _settle(
                write.id,
                token,
                State.AMBIGUOUS,
                attempt=(Kind.VERIFY, Outcome.ERROR, exc.status, str(exc)),
                detail=f"could not look ({exc.__class__.__name__}); will look again",
                last_error=str(exc)[:2000],
                next_attempt_at=_later(
                    getattr(exc, "retry_after", None) or settings.OUTBOX_VERIFY_DELAY_SECONDS
                ),
            )
        )
    if found:
        note = f"found {found[0]}" + (
            f" (and {len(found) - 1} more: DUPLICATE)" if len(found) > 1 else ""
        )
        if len(found) > 1:
            log.error(
                "outbox: write %s found %d vendor records with marker %s",
                write.id,
                len(found),
                write.marker,
            )
        return _state(
            _settle(
                write.id,
                token,
                State.CONFIRMED,
                attempt=(Kind.VERIFY, Outcome.FOUND, None, note),
                detail=f"confirmed: the vendor has it (id {found[0]})",
                remote_id=str(found[0]),
                mirror_record=_mirror_read(handler, client, write, str(found[0])),
            )
        )
    misses = write.not_found_count + 1
    if misses >= settings.OUTBOX_NOT_FOUND_BEFORE_RESEND:
        return _state(
            _settle(
                write.id,
                token,
                State.PENDING,
                attempt=(Kind.VERIFY, Outcome.NOT_FOUND, None, f"not found ({misses})"),
                detail=f"not at the vendor after {misses} looks; it may be sent again",
                not_found_count=misses,
                next_attempt_at=timezone.now(),
            )
        )
    return _state(
        _settle(
            write.id,
            token,
            State.AMBIGUOUS,
            attempt=(Kind.VERIFY, Outcome.NOT_FOUND, None, f"not found ({misses})"),
            detail="not found yet; will look once more",
            not_found_count=misses,
            next_attempt_at=_later(settings.OUTBOX_VERIFY_DELAY_SECONDS),
        )
    )


def _state(write: VendorWrite | None) -> str | None:
    return write.state if write is not None else None


def run_until_settled(write_ids: list[int] | None = None, *, max_steps: int = 10_000) -> int:
    """Drive due writes (all, or `write_ids`) until none is due. Returns the steps taken.

    For the sweeper, the `outbox` command and tests: delays are honoured, so writes waiting on
    a future `next_attempt_at` are left for later.
    """
    steps = 0
    while steps < max_steps:
        due = due_write_ids(limit=200)
        if write_ids is not None:
            due = [i for i in due if i in set(write_ids) or _depends_on_any(i, write_ids)]
        if not due:
            break
        progressed = False
        for write_id in due:
            if process_write(write_id) is not None:
                progressed = True
            steps += 1
        if not progressed:
            break
    return steps


def _depends_on_any(write_id: int, roots: list[int]) -> bool:
    current = (
        VendorWrite.objects.filter(pk=write_id).values_list("depends_on_id", flat=True).first()
    )
    while current:
        if current in roots:
            return True
        current = (
            VendorWrite.objects.filter(pk=current).values_list("depends_on_id", flat=True).first()
        )
    return False


def sweep() -> dict[str, int]:
    """The periodic relay of record: process every due write, including abandoned leases.

    Returns counts: {"processed": n, "needs_review": m}.
    """
    processed = 0
    for write_id in due_write_ids(limit=settings.OUTBOX_SWEEP_BATCH):
        if process_write(write_id) is not None:
            processed += 1
    return {
        "processed": processed,
        "needs_review": VendorWrite.objects.waiting_for_person().count(),
    }


@sensitive_variables("secret")
def client_for_write(write: VendorWrite):
    """The vendor client for this write: its connection, with the credential chosen at approval,
    behind the shared rate limiter (writes are served before sync reads).

    Raises:
        accounts.fields.DecryptionError: the stored key cannot be decrypted.
    """
    from connectors.ratelimit import ConnectionGate
    from connectors.services import client_for_secret

    secret = write.credential.secret
    return client_for_secret(
        write.connection, secret, gate=ConnectionGate(write.connection, secret)
    )
