"""Mirrored FieldCamp records (API v1). FieldCamp ids are strings (``syn_01HZX…``), so
`vendor_id` is a CharField here. Sources: vendor-apis.md §3.5-§3.6, seed 002 (integrations)."""

from __future__ import annotations

from django.db import models

from connectors.models import MirrorModel, mirror_indexes


class FieldCampVisit(MirrorModel):
    """GET /visits item; ``visitStatus`` has an 8-state lifecycle (only ``scheduled`` known)."""

    vendor_id = models.CharField(max_length=64)
    job_vendor_id = models.CharField(max_length=64, blank=True)
    technician_vendor_id = models.CharField(max_length=64, blank=True)
    visit_status = models.CharField(max_length=30, blank=True)
    scheduled_start = models.DateTimeField(null=True, blank=True)
    scheduled_end = models.DateTimeField(null=True, blank=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes(
            "fc_vis",
            ("st", ["tenant", "visit_status", "-scheduled_start"]),
            ("tech", ["tenant", "technician_vendor_id", "-scheduled_start"]),
        )
        ordering = ["-scheduled_start"]


class FieldCampInvoice(MirrorModel):
    """GET /invoices item; statuses unpaid, paid, partial, overdue (§3.6)."""

    vendor_id = models.CharField(max_length=64)
    number = models.CharField(max_length=60, blank=True)
    client_vendor_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, blank=True)
    total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    due_date = models.DateTimeField(null=True, blank=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes("fc_inv", ("st", ["tenant", "status"]))
        ordering = ["-vendor_created_at"]


class FieldCampSyncJob(MirrorModel):
    """An integration sync job (Google/Outlook calendar, QuickBooks): ``job_id``, ``status``."""

    vendor_id = models.CharField(max_length=64)
    integration = models.CharField(max_length=40, blank=True)
    mode = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes(
            "fc_job", ("int", ["connection", "integration", "-vendor_created_at"])
        )
        ordering = ["-vendor_created_at"]


class FieldCampCalendarChange(MirrorModel):
    """A Google Calendar change record (GET /integrations/google-calendar/sync): ``action``
    created|updated|deleted, the FieldCamp visit id and the Google event id."""

    vendor_id = models.CharField(max_length=64)
    action = models.CharField(max_length=20, blank=True)
    visit_vendor_id = models.CharField(max_length=64, blank=True)
    google_event_id = models.CharField(max_length=255, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta(MirrorModel.Meta):
        indexes = mirror_indexes("fc_cal", ("vis", ["connection", "visit_vendor_id"]))
        ordering = ["-changed_at"]
