"""Forms and query-string readers of the dispatch pages. Choices come from the tenant's mirror.

Nothing is preselected where the person must choose (seed /syncro "Never assume a default"): the
ticket and the labor type of a draft made from a job start empty and are required.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from accounts.inputs import BoundedDateField, VendorIdField, query_problems
from accounts.localtime import LocalDateTimeField
from accounts.models import Tenant
from billing.forms import EMPTY
from billing.models import LaborKind, LaborType
from connectors.synchroteam.models import SynchroteamCustomer, SynchroteamJob, SynchroteamSite
from connectors.synchroteam.vocab import JOB_STATUSES
from connectors.syncro.models import SyncroTicket
from dispatch.reconciliation import (
    syncro_customer_for,
    worklist_has_customer,
    worklist_technicians,
)
from dispatch.selectors import job_types, technicians

_DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
#: The longest search text the job list reads (longer is refused, never searched).
SEARCH_MAX = 100


class JobFilterForm(forms.Form):
    """The job list's filters (all optional); ``cleaned_data`` is what
    `selectors.jobs_filtered` takes as ``filters``."""

    q = forms.CharField(required=False, label="Search", max_length=SEARCH_MAX)
    status = forms.ChoiceField(required=False)
    technician = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    customer_q = forms.CharField(
        required=False,
        label="Customer",
        max_length=SEARCH_MAX,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Type a name", "autocomplete": "off"}
        ),
    )
    customer = VendorIdField(required=False, widget=forms.HiddenInput)
    site = VendorIdField(required=False, widget=forms.HiddenInput)
    start = BoundedDateField(required=False, label="From")
    end = BoundedDateField(required=False, label="To")

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "Any status")] + [
            (s, s.capitalize()) for s in JOB_STATUSES
        ]
        self.fields["technician"].choices = [("", "Any technician")] + [
            (u.vendor_id, u.name) for u in technicians(tenant).only("vendor_id", "name")
        ]
        # the customer is searched (`CustomerSearchForm`, about 20 names), never a <select> of
        # every customer; its id rides in the hidden ``customer`` field
        self.fields["customer_q"].widget.attrs.update(
            {
                "hx-get": reverse("dispatch:customer_search"),
                "hx-trigger": "input changed delay:300ms, search",
                "hx-target": "#customer-options",
                "hx-include": "closest form",
                "hx-push-url": "false",
            }
        )

    @property
    def filters(self) -> dict:
        """The filters that parsed, for `selectors.jobs_filtered` (one that did not is left out
        and named by `accounts.inputs.query_problems`)."""
        self.is_valid()
        return {
            k: v
            for k, v in self.cleaned_data.items()
            if k != "customer_q" and k not in self.errors and v not in (None, "")
        }


class CustomerSearchForm(forms.Form):
    """The job list's customer search (``?customer_q=``): at most `SEARCH_MAX` characters."""

    customer_q = forms.CharField(
        required=False,
        max_length=SEARCH_MAX,
        error_messages={"max_length": f"Type at most {SEARCH_MAX} characters."},
    )


class EquipmentSearchForm(forms.Form):
    """The equipment list's search (``?q=``, name or serial): at most 100 characters; a NUL
    character (which PostgreSQL text cannot hold) is refused by Django's CharField validator
    and named on the page by `accounts.inputs.query_problems`."""

    q = forms.CharField(
        label="Name or serial",
        required=False,
        max_length=100,
        error_messages={"max_length": "Type at most 100 characters."},
    )


class JobCreateForm(forms.Form):
    """A new job: customer, site, type and description, and optionally a technician and window.
    ``customer`` / ``site`` / ``technician`` are Synchroteam ids of the tenant's mirror; the
    window is typed in local time (the request's zone) and cleaned to aware datetimes."""

    customer = forms.TypedChoiceField(coerce=int)
    site = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    job_type = forms.ChoiceField(label="Job type")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    technician = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    start = LocalDateTimeField(
        required=False,
        label="Window start",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    end = LocalDateTimeField(
        required=False,
        label="Window end",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].choices = [("", "Pick a customer")] + list(
            SynchroteamCustomer.objects.for_tenant(tenant).alive().values_list("vendor_id", "name")
        )
        self.fields["site"].choices = [("", "No site (the customer's address)")] + [
            (s.vendor_id, f"{s.name} — {s.address}" if s.address else s.name)
            for s in SynchroteamSite.objects.for_tenant(tenant).alive()
        ]
        self.fields["site"].help_text = "Sites of other customers are refused."
        self.fields["job_type"].choices = [(t, t) for t in job_types(tenant)]
        self.fields["technician"].choices = [("", "Leave unscheduled")] + [
            (u.vendor_id, u.name) for u in technicians(tenant)
        ]


class JobScheduleForm(forms.Form):
    """A (re)schedule of an existing job: a technician (Synchroteam id) and a window."""

    technician = forms.TypedChoiceField(coerce=int)
    start = LocalDateTimeField(
        label="Window start", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    end = LocalDateTimeField(
        label="Window end", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["technician"].choices = [(u.vendor_id, u.name) for u in technicians(tenant)]


def schedule_initial(job: SynchroteamJob) -> dict:
    """`JobScheduleForm` initial values from the job's current technician and window (local
    time, ``datetime-local`` format)."""
    initial: dict = {}
    if job.technician_vendor_id:
        initial["technician"] = job.technician_vendor_id
    if job.scheduled_start:
        initial["start"] = timezone.localtime(job.scheduled_start).strftime(_DATETIME_LOCAL)
    if job.scheduled_end:
        initial["end"] = timezone.localtime(job.scheduled_end).strftime(_DATETIME_LOCAL)
    return initial


#: The labor type the worklist prices jobs at until the person picks another (field work is
#: onsite work). Only the estimate on the page: a draft's labor type is always asked for.
WORKLIST_LABOR = LaborKind.ONSITE
_NOT_A_DATE = "Not a date; use YYYY-MM-DD."


class WorklistFilterForm(forms.Form):
    """The reconciliation worklist's query string (all optional): ``technician`` / ``customer``
    (Synchroteam ids among the tenant's finished jobs), ``start`` / ``end`` (ISO dates,
    inclusive) and ``labor`` (the `LaborKind` whose rate prices the rows; `WORKLIST_LABOR` when
    absent). Always bound: a value that does not parse is an error on its field, named by
    `problems`, and only that filter is dropped."""

    technician = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": "No technician of this company's jobs has that id."},
    )
    customer_q = forms.CharField(
        required=False,
        label="Customer",
        max_length=SEARCH_MAX,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Type a name", "autocomplete": "off"}
        ),
    )
    customer = VendorIdField(required=False, widget=forms.HiddenInput)
    start = BoundedDateField(
        required=False, label="Done from", error_messages={"invalid": _NOT_A_DATE}
    )
    end = BoundedDateField(required=False, label="Done to", error_messages={"invalid": _NOT_A_DATE})
    labor = forms.ChoiceField(
        required=False,
        label="Priced as",
        choices=LaborKind.choices,
        error_messages={"invalid_choice": "Not a labor type."},
    )

    def __init__(self, data: Mapping[str, str], *, tenant: Tenant):
        data = data.copy()
        if not data.get("labor"):
            data["labor"] = WORKLIST_LABOR
        super().__init__(data)
        self.tenant = tenant
        self.fields["technician"].choices = [("", "Any technician")] + worklist_technicians(tenant)
        # searched (about 20 names, `customer_search` with ``target=unbilled``), never a
        # <select> of every customer of the finished jobs (5 000 options took 1.7 s to render)
        self.fields["customer_q"].widget.attrs.update(
            {
                "hx-get": reverse("dispatch:customer_search") + "?target=unbilled",
                "hx-trigger": "input changed delay:300ms, search",
                "hx-target": "#customer-options",
                "hx-include": "closest form",
                "hx-push-url": "false",
            }
        )

    def clean_customer(self) -> int | None:
        """A customer of this company's finished jobs (one EXISTS query), else an error."""
        customer = self.cleaned_data.get("customer")
        if customer is not None and not worklist_has_customer(self.tenant, customer):
            raise forms.ValidationError("No customer of this company's jobs has that id.")
        return customer

    def clean(self) -> dict:
        """Refuse a range that ends before it starts (the end is dropped)."""
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The end of the range is before its start.")
        return data

    @property
    def filters(self) -> dict:
        """The filters that parsed (`reconciliation.worklist`'s ``filters``)."""
        self.is_valid()
        return {
            k: v for k, v in self.cleaned_data.items() if k not in ("labor", "customer_q") and v
        }

    @property
    def price_kind(self) -> str:
        """The `LaborKind` the rows are priced at (`WORKLIST_LABOR` when the value is unknown)."""
        self.is_valid()
        return self.cleaned_data.get("labor") or WORKLIST_LABOR

    def problems(self) -> list[str]:
        """One sentence per filter that did not parse, quoting what was given."""
        out = []
        for name, errors in self.errors.items():
            label = self.fields[name].label or name.capitalize()
            given = (self.data.get(name) or "")[:40]
            out.append(f"{label} “{given}”: {' '.join(errors)} This filter is not applied.")
        return out


class DraftBillingForm(forms.Form):
    """A billing draft from a finished job: the Syncro ticket (id; the job's customer's tickets
    first, then the latest of other customers, 30 of each) and a labor type the tenant has
    mapped to a Syncro product. ``confirm_customer`` is the ticket id the person confirmed a
    customer mismatch for (a ticked checkbox; it counts only for that ticket)."""

    ticket = forms.TypedChoiceField(coerce=int, label="Syncro ticket")
    labor_type = forms.ChoiceField()
    confirm_customer = forms.CharField(required=False)

    def __init__(self, *args, tenant: Tenant, job: SynchroteamJob, **kwargs):
        super().__init__(*args, **kwargs)
        tickets = SyncroTicket.objects.for_tenant(tenant).alive().order_by("-vendor_updated_at")
        customer = syncro_customer_for(tenant=tenant, name=job.customer_name)
        name = (job.customer_name or "").split(" ")[0]
        if customer is not None:
            own = tickets.filter(customer_vendor_id=customer.vendor_id)
        else:
            own = tickets.filter(customer_name__icontains=name) if name else tickets.none()
        own_rows = list(own[:30])
        others = list(tickets.exclude(pk__in=[t.pk for t in own_rows])[:30])
        label = customer.name if customer else f"customers named like “{name}”"
        groups = [
            (f"Tickets of {label}", [_ticket_choice(t) for t in own_rows]),
            ("Other customers' tickets (confirmation needed)", [_ticket_choice(t) for t in others]),
        ]
        # Nothing is preselected: the ticket and the labor type are the person's choice (seed
        # /syncro: "Always ask … labor type. Never assume a default").
        self.fields["ticket"].choices = EMPTY + [g for g in groups if g[1]]
        self.fields["ticket"].help_text = (
            "Tickets of the same customer first. No ticket yet? Create one (link below), "
            "then come back."
        )
        mapped = {
            lt.kind: lt.product_name
            for lt in LaborType.objects.filter(tenant=tenant, product_vendor_id__isnull=False)
        }
        self.fields["labor_type"].choices = EMPTY + [
            (kind, f"{label} ({mapped[kind]})")
            for kind, label in LaborKind.choices
            if kind in mapped
        ]

    @property
    def mismatch_confirmed(self) -> bool:
        """Whether the ticked confirmation is for the chosen ticket (valid forms only)."""
        return str(self.cleaned_data.get("ticket")) == (
            self.cleaned_data.get("confirm_customer") or ""
        )


def _ticket_choice(ticket: SyncroTicket) -> tuple[int, str]:
    return ticket.vendor_id, f"#{ticket.number} {ticket.subject[:60]} · {ticket.customer_name}"


# --- query strings -------------------------------------------------------------------------------


def worklist_url(query: str) -> str:
    """The worklist with the filters of `query` (only the worklist's own keys are kept)."""
    given = QueryDict(query or "")
    kept = {
        k: given[k] for k in ("technician", "customer", "start", "end", "labor") if given.get(k)
    }
    return (
        f"{reverse('dispatch:unbilled')}?{urlencode(kept)}"
        if kept
        else reverse("dispatch:unbilled")
    )


def monday_of(day: dt.date) -> dt.date:
    """The Monday of the week holding `day`."""
    return day - dt.timedelta(days=day.weekday())


class WeekQueryForm(forms.Form):
    """The timesheet's query string: ``week`` (any day of the week, `BoundedDateField`)."""

    week = BoundedDateField(required=False, label="Week")


def week_query(params: Mapping[str, str]) -> tuple[dt.date, list[str]]:
    """``(Monday, problems)``: the Monday of the week holding ``week=YYYY-MM-DD`` (this week when
    absent or refused) and one sentence per refused value (`accounts.inputs.query_problems`)."""
    form = WeekQueryForm(params)
    day = form.cleaned_data.get("week") if form.is_valid() else None
    return monday_of(day or timezone.localdate()), query_problems(form)


@dataclass(frozen=True)
class DaySpan:
    """`days` consecutive days from `start` (a day or a week view), with its neighbours."""

    start: dt.date
    days: int

    @property
    def dates(self) -> list[dt.date]:
        """Every day of the span, in order."""
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    @property
    def prev(self) -> dt.date:
        """The first day of the span before this one."""
        return self.start - dt.timedelta(days=self.days)

    @property
    def next(self) -> dt.date:
        """The first day of the span after this one."""
        return self.start + dt.timedelta(days=self.days)


@dataclass(frozen=True)
class BoardQuery:
    """The technician board's query string: ``view`` (``day`` or ``week``), the days shown, the
    technician filter (Synchroteam id, None for all) and one sentence per refused value."""

    view: str
    span: DaySpan
    technician: int | None
    problems: list[str]


class BoardQueryForm(forms.Form):
    """``view=day|week``, ``date=YYYY-MM-DD`` (`BoundedDateField`), ``technician=<id>``."""

    view = forms.ChoiceField(required=False, choices=[("week", "Week"), ("day", "Day")])
    date = BoundedDateField(required=False, label="Date")
    technician = VendorIdField(required=False, label="Technician")


def board_query(params: Mapping[str, str]) -> BoardQuery:
    """Read ``view=day|week`` (default week), ``date=YYYY-MM-DD`` (default today; a week starts on
    its Monday) and ``technician=<id>``; a refused value falls back to its default and is named
    in ``problems``."""
    form = BoardQueryForm(params)
    form.is_valid()
    data = form.cleaned_data
    day = data.get("date") or timezone.localdate()
    span = DaySpan(day, 1) if data.get("view") == "day" else DaySpan(monday_of(day), 7)
    return BoardQuery(
        view="day" if span.days == 1 else "week",
        span=span,
        technician=data.get("technician"),
        problems=query_problems(form),
    )
