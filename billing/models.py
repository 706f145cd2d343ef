"""Billing review: labor types, billing drafts and the approval audit trail.

* `LaborType`: per-tenant map from the seed's labor kinds (remote, onsite, emergency, project,
  internal, travel, website) to a mirrored Syncro product. Never a hard-coded product id: the
  seed's ids (``1190473`` …) belong to one Syncro account only.
* `BillingDraft`: billable time a person drafted on a Syncro ticket: the comment and the line item
  that approving it will post. Keeps the values as first drafted (`original`), the current
  (editable) values, and the values actually approved (`approved`, with the exact payloads).
* `ApprovalEvent`: one row per draft, edit, approval, rejection or ticket action confirmed (who,
  when, before, after), written in the same transaction as the change. What happened to each
  vendor write afterwards is the outbox's own log (`VendorWriteAttempt`), read through the
  draft's `WriteBatch`.

Tickets themselves are the connectors' mirror (`connectors.syncro.models.SyncroTicket`); billing
refers to them by Syncro id (``ticket_vendor_id``), never by foreign key, because a sync may
replace the mirror row.
"""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Tenant
from connectors.job_tags import tag_columns


class LaborKind(models.TextChoices):
    """The seed's ``--labor`` values (seed /syncro "Billing workflow")."""

    REMOTE = "remote", "Remote"
    ONSITE = "onsite", "Onsite"
    EMERGENCY = "emergency", "Emergency / after hours"
    PROJECT = "project", "Project (prepaid)"
    INTERNAL = "internal", "Internal"
    TRAVEL = "travel", "Travel"
    WEBSITE = "website", "Website"


class LaborType(models.Model):
    """Which mirrored Syncro product a labor kind bills as, for one tenant.

    `product_vendor_id` is the Syncro product id chosen from the mirror (`SyncroProduct`);
    `product_name` is copied at the time of choosing (it becomes the line item ``name``).
    Empty product = this kind cannot be billed yet.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="labor_types")
    kind = models.CharField(max_length=20, choices=LaborKind.choices)
    product_vendor_id = models.BigIntegerField(null=True, blank=True)
    product_name = models.CharField(max_length=255, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind"], name="labortype_tenant_kind")
        ]
        ordering = ["tenant_id", "kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.product_name or 'not mapped'}"

    @property
    def is_mapped(self) -> bool:
        return self.product_vendor_id is not None


def minutes_to_hours(minutes: int) -> Decimal:
    """Minutes as Syncro's decimal-hours quantity (seed: 30 min = 0.5, 45 min = 0.75).

    Rounded half-up to 2 decimals (20 min = 0.33).
    """
    return (Decimal(minutes) / Decimal(60)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class DraftStatus(models.TextChoices):
    """What a person sees of a draft: their decision, then how its writes are doing."""

    PENDING = "pending", "Awaiting approval"
    APPROVED = "approved", "Approved, sending"
    NEEDS_ATTENTION = "needs_attention", "Needs attention"
    BILLED = "billed", "On the ticket, to invoice"
    INVOICED = "invoiced", "Invoiced"
    REJECTED = "rejected", "Rejected"


class Decision(models.TextChoices):
    """What a person decided about a draft (the stored part of its status)."""

    PENDING = "pending", "Awaiting approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


#: An approved draft's status from its write batch's state (`WriteBatch.State`).
_STATUS_FROM_BATCH = {
    "open": DraftStatus.APPROVED,
    "done": DraftStatus.INVOICED,
    "attention": DraftStatus.NEEDS_ATTENTION,
}


def status_condition(status: str) -> models.Q:
    """The filter for drafts whose derived status is `status` (a `DraftStatus` value).

    A draft approved with ``invoice_separately`` (the company invoices per ticket) whose writes
    are done is BILLED until the `TicketInvoice` that carries it is done, then INVOICED.
    """
    approved = models.Q(decision=Decision.APPROVED)
    done_alone = approved & models.Q(batch__state="done")
    if status == DraftStatus.INVOICED:
        return done_alone & (
            models.Q(invoice_separately=False)
            | models.Q(invoice_separately=True, ticket_invoice__batch__state="done")
        )
    if status == DraftStatus.BILLED:
        return (
            done_alone
            & models.Q(invoice_separately=True)
            & ~models.Q(ticket_invoice__batch__state="done")
        )
    for batch_state, derived in _STATUS_FROM_BATCH.items():
        if status == derived:
            return approved & models.Q(batch__state=batch_state)
    return models.Q(decision=status)


class DraftQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant) -> DraftQuerySet:
        return self.filter(tenant=tenant)

    def in_status(self, *statuses: str) -> DraftQuerySet:
        """Drafts whose derived status is one of `statuses` (`DraftStatus` values)."""
        condition = models.Q(pk__in=[])
        for status in statuses:
            condition |= status_condition(status)
        return self.filter(condition)

    def open(self) -> DraftQuerySet:
        """Drafts still waiting for someone: pending approval or a write needing a person."""
        return self.in_status(DraftStatus.PENDING, DraftStatus.NEEDS_ATTENTION)

    def status_counts(self) -> dict[str, int]:
        """``{status: count}`` for every `DraftStatus` value, in one query."""
        return self.aggregate(
            **{s: models.Count("id", filter=status_condition(s)) for s in DraftStatus.values}
        )

    def with_status(self) -> DraftQuerySet:
        """Annotate ``status_value`` (the derived status) for grouping in SQL."""
        whens = [
            models.When(status_condition(s), then=models.Value(str(s)))
            for s in (DraftStatus.INVOICED, DraftStatus.BILLED)
        ] + [
            models.When(
                decision=Decision.APPROVED, batch__state=state, then=models.Value(str(derived))
            )
            for state, derived in _STATUS_FROM_BATCH.items()
            if state != "done"
        ]
        return self.annotate(
            status_value=models.Case(
                *whens, default=models.F("decision"), output_field=models.CharField()
            )
        )


class BillingDraft(models.Model):
    """Billable time drafted on one Syncro ticket, waiting for approval.

    Approving posts, in order and each only after the previous is confirmed: the comment
    (``POST /tickets/{id}/comment``), the line item (``POST /tickets/{id}/add_line_item`` with
    ``quantity`` = minutes / 60, ``taxable: false``, no ``price_retail``), the invoice
    (``POST /invoices``) and the status ``Invoiced`` (``PUT /tickets/{id}``).
    """

    Status = DraftStatus

    #: Allowed changes of `decision`: (from, to) -> what the change is called.
    TRANSITIONS = {
        (Decision.PENDING, Decision.APPROVED): "approve",
        (Decision.PENDING, Decision.REJECTED): "reject",
    }

    #: the fields a person can edit before approval (also the keys of `original` / `approved`)
    EDITABLE = (
        "minutes",
        "labor_type",
        "comment_subject",
        "comment_body",
        "comment_hidden",
        "comment_do_not_email",
        "line_description",
    )

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="billing_drafts")
    connection = models.ForeignKey(
        "connectors.Connection", on_delete=models.PROTECT, related_name="+"
    )
    ticket_vendor_id = models.BigIntegerField(help_text="Syncro ticket id.")
    ticket_number = models.CharField(max_length=40, blank=True)
    ticket_subject = models.CharField(max_length=500, blank=True)
    customer_vendor_id = models.BigIntegerField(null=True, blank=True)
    customer_name = models.CharField(max_length=255, blank=True)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="billing_drafts"
    )
    decision = models.CharField(max_length=20, choices=Decision.choices, default=Decision.PENDING)
    batch = models.OneToOneField(
        "outbox.WriteBatch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="draft",
        help_text="The writes approving it queued (comment, line item, invoice, status).",
    )

    form_nonce = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="The one-time token of the form that saved it (a re-submit finds this draft).",
    )
    duplicate_warning = models.TextField(
        blank=True,
        help_text="Why this draft may bill work already billed (set when saved or edited).",
    )
    invoice_separately = models.BooleanField(
        default=False,
        help_text="Approved as line item only; its ticket's invoice is approved on its own.",
    )
    corrections = models.JSONField(
        default=list,
        blank=True,
        help_text="Earlier approvals whose write Syncro refused and a person corrected: "
        '[{"batch": id, "keys": {step: business key confirmed}, "refused": operation, '
        '"message": the vendor\'s words}].',
    )
    ticket_invoice = models.ForeignKey(
        "billing.TicketInvoice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="drafts",
    )

    minutes = models.PositiveIntegerField()
    labor_type = models.CharField(max_length=20, choices=LaborKind.choices)
    product_vendor_id = models.BigIntegerField(help_text="Syncro product id of the labor type.")
    product_name = models.CharField(max_length=255)
    comment_subject = models.CharField(max_length=200)
    comment_body = models.TextField()
    comment_hidden = models.BooleanField()
    comment_do_not_email = models.BooleanField()
    line_description = models.CharField(max_length=500)
    job_tag = models.CharField(
        max_length=80,
        blank=True,
        default="",
        editable=False,
        help_text="The first [ST-JOB num] tag in the line description (set on save).",
    )
    job_tags_more = models.TextField(
        blank=True, default="", editable=False, help_text="Further job tags, one per line."
    )

    original = models.JSONField(default=dict, help_text="The editable values as first drafted.")
    approved = models.JSONField(
        default=dict, blank=True, help_text="The values approved and the exact payloads queued."
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    used_shared_key = models.BooleanField(default=False)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DraftQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "decision", "-created_at"], name="draft_status"),
            models.Index(fields=["tenant", "ticket_vendor_id"], name="draft_ticket"),
            models.Index(fields=["tenant", "drafted_by", "decision"], name="draft_tech"),
            models.Index(fields=["tenant", "customer_vendor_id", "decision"], name="draft_cust"),
            models.Index(fields=["tenant", "job_tag"], name="draft_job_tag"),
            models.Index(
                fields=["tenant"], condition=~models.Q(job_tags_more=""), name="draft_tags_more"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "form_nonce"],
                condition=~models.Q(form_nonce=""),
                name="draft_one_per_form",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_number} {self.minutes} min {self.labor_type} ({self.status})"

    def save(self, *args, **kwargs) -> None:
        """Save, first extracting the job tags of ``line_description`` into ``job_tag`` /
        ``job_tags_more`` (`connectors.job_tags.tag_columns`; the unbilled list reads them)."""
        for name, value in tag_columns(self.line_description).items():
            setattr(self, name, value)
        fields = kwargs.get("update_fields")
        if fields is not None and "line_description" in fields:
            kwargs["update_fields"] = {*fields, "job_tag", "job_tags_more"}
        super().save(*args, **kwargs)

    # --- values -------------------------------------------------------------------------
    @property
    def quantity(self) -> Decimal:
        """Decimal hours sent as the line item ``quantity``."""
        return minutes_to_hours(self.minutes)

    def values(self) -> dict:
        """The editable values now (JSON-safe), the shape of `original` and `approved["values"]`."""
        return {name: getattr(self, name) for name in self.EDITABLE}

    @property
    def original_minutes(self) -> int | None:
        return self.original.get("minutes")

    @property
    def was_edited(self) -> bool:
        return bool(self.original) and self.original != self.values()

    @property
    def status(self) -> str:
        """The derived status (a `DraftStatus` value): the decision, and once approved the
        state of its write batch (sending, invoiced, needs attention); a draft invoiced per
        ticket is BILLED until its ticket's invoice is done."""
        if self.decision == Decision.APPROVED and self.batch_id is not None:
            status = _STATUS_FROM_BATCH.get(self.batch.state, DraftStatus.APPROVED)
            if status == DraftStatus.INVOICED and self.invoice_separately:
                invoice = self.ticket_invoice
                done = invoice is not None and invoice.status == DraftStatus.INVOICED
                return DraftStatus.INVOICED if done else DraftStatus.BILLED
            return status
        return self.decision

    def get_status_display(self) -> str:
        return DraftStatus(self.status).label

    @property
    def vendor_message(self) -> str:
        """The vendor's words on the write that waits for a person ("" otherwise)."""
        return self.batch.vendor_message if self.batch_id is not None else ""

    @property
    def is_pending(self) -> bool:
        return self.decision == Decision.PENDING

    def decide(self, decision: str, *, by) -> str:
        """Move `decision` along `TRANSITIONS` (the caller saves, with its audit row).

        Returns the transition's name. Raises:
            ValueError: the change is not allowed from the current decision.
        """
        name = self.TRANSITIONS.get((self.decision, decision))
        if name is None:
            raise ValueError(f"A {self.decision} draft cannot become {decision}.")
        self.decision = decision
        now = timezone.now()
        if decision == Decision.APPROVED:
            self.approved_by, self.approved_at = by, now
        else:
            self.rejected_by, self.rejected_at = by, now
        return name

    def business_key(self, step: str) -> str:
        """Idempotency key of one write of this draft: ``draft:<uuid>:<step>`` (after a
        correction, the key of the approval that sent that step: `plan_key`)."""
        for write in self.approved.get("writes") or []:
            if write.get("business_key", "").rsplit(":", 1)[-1] == step:
                return write["business_key"]
        for earlier in self.corrections:
            if step in (earlier.get("keys") or {}):
                return earlier["keys"][step]
        return f"{self.plan_key}:{step}"

    @property
    def plan_key(self) -> str:
        """The batch key of the draft's next approval: ``draft:<uuid>``, then ``…:r2`` after a
        correction (each approval's writes have their own business keys)."""
        n = len(self.corrections)
        return f"draft:{self.uuid}" + (f":r{n + 1}" if n else "")

    @property
    def done_steps(self) -> set[str]:
        """Steps Syncro already confirmed in an earlier, corrected approval (never re-sent)."""
        return {step for c in self.corrections for step in (c.get("keys") or {})}


class TicketInvoice(models.Model):
    """The invoice of one Syncro ticket's approved line items, approved on its own (the
    company's ``invoice_mode`` is per ticket; product card: "approve billing line items and
    invoices").

    Drafts approved on the ticket join its one open (pending) invoice (`BillingDraft.
    ticket_invoice`). Approving it queues ``POST /invoices`` (Syncro pulls every not yet
    invoiced line item of the ticket), checked with ``GET /invoices/{id}`` for every line, then
    ``PUT /tickets/{id}`` status Invoiced, as one `WriteBatch`.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="ticket_invoices")
    connection = models.ForeignKey(
        "connectors.Connection", on_delete=models.PROTECT, related_name="+"
    )
    ticket_vendor_id = models.BigIntegerField(help_text="Syncro ticket id.")
    ticket_number = models.CharField(max_length=40, blank=True)
    ticket_subject = models.CharField(max_length=500, blank=True)
    customer_vendor_id = models.BigIntegerField(null=True, blank=True)
    customer_name = models.CharField(max_length=255, blank=True)
    decision = models.CharField(max_length=20, choices=Decision.choices, default=Decision.PENDING)
    batch = models.OneToOneField(
        "outbox.WriteBatch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ticket_invoice",
    )
    approved = models.JSONField(default=dict, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "ticket_vendor_id"],
                condition=models.Q(decision="pending"),
                name="ticketinvoice_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"Invoice of #{self.ticket_number} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.decision == Decision.PENDING

    @property
    def status(self) -> str:
        """PENDING, then APPROVED (sending), NEEDS_ATTENTION or INVOICED from its batch."""
        if self.decision == Decision.APPROVED and self.batch_id is not None:
            return _STATUS_FROM_BATCH.get(self.batch.state, DraftStatus.APPROVED)
        return self.decision

    def get_status_display(self) -> str:
        return DraftStatus(self.status).label


class ApprovalEvent(models.Model):
    """An audit row: who did what to a draft (or a ticket action), when, before and after.

    `before` / `after` are JSON snapshots (the draft's values, a write's state). Rows about a
    vendor write carry its `write_uuid` and `operation`. Written in the same transaction as the
    change. The SENT to RESOLVED kinds are only in rows written before the outbox kept its own
    log of each write (`VendorWriteAttempt`, read through the draft's batch).
    """

    class Kind(models.TextChoices):
        DRAFTED = "drafted", "Drafted"
        EDITED = "edited", "Edited"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        REQUESTED = "requested", "Action confirmed"
        SENT = "sent", "Sent to vendor"
        UNCERTAIN = "uncertain", "Outcome uncertain, verifying"
        CONFIRMED = "confirmed", "Confirmed by vendor"
        FAILED = "failed", "Failed"
        RESOLVED = "resolved", "Resolved by a person"
        CORRECTED = "corrected", "Refused write corrected"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="approval_events")
    draft = models.ForeignKey(
        BillingDraft, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    ticket_invoice = models.ForeignKey(
        TicketInvoice, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    ticket_vendor_id = models.BigIntegerField(null=True, blank=True)
    ticket_number = models.CharField(max_length=40, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    write_uuid = models.UUIDField(null=True, blank=True)
    operation = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-at"], name="apev_tenant_at"),
            models.Index(fields=["tenant", "ticket_vendor_id", "-at"], name="apev_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.ticket_number} at {self.at:%Y-%m-%d %H:%M}"
