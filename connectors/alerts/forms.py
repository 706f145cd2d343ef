"""Forms of the alerts pages: snooze length, and the per-person e-mail choice."""

from __future__ import annotations

from django import forms

from connectors.alerts.models import AlertKind
from connectors.alerts.services import SNOOZES


class SnoozeForm(forms.Form):
    """``duration``: one of `SNOOZES` ("1h", "1d", "1w")."""

    duration = forms.ChoiceField(choices=[(k, label) for k, (label, _) in SNOOZES.items()])


class EmailKindsForm(forms.Form):
    """``email_kinds``: the `AlertKind` values the person wants by e-mail (none is allowed)."""

    email_kinds = forms.MultipleChoiceField(
        choices=AlertKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="E-mail me when",
    )
