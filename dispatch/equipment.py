"""Equipment history (read side, from the mirror): an equipment's site and customer, the jobs
done on it, the parts used on those jobs and its latest job report.

Sources: vendor-apis.md §2.7 (a job carries ``equipment{id,myId,name}`` and ``site{id}``;
equipment has ``site`` and ``customer``), §2.3 (``jobReport/details``). The parts used are the
part lines (not services) of the jobs' Synchroteam invoices (``lines[].part{id, reference,
name}``, ``quantity``): Synchroteam's job parts (``job/parts``) are not mirrored, and part
movements tied to jobs come with the inventory mirror (issue 16, build item 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db.models import Q, QuerySet

from accounts.models import Tenant
from connectors.synchroteam.models import (
    SynchroteamCustomer,
    SynchroteamEquipment,
    SynchroteamInvoice,
    SynchroteamJob,
    SynchroteamJobFetch,
    SynchroteamPart,
    SynchroteamSite,
)

DONE_STATUSES = ("completed", "validated")


def equipment_filtered(*, tenant: Tenant, q: str = "") -> QuerySet[SynchroteamEquipment]:
    """The tenant's live equipment, by name; `q` matches name or myId (serial number)."""
    qs = SynchroteamEquipment.objects.for_tenant(tenant).alive()
    q = (q or "").strip()[:100]
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(my_id__icontains=q))
    return qs.order_by("name", "vendor_id")


def jobs_on(equipment: SynchroteamEquipment) -> QuerySet[SynchroteamJob]:
    """Live jobs whose ``equipment.id`` is this equipment, newest first."""
    return (
        SynchroteamJob.objects.filter(
            connection_id=equipment.connection_id, raw__equipment__id=equipment.vendor_id
        )
        .alive()
        .order_by("-scheduled_start", "-vendor_id")
    )


@dataclass
class PartUsed:
    """One part across the equipment's jobs: total `quantity` and the job numbers."""

    reference: str
    name: str
    quantity: Decimal = Decimal(0)
    jobs: list[str] = field(default_factory=list)


def _qty(value) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def parts_used(equipment: SynchroteamEquipment, jobs: list[SynchroteamJob]) -> list[PartUsed]:
    """The part lines of the jobs' invoices, summed per reference (services left out, by the
    mirrored part's ``type``), most used first."""
    nums = {j.vendor_id: j.num or str(j.vendor_id) for j in jobs}
    services = set(
        SynchroteamPart.objects.filter(
            connection_id=equipment.connection_id, type="service"
        ).values_list("reference", flat=True)
    )
    found: dict[str, PartUsed] = {}
    invoices = SynchroteamInvoice.objects.filter(
        connection_id=equipment.connection_id, job_vendor_id__in=list(nums)
    ).alive()
    for invoice in invoices:
        lines = (invoice.raw or {}).get("lines")
        for line in lines if isinstance(lines, list) else []:
            part = line.get("part") if isinstance(line, dict) else None
            if not isinstance(part, dict) or not part.get("reference"):
                continue
            ref = str(part["reference"])[:120]
            if ref in services:
                continue
            used = found.setdefault(ref, PartUsed(ref, str(part.get("name") or "")[:255]))
            used.quantity += _qty(line.get("quantity"))
            num = nums.get(invoice.job_vendor_id, "")
            if num not in used.jobs:
                used.jobs.append(num)
    return sorted(found.values(), key=lambda p: (-p.quantity, p.reference))


@dataclass
class EquipmentHistory:
    """What the equipment page shows."""

    equipment: SynchroteamEquipment
    site: SynchroteamSite | None
    customer: SynchroteamCustomer | None
    jobs: list[SynchroteamJob]
    parts: list[PartUsed]
    latest_done: SynchroteamJob | None
    latest_report: SynchroteamJobFetch | None


def equipment_history(equipment: SynchroteamEquipment, *, limit: int = 200) -> EquipmentHistory:
    """Site, customer, the latest `limit` jobs, the parts used on them, the latest completed
    job and its cached report (None when it was never fetched)."""
    conn = equipment.connection_id
    site = SynchroteamSite.objects.filter(
        connection_id=conn, vendor_id=equipment.site_vendor_id
    ).first()
    customer = SynchroteamCustomer.objects.filter(
        connection_id=conn,
        vendor_id=equipment.customer_vendor_id or (site and site.customer_vendor_id),
    ).first()
    jobs = list(jobs_on(equipment)[:limit])
    done = [j for j in jobs if j.status in DONE_STATUSES]
    latest = max(done, key=lambda j: j.actual_end or j.scheduled_start or j.synced_at, default=None)
    report = None
    if latest is not None:
        report = SynchroteamJobFetch.objects.filter(
            connection_id=conn, job_vendor_id=latest.vendor_id, kind=SynchroteamJobFetch.Kind.REPORT
        ).first()
    return EquipmentHistory(
        equipment, site, customer, jobs, parts_used(equipment, jobs), latest, report
    )
