"""Forms for sign-in, company settings and the credential admin."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from accounts.localtime import time_zone_choices
from accounts.models import Credential, Membership, Tenant, User


class EmailAuthenticationForm(AuthenticationForm):
    """Django's login form, labelled for e-mail addresses (the User's USERNAME_FIELD)."""

    username = forms.EmailField(
        label="E-mail address",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That e-mail address and password do not match an account. Both are case-sensitive "
        "for the password only.",
    }

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class TenantSettingsForm(forms.ModelForm):
    """The company settings of `/company/` (owners and admins); ``time_zone`` is an IANA name
    from `accounts.localtime.time_zone_choices`."""

    time_zone = forms.ChoiceField(
        choices=time_zone_choices,
        required=False,
        help_text="Pages show times in this zone and forms read them in it (stored in UTC).",
    )

    class Meta:
        model = Tenant
        fields = [
            "name",
            "four_eyes_approval",
            "billing_attribution",
            "invoice_mode",
            "currency",
            "overtime_hours_per_week",
            "time_zone",
            "require_mfa",
        ]

    def clean_time_zone(self) -> str:
        """An IANA name from the list (the choice field refuses others); left out of the POST,
        the company keeps its zone."""
        return self.cleaned_data.get("time_zone") or self.instance.time_zone or "UTC"

    def clean_currency(self) -> str:
        """Three letters (ISO 4217), stored upper-case."""
        code = (self.cleaned_data.get("currency") or "").strip().upper()
        if len(code) != 3 or not code.isascii() or not code.isalpha():
            raise forms.ValidationError("Use the three-letter currency code, e.g. USD or EUR.")
        return code


class CredentialAdminForm(forms.ModelForm):
    """Admin form: the secret is write-only.

    On create, `new_secret` is required. On change, a filled `new_secret` rotates the credential
    (CredentialEvent written by `Credential.rotate`); left empty, the stored secret is untouched.
    The widget never renders a value back.

    The owner choices are the active members of the credential's company (on change; its
    tenant is read-only there) or of the companies the tenant field offers (on add), and
    `clean` refuses an owner who is not an active member of the chosen company, so a foreign
    user can never own a company's key.
    """

    new_secret = forms.CharField(
        label="Secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Paste the token or key; it is encrypted at once and never shown again. "
        "On an existing credential, a value here rotates it.",
    )

    class Meta:
        model = Credential
        fields = ["tenant", "vendor", "purpose", "owner", "label", "status"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        owner = self.fields.get("owner")
        if owner is None:
            return
        if self.instance.pk is not None:
            tenants = Tenant.objects.filter(pk=self.instance.tenant_id)
        elif "tenant" in self.fields:
            tenants = self.fields["tenant"].queryset
        else:
            tenants = Tenant.objects.none()
        owner.queryset = (
            User.objects.filter(
                memberships__tenant__in=tenants, memberships__is_active=True, is_active=True
            )
            .distinct()
            .order_by("email")
        )

    def clean(self):
        """A new credential needs its secret; the owner must be an active member of the
        credential's company (its tenant on change, the chosen tenant on add)."""
        cleaned = super().clean()
        if self.instance.pk is None and not cleaned.get("new_secret"):
            self.add_error("new_secret", "A new credential needs its secret.")
        tenant = cleaned.get("tenant") if self.instance.pk is None else self.instance.tenant
        owner = cleaned.get("owner")
        if owner is not None and tenant is not None:
            member = Membership.objects.filter(user=owner, tenant=tenant, is_active=True)
            if not member.exists():
                self.add_error("owner", f"{owner} is not an active member of {tenant}.")
        return cleaned
