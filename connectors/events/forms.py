"""The endpoint form of the outbound webhooks page (URL checked by `urlcheck.check_url`)."""

from __future__ import annotations

from django import forms

from connectors.events.registry import EVENT_TYPES, choices
from connectors.events.urlcheck import RefusedURL, check_url


class EndpointForm(forms.Form):
    """URL, description, event types and (when editing) whether it receives events."""

    url = forms.CharField(
        label="Receiver URL",
        max_length=500,
        help_text="https:// address of your receiver; private and loopback hosts are refused.",
        widget=forms.URLInput(attrs={"placeholder": "https://bi.example.com/fieldline"}),
    )
    description = forms.CharField(label="Description", max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label="Events",
        choices=choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one event."},
    )
    is_active = forms.BooleanField(label="Active (receives events)", required=False, initial=True)

    def clean_url(self) -> str:
        try:
            return check_url(self.cleaned_data["url"])
        except RefusedURL as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_event_types(self) -> list[str]:
        picked = set(self.cleaned_data["event_types"])
        return [name for name in EVENT_TYPES if name in picked]


class DeliveryFilterForm(forms.Form):
    """The deliveries list's query string: ``?state=`` (a `WebhookDelivery.State`) and
    ``?endpoint=`` (an endpoint's uuid; checked against the company by the view). A value that
    does not parse is named by `accounts.inputs.query_problems` and not applied."""

    state = forms.ChoiceField(label="State", required=False)
    endpoint = forms.UUIDField(label="Endpoint", required=False)

    def __init__(self, *args, **kwargs):
        from connectors.events.models import WebhookDelivery

        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", "All"), *WebhookDelivery.State.choices]
