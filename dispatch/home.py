"""Home-page cards of dispatch (named in `accounts.home.CARDS`): today's jobs per technician,
a technician's own jobs today, and finished jobs nobody billed (with their hours).

"Today" is the local day of the request's zone (`accounts.localtime.local_day_bounds`): a job
at 23:30 in Los Angeles is today's there even though it is tomorrow in UTC.

A portal person is a Synchroteam technician when the mirror has a live Synchroteam user with
their e-mail address (case aside), else with their full name (`technician_for`): the two
systems share no user id.

Bounded queries: `jobs_today` two, `my_jobs_today` three, `unbilled_jobs` the worklist's
seven (`dispatch.reconciliation.worklist`), whatever the number of jobs.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Count, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.home import Bar, Card
from accounts.localtime import local_day_bounds
from billing.money import labor_rates
from billing.templatetags.billing_tags import money
from connectors.synchroteam.models import SynchroteamJob, SynchroteamUser
from dispatch.forms import WORKLIST_LABOR
from dispatch.reconciliation import worklist
from dispatch.selectors import DONE_STATUSES, synchroteam_connection

BARS_SHOWN = 6
ITEMS_SHOWN = 5


def technician_for(request: HttpRequest) -> SynchroteamUser | None:
    """The signed-in person's Synchroteam user in the company's mirror (see the module
    docstring), or None."""
    user = request.user
    name = user.get_full_name().strip()
    match = Q(email__iexact=user.email)
    if name:
        match |= Q(name__iexact=name)
    found = list(SynchroteamUser.objects.for_tenant(request.tenant).alive().filter(match)[:5])
    by_email = [u for u in found if (u.email or "").lower() == user.email.lower()]
    return (by_email or found or [None])[0]


def _today_jobs(request: HttpRequest):
    start, end = local_day_bounds()
    return (
        SynchroteamJob.objects.for_tenant(request.tenant)
        .alive()
        .filter(scheduled_start__gte=start, scheduled_start__lt=end)
    )


def _board_url(**params) -> str:
    query = {"view": "day", "date": timezone.localdate().isoformat(), **params}
    return f"{reverse('dispatch:board')}?{urlencode(query)}"


def jobs_today(request: HttpRequest) -> Card | None:
    """Jobs scheduled today (local day) with a bar per technician, how many are done and how
    many nobody is assigned to. None without a Synchroteam connection."""
    if synchroteam_connection(request.tenant) is None:
        return None
    per_tech = list(
        _today_jobs(request)
        .order_by()
        .values("technician_vendor_id", "technician_name")
        .annotate(n=Count("id"), done=Count("id", filter=Q(status__in=DONE_STATUSES)))
        .order_by("-n", "technician_name")
    )
    total = sum(t["n"] for t in per_tech)
    done = sum(t["done"] for t in per_tech)
    unassigned = sum(t["n"] for t in per_tech if t["technician_vendor_id"] is None)
    assigned = [t for t in per_tech if t["technician_vendor_id"] is not None]
    bars = [
        Bar(
            t["technician_name"] or f"Technician {t['technician_vendor_id']}",
            t["n"],
            f"{t['n']} job{'s' if t['n'] != 1 else ''}",
        )
        for t in assigned[:BARS_SHOWN]
    ]
    reason = "No job is scheduled today."
    if total:
        reason = f"{len(assigned)} technician{'s' if len(assigned) != 1 else ''}, {done} done"
        reason += f", {unassigned} unassigned." if unassigned else "."
    return Card(
        key="jobs_today",
        title="Today's jobs",
        count=total,
        reason=reason,
        url=_board_url(),
        attention=bool(unassigned),
        bars=bars,
    )


def my_jobs_today(request: HttpRequest) -> Card | None:
    """The signed-in technician's jobs today (local day), by start time, with a link to each.
    None without a Synchroteam connection; a card saying why when no Synchroteam user is the
    person's (`technician_for`)."""
    if synchroteam_connection(request.tenant) is None:
        return None
    tech = technician_for(request)
    if tech is None:
        return Card(
            key="my_jobs_today",
            title="Your jobs today",
            count=0,
            reason=f"No Synchroteam technician has your e-mail address ({request.user.email}) "
            "or your name, so your jobs cannot be picked out.",
            url=_board_url(),
        )
    jobs = list(
        _today_jobs(request).filter(technician_vendor_id=tech.vendor_id).order_by("scheduled_start")
    )
    done = sum(1 for j in jobs if j.status in DONE_STATUSES)
    items = [
        (
            f"{timezone.localtime(j.scheduled_start):%H:%M} · {j.customer_name or 'No customer'}"
            f" · {j.type_name or 'Job'} ({j.status})",
            reverse("dispatch:job_detail", args=[j.vendor_id]),
        )
        for j in jobs[:ITEMS_SHOWN]
    ]
    reason = f"{done} of {len(jobs)} done." if jobs else "Nothing scheduled for you today."
    return Card(
        key="my_jobs_today",
        title="Your jobs today",
        count=len(jobs),
        reason=reason,
        url=_board_url(technician=tech.vendor_id),
        items=items,
    )


def unbilled_jobs(request: HttpRequest) -> Card | None:
    """Completed or validated jobs with no invoice and no billed line item (the reconciliation
    worklist's rule), their hours and amount at the onsite rate, and a bar of hours per
    technician. None without a Synchroteam connection."""
    tenant = request.tenant
    if synchroteam_connection(tenant) is None:
        return None
    work = worklist(tenant=tenant, filters={}, rate=labor_rates(tenant)[WORKLIST_LABOR])
    count = len(work.rows)
    bars = [
        Bar(t.name, t.hours, f"{t.hours:.2f} h") for t in work.by_technician[:BARS_SHOWN] if t.hours
    ]
    figure = f"{work.hours:.2f} h · {money(work.amount, tenant.currency)}" if count else ""
    reason = (
        f"Finished in Synchroteam with no invoice or billed line item; priced at the "
        f"{work.rate.label.lower()} rate."
        if count
        else "Every finished job is billed or drafted."
    )
    return Card(
        key="unbilled_jobs",
        title="Completed jobs not billed",
        count=count,
        reason=reason,
        url=reverse("dispatch:unbilled"),
        figure=figure,
        attention=bool(count),
        bars=bars,
    )
