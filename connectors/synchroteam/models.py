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
            # the job list's status counts, read from the index alone (issue 14)
            ("cnt", ["tenant", "is_deleted", "status"]),
        )
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
