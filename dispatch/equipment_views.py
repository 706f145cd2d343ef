"""Equipment history and a job's report and photos (fetched on demand), for every member.

* ``/equipment/``: the mirrored equipment, searchable by name or serial (myId).
* ``/equipment/<id>/``: its site and customer, the jobs done on it, the parts used, and the
  latest completed job's report (lazy-loaded: the fragment below).
* ``/jobs/<id>/attachments/`` (GET; ``?kinds=report`` or ``photos``, default both): the job's
  report and photo list from `connectors.synchroteam.attachments.job_attachment`: the cached
  copy while it is fresh, else one request each through the shared budget. HTMX gets the
  fragment, a plain GET a page. POST ``…/attachments/refresh/`` fetches again now.

Jobs and equipment are addressed by their Synchroteam id within the active tenant (404 for
anything else); a vendor failure is a sentence on the page, never a 500.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from accounts.access import get_for_tenant_or_404, tenant_member_required
from accounts.inputs import query_problems
from accounts.paging import CappedPaginator
from connectors.synchroteam.attachments import Kind, job_attachment
from connectors.synchroteam.models import SynchroteamEquipment, SynchroteamJob
from dispatch import equipment as history
from dispatch.forms import EquipmentSearchForm

PAGE_SIZE = 50


def _job(request: HttpRequest, job_id: int) -> SynchroteamJob:
    return get_for_tenant_or_404(
        request, SynchroteamJob.objects.filter(is_deleted=False), vendor_id=job_id
    )


@tenant_member_required()
def equipment_list(request: HttpRequest) -> HttpResponse:
    """Equipment by name; ``?q=`` searches name and serial (`EquipmentSearchForm`: a value
    that does not parse is named on the page, kept in the box, and not applied). Paged by
    `CappedPaginator` (no unbounded ``COUNT(*)``)."""
    form = EquipmentSearchForm(request.GET)
    form.is_valid()
    problems = query_problems(form)
    q = form.cleaned_data.get("q") or ""
    qs = history.equipment_filtered(tenant=request.tenant, q=q)
    context = {
        "page": CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page")),
        "q": q,
        "typed": str(request.GET.get("q", ""))[:100].replace("\x00", ""),
        "problems": problems,
    }
    return render(request, "dispatch/equipment_list.html", context)


@tenant_member_required()
def equipment_detail(request: HttpRequest, equipment_id: int) -> HttpResponse:
    """One equipment's history."""
    equipment = get_for_tenant_or_404(
        request, SynchroteamEquipment.objects.filter(is_deleted=False), vendor_id=equipment_id
    )
    return render(
        request, "dispatch/equipment_detail.html", {"h": history.equipment_history(equipment)}
    )


def _kinds(request: HttpRequest) -> list[str]:
    wanted = request.GET.get("kinds", "")
    return [k for k in Kind.values if k == wanted] or list(Kind.values)


def _attachments(request: HttpRequest, job: SynchroteamJob, *, refresh: bool) -> HttpResponse:
    kinds = _kinds(request)
    found = {k: job_attachment(job, k, user=request.user, refresh=refresh) for k in kinds}
    context = {
        "job": job,
        "report": found.get(Kind.REPORT),
        "photos": found.get(Kind.PHOTOS),
        "kinds": "" if len(kinds) > 1 else kinds[0],
        "ttl_minutes": max(1, settings.SYNCHROTEAM_JOB_REPORT_TTL_SECONDS // 60),
    }
    template = "dispatch/_job_attachments.html" if request.htmx else "dispatch/job_attachments.html"
    return render(request, template, context)


@tenant_member_required()
def job_attachments(request: HttpRequest, job_id: int) -> HttpResponse:
    """The job's report and photos (cached while fresh)."""
    return _attachments(request, _job(request, job_id), refresh=False)


@require_POST
@tenant_member_required()
def job_attachments_refresh(request: HttpRequest, job_id: int) -> HttpResponse:
    """Fetch the job's report and photos again now."""
    return _attachments(request, _job(request, job_id), refresh=True)
