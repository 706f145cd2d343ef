"""Inventory forms: a depot's minimum for a part, and a replenishment request. Choices are the
tenant's own mirrored rows, so an id from another company is not a valid choice."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from connectors.synchroteam.models import SynchroteamDepot


class MinimumForm(forms.Form):
    """The least quantity of `part` the depot should hold (0 = no alert)."""

    part = forms.TypedChoiceField(coerce=int, label="Part")
    minimum = forms.DecimalField(
        min_value=Decimal(0),
        max_value=Decimal(1_000_000),
        max_digits=14,
        decimal_places=3,
        label="Minimum",
        help_text="An alert opens when the level falls below this.",
    )

    def __init__(self, *args, parts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["part"].choices = [("", "—")] + [
            (p.vendor_id, f"{p.reference} · {p.name}") for p in parts
        ]


class ReplenishForm(forms.Form):
    """A part request into the depot from another depot that holds the part."""

    source = forms.TypedChoiceField(coerce=int, label="From depot")
    quantity = forms.IntegerField(min_value=1, max_value=100_000, label="Quantity")
    urgent = forms.BooleanField(required=False, label="Urgent")

    def __init__(self, *args, sources: list[tuple[SynchroteamDepot, Decimal]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [
            (d.vendor_id, f"{d.name} ({qty.normalize():f} held)") for d, qty in sources
        ]
        self.held = {d.vendor_id: qty for d, qty in sources}

    def clean(self):
        data = super().clean()
        source, qty = data.get("source"), data.get("quantity")
        if source is not None and qty is not None and qty > self.held.get(source, 0):
            self.add_error(
                "quantity",
                f"That depot holds {self.held[source].normalize():f}; Synchroteam would leave "
                "the request open. Ask for what it holds or pick another depot.",
            )
        return data
