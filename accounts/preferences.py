"""A member's own settings in this company: their time zone ("use the company's" by default)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts import access
from accounts.localtime import time_zone_choices
from accounts.models import Membership


class MyTimeZoneForm(forms.ModelForm):
    """``time_zone``: an IANA name, or "" for the company's zone (`Membership.time_zone`)."""

    time_zone = forms.ChoiceField(required=False, label="Your time zone")

    class Meta:
        model = Membership
        fields = ["time_zone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        company = self.instance.tenant.time_zone
        self.fields["time_zone"].choices = [
            ("", f"Use the company's ({company.replace('_', ' ')})")
        ] + time_zone_choices()
        self.fields[
            "time_zone"
        ].help_text = "Pages show times in this zone and forms read the times you type in it."


@access.tenant_member_required()
def my_time_zone(request: HttpRequest) -> HttpResponse:
    """GET: the person's time zone in the active company. POST: save it (a zone not in the
    list keeps the page with the error and what was chosen)."""
    form = MyTimeZoneForm(request.POST or None, instance=request.membership)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your time zone is saved.")
        return redirect("my_time_zone")
    return render(request, "accounts/my_time_zone.html", {"form": form})
