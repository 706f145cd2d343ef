"""Mirrored Synchroteam records (API v3). `custom_fields` = ``customFieldValues`` as
``{label: value}``; `vendor_updated_at` = ``dateModified``; `vendor_created_at` = ``dateCreated``
(naive vendor strings read as UTC, vendor-apis.md §4.6). Field names: vendor-apis.md §2.7."""

from __future__ import annotations

from django.db import models

from connectors.models import MirrorModel, mirror_indexes


class SynchroteamCustomer(MirrorModel):
    my_id = models.CharField(max_length=120, blank=True, help_text="Synchroteam myId")
    name = models.CharField(max_length=255, blank=True)
    address = models.CharField(max_length=500, blank=True)
    contact_email = models.CharField(max_length=255, blank=True)
    contact_phone = models.CharField(max_length=60, blank=True)
    active = models.BooleanField(default=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes("st_cus", ("name", ["tenant", "name"]))
        ordering = ["name"]


class SynchroteamSite(MirrorModel):
    my_id = models.CharField(max_length=120, blank=True)
    name = models.CharField(max_length=255, blank=True)
    customer_vendor_id = models.BigIntegerField(null=True, blank=True)
    address = models.CharField(max_length=500, blank=True)
    active = models.BooleanField(default=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes("st_site", ("cus", ["connection", "customer_vendor_id"]))
        ordering = ["name"]


class SynchroteamUser(MirrorModel):
    """Users (technicians and office staff)."""

    login = models.CharField(max_length=255, blank=True)
    name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=255, blank=True)
    profile = models.CharField(max_length=60, blank=True)
    active = models.BooleanField(default=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes("st_usr")
        ordering = ["name"]


class SynchroteamJob(MirrorModel):
    """job/list item. Status values: created, scheduled, synchronized, started, paused,
    completed, validated, cancelled (vendor-apis.md §2.5)."""

    num = models.CharField(max_length=60, blank=True)
    my_id = models.CharField(max_length=120, blank=True)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=30, blank=True)
    priority = models.CharField(max_length=30, blank=True)
    type_name = models.CharField(max_length=120, blank=True)
    customer_vendor_id = models.BigIntegerField(null=True, blank=True)
    customer_name = models.CharField(max_length=255, blank=True)
    site_vendor_id = models.BigIntegerField(null=True, blank=True)
    technician_vendor_id = models.BigIntegerField(null=True, blank=True)
    technician_name = models.CharField(max_length=255, blank=True)
    scheduled_start = models.DateTimeField(null=True, blank=True)
    scheduled_end = models.DateTimeField(null=True, blank=True)
    actual_start = models.DateTimeField(null=True, blank=True)
    actual_end = models.DateTimeField(null=True, blank=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes(
            "st_job",
            ("st", ["tenant", "status", "-scheduled_start"]),
            ("cus", ["tenant", "customer_vendor_id"]),
            ("tech", ["tenant", "technician_vendor_id", "-scheduled_start"]),
            ("sch", ["tenant", "-scheduled_start"]),
            ("num", ["tenant", "num"]),
            ("myid", ["tenant", "my_id"]),
        ) + [
            # the job list's status bars (dispatch.selectors.status_counts): ranges of live
            # jobs by status and scheduled start, counted from the index alone (issue 14).
            # Status first: a tenant-only query (the list's page) must not pick this index.
            models.Index(
                fields=["status", "tenant", "scheduled_start"],
                condition=models.Q(is_deleted=False),
                name="st_job_cnt_live",
            ),
        ]
        ordering = ["-scheduled_start"]


class SynchroteamActivity(MirrorModel):
    """Time: clock in/out, travel, work, unavailability."""

    type = models.CharField(max_length=60, blank=True)
    user_vendor_id = models.BigIntegerField(null=True, blank=True)
    job_vendor_id = models.BigIntegerField(null=True, blank=True)
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes(
            "st_act",
            ("usr", ["tenant", "user_vendor_id", "-start"]),
            ("job", ["connection", "job_vendor_id"]),
        )
        ordering = ["-start"]


class SynchroteamEquipment(MirrorModel):
    my_id = models.CharField(max_length=120, blank=True)
    name = models.CharField(max_length=255, blank=True)
    customer_vendor_id = models.BigIntegerField(null=True, blank=True)
    site_vendor_id = models.BigIntegerField(null=True, blank=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes("st_eq", ("site", ["connection", "site_vendor_id"]))
        ordering = ["name"]


class SynchroteamPart(MirrorModel):
    """Parts and services (``type`` part|service)."""

    reference = models.CharField(max_length=120, blank=True)
    name = models.CharField(max_length=255, blank=True)
    type = models.CharField(max_length=20, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=20, blank=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes("st_part", ("ref", ["tenant", "reference"]))
        ordering = ["name"]


class SynchroteamInvoice(MirrorModel):
    num = models.CharField(max_length=60, blank=True)
    status = models.CharField(max_length=30, blank=True)
    job_vendor_id = models.BigIntegerField(null=True, blank=True)
    customer_vendor_id = models.BigIntegerField(null=True, blank=True)
    date = models.DateTimeField(null=True, blank=True)
    total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes("st_inv", ("job", ["connection", "job_vendor_id"]))
        ordering = ["-date"]


class SynchroteamQuotation(MirrorModel):
    num = models.CharField(max_length=60, blank=True)
    status = models.CharField(max_length=30, blank=True)
    job_vendor_id = models.BigIntegerField(null=True, blank=True)
    customer_vendor_id = models.BigIntegerField(null=True, blank=True)
    date = models.DateTimeField(null=True, blank=True)
    total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes("st_quo", ("cus", ["connection", "customer_vendor_id"]))
        ordering = ["-date"]


# --- inventory (connectors/synchroteam/stock.py; README "Synchroteam inventory") ----------------


class SynchroteamDepot(MirrorModel):
    """``depot/list``: a stock depot, a warehouse or a technician's vehicle (``user`` set:
    the van of that user; `kind` is derived from it, the vendor's own flag is unknown)."""

    class Kind(models.TextChoices):
        WAREHOUSE = "warehouse", "Warehouse"
        VEHICLE = "vehicle", "Vehicle"

    my_id = models.CharField(max_length=120, blank=True)
    name = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.WAREHOUSE)
    user_vendor_id = models.BigIntegerField(null=True, blank=True, help_text="the van's technician")
    is_default = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes("st_dep", ("usr", ["connection", "user_vendor_id"]))
        ordering = ["kind", "name"]


class SynchroteamStockLevel(MirrorModel):
    """``stockpart/list``: the quantity of one part in one depot."""

    depot_vendor_id = models.BigIntegerField(null=True, blank=True)
    part_vendor_id = models.BigIntegerField(null=True, blank=True)
    part_reference = models.CharField(max_length=120, blank=True)
    part_name = models.CharField(max_length=255, blank=True)
    quantity = models.DecimalField(max_digits=14, decimal_places=3, default=0)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes(
            "st_stk",
            ("dep", ["connection", "depot_vendor_id"]),
            ("part", ["connection", "part_vendor_id"]),
        )
        ordering = ["depot_vendor_id", "part_reference"]


class SynchroteamPartMovement(MirrorModel):
    """``partmovement/list``: `quantity` of a part from one depot to another (no source:
    received from a supplier; no destination: used on `job_vendor_id` or written off)."""

    part_vendor_id = models.BigIntegerField(null=True, blank=True)
    part_reference = models.CharField(max_length=120, blank=True)
    from_depot_vendor_id = models.BigIntegerField(null=True, blank=True)
    to_depot_vendor_id = models.BigIntegerField(null=True, blank=True)
    quantity = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    job_vendor_id = models.BigIntegerField(null=True, blank=True)
    user_vendor_id = models.BigIntegerField(null=True, blank=True)
    request_vendor_id = models.BigIntegerField(null=True, blank=True)
    date = models.DateTimeField(null=True, blank=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes(
            "st_mov",
            ("part", ["connection", "part_vendor_id", "date"]),
            ("job", ["connection", "job_vendor_id"]),
        )
        ordering = ["-date"]


class SynchroteamPartRequest(MirrorModel):
    """``partrequest/list``: a request for `quantity` of a part into `depot_vendor_id`;
    `status` from the vendor's flags (deleted, completed, sent, open)."""

    my_id = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=20, blank=True)
    urgent = models.BooleanField(default=False)
    part_vendor_id = models.BigIntegerField(null=True, blank=True)
    part_reference = models.CharField(max_length=120, blank=True)
    quantity = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    depot_vendor_id = models.BigIntegerField(null=True, blank=True)
    from_depot_vendor_id = models.BigIntegerField(null=True, blank=True)
    user_vendor_id = models.BigIntegerField(null=True, blank=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes("st_preq", ("dep", ["connection", "depot_vendor_id", "status"]))
        ordering = ["-vendor_created_at"]


class SynchroteamJobFetch(models.Model):
    """A job's report (``GET jobReport/details?id=``) or photo list (``GET job/photos?id=`` ->
    ``{"jobPhoto": [...]}``), fetched on demand and kept until ``fetched_at`` is older than
    ``SYNCHROTEAM_JOB_REPORT_TTL_SECONDS`` (vendor-apis.md §2.3). `found` False = the vendor
    answered 404 (no report yet); `data` = the report object, or ``{"photos": [...]}``."""

    class Kind(models.TextChoices):
        REPORT = "report", "Job report"
        PHOTOS = "photos", "Photos"

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(
        "connectors.Connection", on_delete=models.CASCADE, related_name="+"
    )
    job_vendor_id = models.BigIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    found = models.BooleanField(default=True)
    data = models.JSONField(default=dict, blank=True)
    fetched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "job_vendor_id", "kind"], name="st_jobfetch_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} of job {self.job_vendor_id}"

    @property
    def report_items(self) -> list[dict]:
        """The report's ``items`` ``[{name, type, value}]`` that are objects with a name."""
        items = (self.data or {}).get("items") if self.found else None
        return (
            [i for i in items if isinstance(i, dict) and i.get("name")]
            if isinstance(items, list)
            else []
        )

    @property
    def photos(self) -> list[dict]:
        """The photo records (``jobPhoto`` items that are objects)."""
        photos = (self.data or {}).get("photos") if self.found else None
        return [p for p in photos if isinstance(p, dict)] if isinstance(photos, list) else []
