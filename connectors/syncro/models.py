"""Mirrored Syncro records (one table per resource, rows unique per connection and Syncro id).

Columns are the ones staff filter and sort on; everything else stays in `raw`. Field names follow
Syncro's (vendor-apis.md §1.8, specs/syncro-openapi.json). Ids of other Syncro records are kept as
``<thing>_vendor_id`` integers (no foreign keys: records of one page may refer to records a later
stream brings in); QuerySet helpers join them when needed.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from connectors.job_tags import tag_columns
from connectors.models import MirrorModel, MirrorQuerySet, mirror_indexes


class SyncroCustomer(MirrorModel):
    """GET /customers item. `custom_fields` = Syncro ``properties``."""

    business_name = models.CharField(max_length=255, blank=True)
    firstname = models.CharField(max_length=120, blank=True)
    lastname = models.CharField(max_length=120, blank=True)
    name = models.CharField(
        max_length=255, blank=True, db_index=True, help_text="business_then_name"
    )
    email = models.CharField(max_length=255, blank=True)
    phone = models.CharField(max_length=60, blank=True)
    disabled = models.BooleanField(default=False)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes("sx_cus")
        ordering = ["name"]


class SyncroContact(MirrorModel):
    """GET /contacts item."""

    customer_vendor_id = models.BigIntegerField(null=True, blank=True)
    name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=255, blank=True)
    phone = models.CharField(max_length=60, blank=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes("sx_con", ("cus", ["connection", "customer_vendor_id"]))
        ordering = ["name"]


class SyncroProduct(MirrorModel):
    """GET /products item (labour products are what timer entries charge)."""

    name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    product_category = models.CharField(max_length=120, blank=True)
    upc_code = models.CharField(max_length=120, blank=True)
    price_cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    price_retail = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    taxable = models.BooleanField(default=False)
    disabled = models.BooleanField(default=False)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes("sx_prd")
        ordering = ["name"]


class SyncroTicketQuerySet(MirrorQuerySet):
    def search(self, text: str) -> SyncroTicketQuerySet:
        """Free text on number, subject and customer name (case-insensitive contains)."""
        text = (text or "").strip()
        if not text:
            return self
        return self.filter(
            models.Q(number__icontains=text)
            | models.Q(subject__icontains=text)
            | models.Q(customer_name__icontains=text)
        )


class SyncroTicket(MirrorModel):
    """GET /tickets item. `custom_fields` = Syncro ``properties``.

    Indexed for the ticket list: status, customer, technician (``user_vendor_id``) and date
    ranges, each led by tenant so one tenant's 100 000 tickets are read through the index.
    """

    number = models.CharField(max_length=40, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=60, blank=True)
    problem_type = models.CharField(max_length=120, blank=True)
    priority = models.CharField(max_length=60, blank=True)
    ticket_type_name = models.CharField(max_length=120, blank=True)
    customer_vendor_id = models.BigIntegerField(null=True, blank=True)
    customer_name = models.CharField(max_length=255, blank=True)
    contact_vendor_id = models.BigIntegerField(null=True, blank=True)
    user_vendor_id = models.BigIntegerField(null=True, blank=True, help_text="Assigned tech.")
    due_date = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = SyncroTicketQuerySet.as_manager()

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes(
            "sx_tkt",
            ("st", ["tenant", "status", "-vendor_created_at"]),
            ("cus", ["tenant", "customer_vendor_id", "-vendor_created_at"]),
            ("usr", ["tenant", "user_vendor_id", "-vendor_created_at"]),
            ("crt", ["tenant", "-vendor_created_at"]),
            # the list's whole ordering (newest first, id as tie-break) behind its live-row
            # filter: deep pages skip index entries only (issue 14)
            ("lst", ["tenant", "is_deleted", "-vendor_created_at", "-vendor_id"]),
            ("num", ["tenant", "number"]),
            ("cnm", ["tenant", "customer_name"]),
        ) + [
            # a status whatever its case, oldest change first: the home page's "Waiting on
            # Customer" card (billing.home.waiting_on_customer) counts and lists by it. Status
            # leads: SQLite took a tenant-led version of it for the ticket list (live rows of a
            # tenant) and sorted 100 000 rows instead of reading sx_tkt_lst in order
            models.Index(
                Upper("status"),
                F("tenant"),
                F("vendor_updated_at"),
                name="sx_tkt_stu",
                condition=Q(is_deleted=False),
            ),
        ]
        ordering = ["-vendor_created_at"]


class SyncroTicketComment(MirrorModel):
    """GET /tickets/{id}/comments item."""

    ticket_vendor_id = models.BigIntegerField()
    subject = models.CharField(max_length=500, blank=True)
    body = models.TextField(blank=True)
    tech = models.CharField(max_length=255, blank=True)
    hidden = models.BooleanField(default=False)
    user_vendor_id = models.BigIntegerField(null=True, blank=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes("sx_cmt", ("tkt", ["connection", "ticket_vendor_id"]))
        ordering = ["vendor_created_at"]


def line_item_tags(name: str, record) -> dict[str, str]:
    """The ``job_tag`` / ``job_tags_more`` columns of a line item named `name` whose vendor
    record is `record` (its ``description``, a ticket line item's, is read from there):
    `connectors.job_tags.tag_columns` of the two."""
    description = record.get("description") if isinstance(record, dict) else ""
    return tag_columns(name or "", str(description or ""))


class SyncroLineItem(MirrorModel):
    """GET /line_items item (invoice line items); ticket line items carry `ticket_vendor_id`.

    Money is kept in the vendor's unit (dollars as decimal strings, vendor-apis.md §1.8).
    """

    invoice_vendor_id = models.BigIntegerField(null=True, blank=True)
    ticket_vendor_id = models.BigIntegerField(null=True, blank=True)
    product_vendor_id = models.BigIntegerField(null=True, blank=True)
    item = models.CharField(max_length=255, blank=True)
    name = models.CharField(max_length=500, blank=True)
    quantity = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    taxable = models.BooleanField(default=False)
    position = models.IntegerField(null=True, blank=True)
    job_tag = models.CharField(
        max_length=80,
        blank=True,
        default="",
        help_text="The first [ST-JOB num] tag in the name or description (connectors.job_tags).",
    )
    job_tags_more = models.TextField(
        blank=True, default="", help_text="Further job tags, one per line (nearly always empty)."
    )

    class Meta(MirrorModel.Meta):
        indexes = [
            *mirror_indexes(
                "sx_li",
                ("inv", ["connection", "invoice_vendor_id"]),
                ("tkt", ["connection", "ticket_vendor_id"]),
                ("tag", ["tenant", "job_tag"]),
            ),
            models.Index(
                fields=["tenant"], condition=~models.Q(job_tags_more=""), name="sx_li_tags_more"
            ),
        ]
        ordering = ["position", "vendor_id"]

    def save(self, *args, **kwargs) -> None:
        """Save, first extracting the job tags of ``name`` and the ``description`` in `raw`
        (the columns `connectors.syncro.mapping.map_line_item` fills on the sync's path)."""
        for name, value in line_item_tags(self.name, self.raw).items():
            setattr(self, name, value)
        fields = kwargs.get("update_fields")
        if fields is not None and {"name", "raw"} & set(fields):
            kwargs["update_fields"] = {*fields, "job_tag", "job_tags_more"}
        super().save(*args, **kwargs)

    @property
    def title(self) -> str:
        """The item's name: ``item`` on an invoice line (``name`` is its description there),
        ``name`` on a ticket line item (vendor-apis.md §1.8)."""
        return self.item or self.name

    @property
    def description(self) -> str:
        """The line's description: ``name`` of an invoice line, ``description`` of a ticket
        line item (kept in `raw`)."""
        if self.item:
            return self.name
        return str((self.raw or {}).get("description") or "")

    @property
    def amount(self):
        """quantity × price (a Decimal in the account's currency), None when either is unknown."""
        if self.quantity is None or self.price is None:
            return None
        return (self.quantity * self.price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class SyncroTimerEntry(MirrorModel):
    """GET /ticket_timers item (response fields are ``start_time``/``end_time``)."""

    ticket_vendor_id = models.BigIntegerField(null=True, blank=True)
    user_vendor_id = models.BigIntegerField(null=True, blank=True)
    product_vendor_id = models.BigIntegerField(null=True, blank=True)
    ticket_line_item_vendor_id = models.BigIntegerField(null=True, blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    recorded = models.BooleanField(default=False, help_text="Charged (a line item exists).")
    billable = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    active_duration = models.IntegerField(null=True, blank=True, help_text="Seconds.")
    billable_time = models.IntegerField(null=True, blank=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes(
            "sx_tmr",
            ("tkt", ["connection", "ticket_vendor_id"]),
            ("usr", ["tenant", "user_vendor_id", "-start_time"]),
        ) + [
            # the unbilled timers only (billable, not charged, live: about one in ten), by
            # ticket: the ticket list's "Unbilled time" filter, its count (distinct tickets,
            # read from this index only) and its billing badges read this instead of every
            # timer of the tenant (`billing.selectors.unbilled_timers` must keep exactly this
            # condition for the index to apply)
            models.Index(
                fields=["tenant", "ticket_vendor_id", "connection"],
                name="sx_tmr_unb",
                condition=Q(is_deleted=False, billable=True, recorded=False),
            ),
        ]
        ordering = ["-start_time"]


class SyncroInvoice(MirrorModel):
    """GET /invoices item (amounts arrive as strings)."""

    number = models.CharField(max_length=60, blank=True)
    customer_vendor_id = models.BigIntegerField(null=True, blank=True)
    customer_name = models.CharField(max_length=255, blank=True)
    ticket_vendor_id = models.BigIntegerField(null=True, blank=True)
    date = models.DateTimeField(null=True, blank=True)
    due_date = models.DateTimeField(null=True, blank=True)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    tax = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    is_paid = models.BooleanField(default=False)

    @property
    def payment_state(self) -> str:
        """``"paid"`` or ``"unpaid"`` (Syncro's ``is_paid``), a badge's state."""
        return "paid" if self.is_paid else "unpaid"

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes(
            "sx_inv",
            ("tkt", ["connection", "ticket_vendor_id"]),
            ("cus", ["tenant", "customer_vendor_id", "-date"]),
        )
        ordering = ["-date"]


class SyncroUser(MirrorModel):
    """GET /users pair ``[id, name]``: the account's technicians (assignees, comment authors)."""

    name = models.CharField(max_length=255, blank=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes("sx_usr")
        ordering = ["name"]


class SyncroTicketSettings(MirrorModel):
    """GET /tickets/settings: one row per connection (``vendor_id`` 0).

    Statuses are configurable per Syncro account, so the portal's status filters and pickers read
    them from here rather than from a hard-coded list (vendor-apis.md §1.6).
    """

    statuses = models.JSONField(default=list, help_text="ticket_status_list")
    priorities = models.JSONField(default=list)
    ticket_types = models.JSONField(default=list, help_text="[{id, name, disabled}]")
    default_labor_product_id = models.BigIntegerField(null=True, blank=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes("sx_set")
