"""Forms of "Connect <vendor>" and "My vendor keys": secrets are write-only (never rendered
back, not even after a refused submission); the account field keeps what was typed."""

from __future__ import annotations

from django import forms

from connectors.vendors import ConnectSpec


def _secret_field(label: str, *, required: bool, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        strip=True,
        max_length=500,
        help_text=help_text or "Write-only: encrypted at once and never shown again.",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )


class ConnectForm(forms.Form):
    """The fields a vendor's `ConnectSpec` asks for: ``account``, ``secret`` and, when the
    spec names one, ``webhook_secret`` (optional; empty keeps the stored one)."""

    def __init__(self, spec: ConnectSpec, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"] = forms.CharField(
            label=spec.account_label,
            required=spec.account_required,
            max_length=300,
            help_text=spec.account_help,
            widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        )
        self.fields["secret"] = _secret_field(
            spec.key_label, required=True, help_text=spec.key_help
        )
        if spec.webhook_label:
            self.fields["webhook_secret"] = _secret_field(
                spec.webhook_label,
                required=False,
                help_text="Optional: the secret the vendor signs its webhooks with. Empty keeps "
                "the stored one.",
            )


class KeyForm(forms.Form):
    """One write-only field: a person's own API token."""

    secret = _secret_field("Your API token", required=True)
