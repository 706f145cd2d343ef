"""Dispatch's own rows (the field side keeps everything else in the Synchroteam mirror)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from accounts.models import Tenant
from connectors.models import Connection


class StockMinimum(models.Model):
    """The least quantity of one part a depot (warehouse or van) should hold, kept in the
    portal: Synchroteam's stock resources expose no minimum we could read (README "Synchroteam
    inventory"). Ids are the mirror's Synchroteam ids of the tenant's connection.

    `below_since` is when the mirrored level was last seen crossing below `minimum` (None while
    it is at or above): the low-stock alert and the ``stock_below_threshold`` signal
    (`dispatch.inventory.signals`) fire on its transitions.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    depot_vendor_id = models.BigIntegerField()
    part_vendor_id = models.BigIntegerField()
    minimum = models.DecimalField(
        max_digits=14,
        decimal_places=3,
        validators=[MinValueValidator(0), MaxValueValidator(1_000_000)],
    )
    below_since = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "depot_vendor_id", "part_vendor_id"], name="stockmin_one"
            )
        ]
        indexes = [models.Index(fields=["tenant", "depot_vendor_id"], name="stockmin_depot")]

    def __str__(self) -> str:
        return f"min {self.minimum} of part {self.part_vendor_id} in depot {self.depot_vendor_id}"


class ReconciliationVersion(models.Model):
    """One change of what the reconciliation worklist reads for a tenant (`dispatch.snapshots`):
    a sync run or webhook refresh wrote the mirror (`connectors.signals.mirror_changed`), a job,
    invoice, activity, line item, user or billing draft was saved through the ORM. The tenant's
    newest row's random `token` keys its cached snapshots, so a new row means the next view
    recomputes.

    Rows are only inserted, never updated: a change takes no lock another transaction waits on
    (one row per tenant updated by every draft, approval and write-through would serialize
    them and could deadlock). The older rows of a tenant are deleted when a view recomputes."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "-id"], name="recon_version_latest")]

    def __str__(self) -> str:
        return f"reconciliation version {self.token} of tenant {self.tenant_id}"
