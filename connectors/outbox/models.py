"""The outbox: every write the portal sends to a vendor, sent exactly once.

A `VendorWrite` is the durable intent to perform one vendor mutation (post a Syncro comment, add a
line item, create an invoice, change a ticket). It is created in the same transaction as the
approval that asks for it, so an approval is never lost and never half-recorded; the executor
(`connectors.outbox.executor`) then claims it, sends it, and settles the outcome. Vendors such as
Syncro have no idempotency keys ("one POST always creates one record", seed `/syncro`), so the
write carries a `marker` (a short reference placed in a field the vendor returns) that lets the
executor find out, after an ambiguous answer, whether the write already happened.

States::

    PENDING -> IN_FLIGHT -> CONFIRMED
                         -> REJECTED        (4xx: back to a person with the vendor's message)
                         -> AMBIGUOUS -> VERIFYING -> CONFIRMED       (marker found)
                                                   -> AMBIGUOUS       (not found once: look again)
                                                   -> PENDING         (not found twice: may re-send)
             (after OUTBOX_MAX_SENDS sends or OUTBOX_MAX_VERIFIES looks) -> NEEDS_REVIEW
    a person: NEEDS_REVIEW | REJECTED -> CONFIRMED (mark done) | PENDING (send again) | CANCELLED

Source: reference/reliability.md §1.2 ("Outbound Intent": outbox + verify-before-retry).
"""

from __future__ import annotations

import hashlib
import json
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Credential, Tenant


def marker_for(business_key: str) -> str:
    """The reference a write carries into the vendor record: ``FL-`` + 10 hex digits.

    Derived from the business key, so a preview shown before the write exists already shows the
    exact payload the vendor will receive.
    """
    return "FL-" + hashlib.sha256(business_key.encode()).hexdigest()[:10].upper()


def payload_fingerprint(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


class VendorWriteQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant) -> VendorWriteQuerySet:
        return self.filter(tenant=tenant)

    def waiting_for_person(self) -> VendorWriteQuerySet:
        return self.filter(state__in=VendorWrite.PERSON_STATES)


class WriteBatch(models.Model):
    """The writes one request of a person asked for, together: a draft's billing chain, one
    ticket action, one job plan, one FieldCamp "Refresh now".

    What asked for it points here with a real relation (``BillingDraft.batch``); every
    `VendorWrite` of the batch points here too (``VendorWrite.batch``). `key` is made on the
    server (a draft's UUID, or the nonce of a signed preview token) and is unique per tenant, so
    confirming the same preview twice finds the same batch and makes no second write.

    `state` is derived from the batch's writes by the outbox, in the transaction that changes
    one of them (`connectors.outbox.services.set_state`): OPEN while any write is on its way,
    DONE when all are confirmed, ATTENTION while one waits for a person or was cancelled.
    """

    class State(models.TextChoices):
        OPEN = "open", "Sending"
        DONE = "done", "Done"
        ATTENTION = "attention", "Needs a person"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="write_batches")
    connection = models.ForeignKey(
        "connectors.Connection", on_delete=models.PROTECT, related_name="write_batches"
    )
    kind = models.CharField(
        max_length=40, help_text='Who asked, e.g. "billing.draft", "billing.ticket_action".'
    )
    key = models.CharField(max_length=120, help_text="Made on the server; unique per tenant.")
    label = models.CharField(max_length=200, blank=True)
    subject = models.JSONField(
        default=dict, blank=True, help_text='What it is about, e.g. {"ticket_id": 123}.'
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    vendor_message = models.TextField(
        blank=True, help_text="The vendor's words on the write that waits for a person."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="writebatch_tenant_key"),
        ]
        indexes = [models.Index(fields=["tenant", "kind", "-created_at"], name="wb_tenant_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.label} ({self.get_state_display()})"

    def state_from(self, writes: list[tuple[str, str]]) -> tuple[str, str]:
        """``(state, vendor_message)`` for writes given as ``(state, vendor_message)`` pairs."""
        states = [s for s, _ in writes]
        message = next((m for s, m in writes if s in VendorWrite.PERSON_STATES and m), "")
        if states and all(s == VendorWrite.State.CONFIRMED for s in states):
            return self.State.DONE, ""
        if any(s in VendorWrite.PERSON_STATES or s == VendorWrite.State.CANCELLED for s in states):
            return self.State.ATTENTION, message or self.vendor_message
        return self.State.OPEN, ""


class VendorWrite(models.Model):
    """One vendor mutation to perform exactly once. See the module docstring for the states."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to send"
        IN_FLIGHT = "in_flight", "Sending"
        AMBIGUOUS = "ambiguous", "Checking whether it arrived"
        VERIFYING = "verifying", "Checking whether it arrived"
        CONFIRMED = "confirmed", "Confirmed"
        REJECTED = "rejected", "Rejected by the vendor"
        NEEDS_REVIEW = "needs_review", "Needs a person"
        CANCELLED = "cancelled", "Cancelled"

    RUNNABLE_STATES = (State.PENDING, State.AMBIGUOUS)
    LEASED_STATES = (State.IN_FLIGHT, State.VERIFYING)
    TERMINAL_STATES = (State.CONFIRMED, State.CANCELLED)
    PERSON_STATES = (State.REJECTED, State.NEEDS_REVIEW)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="vendor_writes")
    connection = models.ForeignKey(
        "connectors.Connection", on_delete=models.PROTECT, related_name="writes"
    )
    operation = models.CharField(max_length=60, help_text='e.g. "syncro.comment.create"')
    business_key = models.CharField(
        max_length=200, help_text="What must happen once, e.g. draft:<uuid>:comment"
    )
    depends_on = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dependents",
        help_text="Sent only after this write is confirmed.",
    )
    target = models.JSONField(default=dict, help_text='Parent record ids, e.g. {"ticket_id": 123}.')
    payload = models.JSONField(help_text="The exact JSON body sent, marker included.")
    payload_sha256 = models.CharField(max_length=64)
    marker = models.CharField(max_length=20)
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    credential = models.ForeignKey(Credential, on_delete=models.PROTECT, related_name="+")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The person who last settled it by hand (mark done, send again, cancel).",
    )
    used_shared_key = models.BooleanField(default=False)
    batch = models.ForeignKey(
        WriteBatch,
        on_delete=models.CASCADE,
        related_name="writes",
        help_text="The request of a person this write belongs to.",
    )

    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    send_count = models.PositiveSmallIntegerField(default=0)
    max_sends = models.PositiveSmallIntegerField(
        default=3, help_text="Sends allowed before a person must decide."
    )
    verify_count = models.PositiveSmallIntegerField(
        default=0, help_text="Looks since the last send."
    )
    not_found_count = models.PositiveSmallIntegerField(
        default=0, help_text="Negative looks since the last send."
    )
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(
        max_length=32, blank=True, help_text="Which claim holds the lease."
    )
    next_attempt_at = models.DateTimeField(default=timezone.now)
    remote_id = models.CharField(max_length=64, blank=True)
    response = models.JSONField(null=True, blank=True)
    vendor_message = models.TextField(blank=True, help_text="The vendor's own words on a refusal.")
    last_error = models.TextField(blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    first_sent_at = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VendorWriteQuerySet.as_manager()

    #: Not a column: the vendor's record read for the mirror in the step that confirms this
    #: write (a targeted GET, or what `find` / `after_confirm` already read), handed to the
    #: handler's `write_through` in the confirming transaction; None otherwise.
    mirror_record = None

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "business_key"], name="vendorwrite_tenant_business_key"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="vw_state_due"),
            models.Index(fields=["state", "lease_until"], name="vw_state_lease"),
            models.Index(fields=["tenant", "state"], name="vw_tenant_state"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.target} ({self.get_state_display()})"

    def can_become(self, new_state: str) -> bool:
        """True when `TRANSITIONS` allows this write to go from its state to `new_state`
        (staying in the same state is always allowed: a renewed lease, a counter)."""
        return new_state == self.state or new_state in TRANSITIONS.get(self.state, ())

    @property
    def is_terminal(self) -> bool:
        return self.state in self.TERMINAL_STATES

    @property
    def is_waiting_for_person(self) -> bool:
        return self.state in self.PERSON_STATES

    @property
    def is_in_progress(self) -> bool:
        return not self.is_terminal and not self.is_waiting_for_person


_S = VendorWrite.State
#: Allowed state changes (see the module docstring): from -> the states it may become.
TRANSITIONS: dict[str, frozenset[str]] = {
    _S.PENDING: frozenset({_S.IN_FLIGHT, _S.NEEDS_REVIEW, _S.CANCELLED}),
    _S.IN_FLIGHT: frozenset(
        {_S.CONFIRMED, _S.REJECTED, _S.AMBIGUOUS, _S.VERIFYING, _S.PENDING, _S.NEEDS_REVIEW}
    ),
    _S.VERIFYING: frozenset({_S.CONFIRMED, _S.REJECTED, _S.AMBIGUOUS, _S.PENDING, _S.NEEDS_REVIEW}),
    _S.AMBIGUOUS: frozenset({_S.VERIFYING, _S.NEEDS_REVIEW, _S.CANCELLED}),
    _S.REJECTED: frozenset({_S.CONFIRMED, _S.PENDING, _S.CANCELLED}),
    _S.NEEDS_REVIEW: frozenset({_S.CONFIRMED, _S.PENDING, _S.CANCELLED}),
    _S.CONFIRMED: frozenset(),
    _S.CANCELLED: frozenset(),
}


class VendorWriteAttempt(models.Model):
    """One request the executor made for a write: a send, or a look for its marker.

    The log proves the outbox invariant: every send after the first follows a look that found
    nothing and came after the previous send.
    """

    class Kind(models.TextChoices):
        SEND = "send", "Send"
        VERIFY = "verify", "Look for the marker"
        PRECHECK = "precheck", "Check before sending"
        RESOLVE = "resolve", "Resolved by a person"

    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        REJECTED = "rejected", "Rejected"
        AMBIGUOUS = "ambiguous", "Ambiguous"
        NOT_SENT = "not_sent", "Not sent (retry later)"
        FOUND = "found", "Found"
        NOT_FOUND = "not_found", "Not found"
        ERROR = "error", "Could not look"

    write = models.ForeignKey(VendorWrite, on_delete=models.CASCADE, related_name="attempts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    worker = models.CharField(max_length=80, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The person who resolved it (RESOLVE rows).",
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_outcome_display()}"
