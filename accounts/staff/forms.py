"""Forms for inviting staff, changing a role, and setting a password from an invitation."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation

from accounts.models import Role, User


class InviteForm(forms.Form):
    """An e-mail address (stored lower-case) and one of the roles."""

    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    role = forms.ChoiceField(
        choices=Role.choices,
        initial=Role.TECHNICIAN,
        help_text="Owners: everything, staff included. Admins: settings, vendors and all the work. "
        "Billing: reviews and approves drafts. Dispatchers: schedule jobs. Technicians: see and "
        "draft their work.",
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class RoleForm(forms.Form):
    """One of the roles, from the staff list's select."""

    role = forms.ChoiceField(choices=Role.choices)


class SetPasswordForm(forms.Form):
    """A new person's name and password (Django's password validators apply)."""

    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters; not a common password, not only digits, not like "
        "your name or e-mail address.",
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1:
            probe = User(
                email=self.email,
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(p1, probe)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned
