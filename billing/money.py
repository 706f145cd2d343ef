"""Money on billable time: the Syncro product's rate of each labor type, and hours × rate.

Syncro prices a line item from its product when ``price_retail`` is omitted (seed /syncro
"Billing workflow"; vendor-apis.md §1.9), so the portal never sends a price: the amounts here
are what Syncro will charge, read from the mirrored product (``GET /products`` →
``price_retail``), shown before approval so nobody approves blind. Amounts are `Decimal`,
rounded half-up to cents, in the tenant's currency (`Tenant.currency`; Syncro's API does not
state its account's currency, see the README's vendor notes).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from accounts.models import Tenant
from billing.models import LaborKind, LaborType, minutes_to_hours
from connectors.syncro.models import SyncroProduct

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Rate:
    """A labor type's price per hour: the mapped Syncro product's ``price_retail``.

    Attributes:
        kind: a `LaborKind` value.
        product_vendor_id: the Syncro product id (None: not mapped).
        product_name: the product's name as mirrored.
        per_hour: price per hour in the tenant's currency (None: not mapped or not priced).
        currency: ISO 4217 code.
    """

    kind: str
    product_vendor_id: int | None
    product_name: str
    per_hour: Decimal | None
    currency: str

    @property
    def label(self) -> str:
        return LaborKind(self.kind).label


def amount(minutes: int | None, per_hour: Decimal | None) -> Decimal | None:
    """``minutes / 60`` hours (rounded as Syncro's quantity, `minutes_to_hours`) × `per_hour`,
    to the cent; None when either is unknown."""
    if minutes is None or per_hour is None:
        return None
    return (minutes_to_hours(minutes) * per_hour).quantize(CENT, rounding=ROUND_HALF_UP)


def product_prices(tenant: Tenant, product_ids) -> dict[int, Decimal | None]:
    """``{Syncro product id: price_retail}`` from the tenant's mirror (one query)."""
    ids = {int(p) for p in product_ids if p is not None}
    if not ids:
        return {}
    return dict(
        SyncroProduct.objects.filter(tenant=tenant, vendor_id__in=ids).values_list(
            "vendor_id", "price_retail"
        )
    )


def labor_rates(tenant: Tenant) -> dict[str, Rate]:
    """Every `LaborKind`'s `Rate` for `tenant` (two queries), keyed by kind."""
    mapped = {lt.kind: lt for lt in LaborType.objects.filter(tenant=tenant)}
    prices = product_prices(tenant, [lt.product_vendor_id for lt in mapped.values()])
    out = {}
    for kind in LaborKind.values:
        lt = mapped.get(kind)
        pid = lt.product_vendor_id if lt else None
        out[kind] = Rate(
            kind=kind,
            product_vendor_id=pid,
            product_name=lt.product_name if lt else "",
            per_hour=prices.get(pid) if pid is not None else None,
            currency=tenant.currency,
        )
    return out


def draft_amounts(drafts, *, prices: dict | None = None) -> dict[int, Decimal | None]:
    """``{draft pk: amount}`` for drafts of one tenant, priced from their own product (the
    product fixed on the draft, not today's labor-type mapping), in one query; none when the
    caller passes `prices` (`product_prices` of at least these drafts' products)."""
    drafts = list(drafts)
    if not drafts:
        return {}
    if prices is None:
        prices = product_prices(drafts[0].tenant, [d.product_vendor_id for d in drafts])
    return {d.pk: amount(d.minutes, prices.get(d.product_vendor_id)) for d in drafts}
