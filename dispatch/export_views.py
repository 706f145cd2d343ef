"""The CSV exports page and the streamed downloads (`dispatch.exports`), for owners, admins,
dispatchers and billing (technicians see their own jobs on the pages, not company-wide
tables). ``?start=`` / ``?end=`` (YYYY-MM-DD, optional) limit the rows; a refused date
re-shows the page with what was typed and a 400, it never downloads a guess."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.access import tenant_member_required
from accounts.downloads import as_download
from accounts.inputs import BoundedDateField
from accounts.models import APPROVER_ROLES, DISPATCH_ROLES
from dispatch.exports import EXPORTS, stream_csv

EXPORT_ROLES = tuple(sorted(set(DISPATCH_ROLES) | set(APPROVER_ROLES)))


class ExportRangeForm(forms.Form):
    start = BoundedDateField(label="From", required=False)
    end = BoundedDateField(label="To", required=False)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("“From” is after “To”.")
        return data


def _page(request: HttpRequest, form: ExportRangeForm, status: int = 200) -> HttpResponse:
    context = {"exports": EXPORTS.values(), "form": form, "query": request.GET.urlencode()}
    return render(request, "dispatch/exports.html", context, status=status)


@tenant_member_required(EXPORT_ROLES)
def export_list(request: HttpRequest) -> HttpResponse:
    """Every registered export with the date range form."""
    form = ExportRangeForm(request.GET or None)
    if request.GET and not form.is_valid():
        return _page(request, form, status=400)
    return _page(request, form)


@tenant_member_required(EXPORT_ROLES)
def export_download(request: HttpRequest, name: str) -> HttpResponse:
    """``<name>.csv`` streamed for the active tenant."""
    export = EXPORTS.get(name)
    if export is None:
        raise Http404("No such export.")
    form = ExportRangeForm(request.GET)
    if not form.is_valid():
        return _page(request, form, status=400)
    start, end = form.cleaned_data.get("start"), form.cleaned_data.get("end")
    response = StreamingHttpResponse(
        stream_csv(export, request.tenant, start, end), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localdate().isoformat()
    return as_download(response, f"{request.tenant.slug}-{name}-{stamp}.csv")
