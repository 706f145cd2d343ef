"""Forms of the billing pages. Choices come from the tenant's mirror and account lists.

Nothing is defaulted silently (seed /syncro "Never assume a default"): minutes, labor type, a
comment's visibility, and every field of a new ticket start empty and are required.
"""

from __future__ import annotations

from django import forms

from accounts.inputs import BoundedDateField
from accounts.models import Tenant
from accounts.widgets import FastSelect
from billing import lists
from billing.models import BillingDraft, LaborKind
from billing.selectors import TicketFilters, customer_choices
from connectors.syncro.models import SyncroProduct

EMPTY = [("", "— choose —")]

#: how a comment is shown: (hidden, do_not_email)
VISIBILITY = {
    "public_email": (False, False),
    "public_quiet": (False, True),
    "internal": (True, True),
}
VISIBILITY_CHOICES = [
    ("", "— choose —"),
    ("public_email", "Public, e-mail the customer"),
    ("public_quiet", "Public, do not e-mail"),
    ("internal", "Internal note (hidden from the customer)"),
]


def visibility_of(hidden: bool, do_not_email: bool) -> str:
    for key, value in VISIBILITY.items():
        if value == (hidden, do_not_email):
            return key
    return "internal" if hidden else "public_quiet"


class TicketFilterForm(forms.Form):
    """The ticket list's GET filters (every field optional)."""

    q = forms.CharField(required=False, label="Search", max_length=200)
    status = forms.ChoiceField(required=False)
    customer = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, widget=FastSelect
    )
    technician = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, widget=FastSelect
    )
    created_from = BoundedDateField(required=False, label="Created from")
    created_to = BoundedDateField(required=False, label="to")
    unbilled = forms.BooleanField(required=False, label="Has unbilled time")
    idle_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        label="Unchanged for over (days)",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"placeholder": "#number, subject or customer", "type": "search"}
        )
        self.fields["status"].choices = [
            ("", "Any status"),
            (lists.NOT_CLOSED, lists.NOT_CLOSED),
        ] + [(s, s) for s in lists.ticket_statuses(tenant)]
        self.fields["customer"].choices = [("", "Any customer")] + customer_choices(tenant)
        techs = lists.technicians(tenant)
        self.fields["technician"].choices = [("", "Anyone")] + sorted(
            techs.items(), key=lambda kv: kv[1]
        )

    def filters(self) -> TicketFilters:
        """The valid filters (invalid fields are ignored, the form shows their errors)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if self.is_bound and not self.is_valid():
            data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        return TicketFilters(
            q=data.get("q") or "",
            status=data.get("status") or "",
            customer=data.get("customer"),
            technician=data.get("technician"),
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
            unbilled=bool(data.get("unbilled")),
            idle_days=data.get("idle_days"),
        )


class CommentForm(forms.Form):
    """``POST /tickets/{id}/comment``: subject, body, and whether the customer sees it."""

    subject = forms.CharField(max_length=200, help_text="The comment header, e.g. Update.")
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))
    visibility = forms.ChoiceField(
        choices=VISIBILITY_CHOICES,
        help_text="Sent as <code>hidden</code> and <code>do_not_email</code>.",
    )

    def flags(self) -> tuple[bool, bool]:
        return VISIBILITY[self.cleaned_data["visibility"]]


class TicketUpdateForm(forms.Form):
    """``PUT /tickets/{id}``: status, priority, assignee (only changed fields are sent)."""

    status = forms.ChoiceField()
    priority = forms.ChoiceField()
    user_id = forms.TypedChoiceField(label="Technician", coerce=int)

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(s, s) for s in lists.ticket_statuses(tenant)]
        self.fields["priority"].choices = [(p, p) for p in lists.priorities(tenant)]
        self.fields["user_id"].choices = sorted(
            lists.technicians(tenant).items(), key=lambda kv: kv[1]
        )


class TicketCreateForm(forms.Form):
    """``POST /tickets``: every field asked for, none defaulted."""

    customer = forms.TypedChoiceField(coerce=int, widget=FastSelect)
    subject = forms.CharField(max_length=500)
    problem_type = forms.CharField(max_length=120)
    status = forms.ChoiceField()
    priority = forms.ChoiceField()
    user_id = forms.TypedChoiceField(label="Technician", coerce=int)

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].choices = EMPTY + customer_choices(tenant)
        self.fields["status"].choices = EMPTY + [(s, s) for s in lists.ticket_statuses(tenant)]
        self.fields["priority"].choices = EMPTY + [(p, p) for p in lists.priorities(tenant)]
        self.fields["user_id"].choices = EMPTY + sorted(
            lists.technicians(tenant).items(), key=lambda kv: kv[1]
        )
        self.fields["problem_type"].widget.attrs["list"] = "problem-types"


class TicketCloseForm(forms.Form):
    """Close: the resolution (posted as a "Resolution" comment) and the closing status."""

    status = forms.ChoiceField(
        help_text="The status the ticket is set to once the resolution is posted."
    )
    resolution = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Starts from the session log (public comments only): edit it to say what was "
        "resolved. What you preview is what is posted.",
    )
    visibility = forms.ChoiceField(choices=VISIBILITY_CHOICES)

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        statuses = lists.ticket_statuses(tenant)
        closing = [s for s in statuses if s in lists.CLOSED_STATUSES] or statuses
        self.fields["status"].choices = EMPTY + [(s, s) for s in closing]

    def flags(self) -> tuple[bool, bool]:
        return VISIBILITY[self.cleaned_data["visibility"]]


class DraftForm(forms.Form):
    """Bill time: minutes and labor type asked with no default, plus the comment and the
    invoice line's description."""

    minutes = forms.IntegerField(
        min_value=1, max_value=24 * 60, help_text="Billed as minutes ÷ 60 hours."
    )
    labor_type = forms.ChoiceField()
    comment_subject = forms.CharField(label="Comment subject", max_length=200)
    comment_body = forms.CharField(label="Comment", widget=forms.Textarea(attrs={"rows": 5}))
    visibility = forms.ChoiceField(label="Comment visibility", choices=VISIBILITY_CHOICES)
    line_description = forms.CharField(
        label="Line item description", max_length=500, help_text="Shown on the invoice line."
    )

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        from billing.money import labor_rates
        from billing.templatetags.billing_tags import money

        rates = {k: r for k, r in labor_rates(tenant).items() if r.product_vendor_id is not None}
        self.fields["labor_type"].choices = EMPTY + [
            (k, f"{label} ({_rate_label(rates[k], money)})")
            for k, label in LaborKind.choices
            if k in rates
        ]
        self.fields["minutes"].widget.attrs.update(
            {"placeholder": "e.g. 45", "inputmode": "numeric"}
        )

    @classmethod
    def initial_for(cls, draft: BillingDraft) -> dict:
        return {
            "minutes": draft.minutes,
            "labor_type": draft.labor_type,
            "comment_subject": draft.comment_subject,
            "comment_body": draft.comment_body,
            "visibility": visibility_of(draft.comment_hidden, draft.comment_do_not_email),
            "line_description": draft.line_description,
        }

    def values(self) -> dict:
        """Cleaned values in `BillingDraft.EDITABLE` names."""
        d = self.cleaned_data
        hidden, quiet = VISIBILITY[d["visibility"]]
        return {
            "minutes": d["minutes"],
            "labor_type": d["labor_type"],
            "comment_subject": d["comment_subject"],
            "comment_body": d["comment_body"],
            "comment_hidden": hidden,
            "comment_do_not_email": quiet,
            "line_description": d["line_description"],
        }


def _rate_label(rate, money) -> str:
    if rate.per_hour is None:
        return f"{rate.product_name}, no price in Syncro"
    return f"{rate.product_name}, {money(rate.per_hour, rate.currency)}/h"


#: django.core.signing salt of the draft form's one-time token
FORM_TOKEN_SALT = "fieldline.billing.draft-form"  # noqa: S105 (a salt, not a secret)


class FormTokenRefused(Exception):
    """The draft form's one-time token is missing, forged or made for another person/ticket."""


def draft_form_token(*, tenant: Tenant, user, ticket_id: int) -> str:
    """A signed one-time token for one "Bill time" form: (tenant, person, ticket, nonce).
    Saving the form twice with it makes one draft (`BillingDraft.form_nonce`)."""
    import secrets

    from django.core import signing

    payload = {"t": tenant.pk, "u": user.pk, "o": int(ticket_id), "n": secrets.token_hex(16)}
    return signing.dumps(payload, salt=FORM_TOKEN_SALT)


def draft_form_nonce(token: str, *, tenant: Tenant, user, ticket_id: int) -> str:
    """The nonce of a `draft_form_token` made for exactly this tenant, person and ticket.

    Raises:
        FormTokenRefused: with a sentence for the person.
    """
    from django.core import signing

    if not token or len(token) > 500:
        raise FormTokenRefused("This form has no save token. Nothing was saved; save again.")
    try:
        data = signing.loads(token, salt=FORM_TOKEN_SALT, max_age=7 * 24 * 3600)
    except (signing.BadSignature, ValueError, TypeError):
        raise FormTokenRefused(
            "This form was not made by the portal (or is older than a week). Nothing was "
            "saved; check the values and save again."
        ) from None
    if not isinstance(data, dict) or (data.get("t"), data.get("u"), data.get("o")) != (
        tenant.pk,
        user.pk,
        int(ticket_id),
    ):
        raise FormTokenRefused("This form was made for another person or ticket. Nothing saved.")
    return str(data.get("n") or "")


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="The drafter sees this."
    )


class QueueFilterForm(forms.Form):
    """The approval queue's filters (kept in the session so they persist between visits)."""

    AGES = [
        ("", "Any age"),
        ("1", "Older than 1 day"),
        ("3", "Older than 3 days"),
        ("7", "Older than a week"),
    ]

    status = forms.ChoiceField(required=False)
    technician = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Drafted by"
    )
    customer = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, widget=FastSelect
    )
    age = forms.ChoiceField(required=False, choices=AGES)

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            ("", "Open (pending or needing attention)"),
            ("all", "All"),
        ] + list(BillingDraft.Status.choices)
        people = (
            BillingDraft.objects.filter(tenant=tenant)
            .order_by()
            .values_list(
                "drafted_by_id",
                "drafted_by__first_name",
                "drafted_by__last_name",
                "drafted_by__email",
            )
            .distinct()
        )
        self.fields["technician"].choices = [("", "Anyone")] + sorted(
            ((pk, f"{first} {last}".strip() or email) for pk, first, last, email in people),
            key=lambda kv: kv[1],
        )
        customers = (
            BillingDraft.objects.filter(tenant=tenant, customer_vendor_id__isnull=False)
            .order_by()
            .values_list("customer_vendor_id", "customer_name")
            .distinct()
        )
        self.fields["customer"].choices = [("", "Any customer")] + sorted(
            set(customers), key=lambda kv: kv[1]
        )


class LaborTypeForm(forms.Form):
    """One select per labor kind, choices = the tenant's mirrored Syncro products."""

    def __init__(self, *args, tenant: Tenant, current: dict[str, int | None], **kwargs):
        super().__init__(*args, **kwargs)
        products = list(
            SyncroProduct.objects.filter(tenant=tenant, is_deleted=False, disabled=False)
            .order_by("name")
            .values_list("vendor_id", "name", "product_category")
        )
        choices = [("", "— not mapped —")] + [
            (vid, f"{name} · {cat} · #{vid}" if cat else f"{name} · #{vid}")
            for vid, name, cat in products
        ]
        for kind, label in LaborKind.choices:
            self.fields[kind] = forms.TypedChoiceField(
                label=label, choices=choices, coerce=int, empty_value=None, required=False
            )
            self.initial[kind] = current.get(kind)


class AuditRangeForm(forms.Form):
    """The audit page's range (``start`` / ``end``, inclusive local days, `BoundedDateField`)."""

    start = BoundedDateField(label="From")
    end = BoundedDateField(label="To")

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The start date is after the end date.")
        return data


class ResolveForm(forms.Form):
    ACTIONS = [
        ("mark_done", "It is there: mark done"),
        ("send_again", "Send again"),
        ("cancel", "Cancel"),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    remote_id = forms.CharField(required=False, max_length=64, label="Syncro id (if you found it)")
    note = forms.CharField(required=False, max_length=500)
