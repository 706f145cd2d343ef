"""Bounded input fields shared by every app's forms (issue 13: no input makes a 500).

Python's `datetime.date` runs from 0001-01-01 to 9999-12-31, so a page that adds a day or a week
to a typed date (the day after a range's end, next week's Monday) overflows at the ends of the
calendar. Rather than catching `OverflowError` in each place, every date a person types or puts
in a query string is read by `BoundedDateField`, which accepts `MIN_DATE` .. `MAX_DATE` only and
says so in words; arithmetic on an accepted date stays far from the calendar's ends.

* `BoundedDateField`: a `forms.DateField` limited to `MIN_DATE` .. `MAX_DATE` (inclusive).
* `VendorIdField`: a positive integer id that fits a signed 64-bit column (`MAX_ID`), so a huge
  id in a query string is a form error, not a database overflow.
* `query_problems(form)`: one sentence per field of a query-string form that did not parse,
  quoting what was given (for the page's warning, or the body of a 400 for HTMX).
* `htmx_refusal(request, problems)`: that 400 for an HTMX request, else None.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import HttpResponse, HttpResponseBadRequest

#: The dates any form accepts (inclusive): enough for every record and plan an office has.
MIN_DATE = dt.date(2000, 1, 1)
MAX_DATE = dt.date(2100, 12, 31)
#: The largest id a signed 64-bit column holds (PostgreSQL ``bigint``, SQLite ``INTEGER``).
MAX_ID = 2**63 - 1

DATE_RANGE_MESSAGE = (
    f"Pick a date between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()} (YYYY-MM-DD)."
)


class BoundedDateField(forms.DateField):
    """A `forms.DateField` that accepts `MIN_DATE` .. `MAX_DATE` only.

    A date outside is a form error (`DATE_RANGE_MESSAGE`); a value that is not a date keeps
    Django's "Enter a valid date." (or the field's own ``invalid`` message). The browser's date
    picker gets the same ``min`` / ``max``.
    """

    default_error_messages = {"invalid": "Not a date; use YYYY-MM-DD."}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}))
        super().__init__(**kwargs)
        self.validators += [
            MinValueValidator(MIN_DATE, message=DATE_RANGE_MESSAGE),
            MaxValueValidator(MAX_DATE, message=DATE_RANGE_MESSAGE),
        ]
        self.widget.attrs.setdefault("min", MIN_DATE.isoformat())
        self.widget.attrs.setdefault("max", MAX_DATE.isoformat())


class VendorIdField(forms.IntegerField):
    """A vendor id (1 .. `MAX_ID`); anything else is "Not an id."."""

    default_error_messages = {
        "invalid": "Not an id.",
        "min_value": "Not an id.",
        "max_value": "Not an id.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


def query_problems(form: forms.Form) -> list[str]:
    """One sentence per field of a (bound) query-string form that did not parse: the field's
    label, what was given (first 40 characters) and the error, "This filter is not applied."
    for the form's own fallback. Form-wide errors come last, as they are."""
    out = []
    for name, errors in form.errors.items():
        if name == forms.forms.NON_FIELD_ERRORS:
            continue
        field = form.fields.get(name)
        label = (field.label if field and field.label else name.replace("_", " ")).capitalize()
        given = str(form.data.get(name) or "")[:40]
        out.append(f"{label} “{given}”: {' '.join(errors)} This value is not applied.")
    return out + list(form.non_field_errors())


def htmx_refusal(request, problems: list[str]) -> HttpResponse | None:
    """For an HTMX request with refused query values, a 400 (plain text) naming them, so the
    fragment is not swapped for a guess; None otherwise (the page shows `problems` instead)."""
    if problems and getattr(request, "htmx", False):
        return HttpResponseBadRequest(" ".join(problems), content_type="text/plain; charset=utf-8")
    return None
