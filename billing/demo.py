"""Demo seeding for billing: map the labor types to the mirrored Syncro products (idempotent).

Products are matched by name words (seed /syncro "Labor product IDs": "Labor - Remote Business",
"Labor - Onsite Business", "Labor - Emergency or After Hours Business", "Labor - Prepaid Project
Labor", "Labor - Internal Labor", "Fee - Travel Time", "Labor - Website Labor"); ids are never
hard-coded. A kind already mapped is left alone.
"""

from __future__ import annotations

from billing.models import LaborKind, LaborType
from connectors.syncro.models import SyncroProduct

KEYWORDS = {
    LaborKind.REMOTE: ("remote",),
    LaborKind.ONSITE: ("onsite", "on-site", "on site"),
    LaborKind.EMERGENCY: ("emergency", "after hours"),
    LaborKind.PROJECT: ("project",),
    LaborKind.INTERNAL: ("internal",),
    LaborKind.TRAVEL: ("travel",),
    LaborKind.WEBSITE: ("website", "web site"),
}


def map_labor_types(tenant) -> dict[str, str]:
    """Map each unmapped kind to the first mirrored product whose name has its keyword.

    Returns ``{kind: product name}`` for the kinds mapped by this call.
    """
    products = list(
        SyncroProduct.objects.filter(tenant=tenant, is_deleted=False, disabled=False).order_by(
            "vendor_id"
        )
    )
    done: dict[str, str] = {}
    mapped = set(
        LaborType.objects.filter(tenant=tenant, product_vendor_id__isnull=False).values_list(
            "kind", flat=True
        )
    )
    for kind, words in KEYWORDS.items():
        if kind in mapped:
            continue
        match = next((p for p in products if any(w in p.name.lower() for w in words)), None)
        if match is None:
            continue
        LaborType.objects.update_or_create(
            tenant=tenant,
            kind=kind,
            defaults={"product_vendor_id": match.vendor_id, "product_name": match.name},
        )
        done[kind] = match.name
    return done


def seed_demo(accounts, stdout) -> None:
    """Called by ``manage.py seed_demo`` after the connectors' seeding (mirror filled)."""
    done = map_labor_types(accounts.tenant)
    if done:
        stdout.write(f"Billing: mapped {len(done)} labor types to Syncro products.")
    elif not SyncroProduct.objects.filter(tenant=accounts.tenant).exists():
        stdout.write("Billing: no Syncro products mirrored yet; labor types left unmapped.")
