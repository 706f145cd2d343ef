"""Jobs board, job pages, reconciliation and timesheet: tenancy, roles, and the unbilled count."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.urls import reverse

from connectors.outbox.models import VendorWrite
from connectors.synchroteam.models import SynchroteamJob
from dispatch.reconciliation import unbilled_jobs
from dispatch.selectors import timesheet_week


def test_the_unbilled_list_matches_a_count_computed_from_the_sandbox(world, mirrored):
    sb = mirrored.sandbox.synchroteam
    done = sb.find("job", status="completed") + sb.find("job", status="validated")
    expected = {j["id"] for j in done if not sb.job_records(j["id"])["invoices"]}
    assert expected  # the data set has some
    ours = set(unbilled_jobs(tenant=world.tenant).values_list("vendor_id", flat=True))
    assert ours == expected
    page = world.client_for(world.tech).get(reverse("dispatch:unbilled"))
    assert page.status_code == 200
    assert f"<strong>{len(expected)}</strong>".encode() in page.content


def test_every_page_renders_for_a_technician(world, mirrored):
    client = world.client_for(world.tech)
    job = SynchroteamJob.objects.for_tenant(world.tenant).exclude(site_vendor_id=None).first()
    for url in (
        reverse("dispatch:job_list"),
        reverse("dispatch:job_list") + "?status=completed",
        reverse("dispatch:board"),
        reverse("dispatch:board") + "?view=day",
        reverse("dispatch:job_detail", args=[job.vendor_id]),
        reverse("dispatch:timesheet"),
        reverse("dispatch:calendars"),
    ):
        assert client.get(url).status_code == 200, url
    htmx = client.get(reverse("dispatch:job_list") + "?status=completed", HTTP_HX_REQUEST="true")
    assert b"<html" not in htmx.content and b"completed" in htmx.content


def test_job_detail_shows_custom_fields_with_the_account_labels(world, mirrored):
    job = next(
        j
        for j in SynchroteamJob.objects.for_tenant(world.tenant)
        if (j.raw or {}).get("customFieldValues")
    )
    label = job.raw["customFieldValues"][0]["label"]
    page = world.client_for(world.tech).get(reverse("dispatch:job_detail", args=[job.vendor_id]))
    assert label.encode() in page.content


def test_another_tenants_job_is_404(world, mirrored):
    job = SynchroteamJob.objects.for_tenant(world.tenant).first()
    outsider = world.client_for(world.outsider)
    assert outsider.get(reverse("dispatch:job_detail", args=[job.vendor_id])).status_code == 404
    assert outsider.get(reverse("dispatch:job_schedule", args=[job.vendor_id])).status_code in (
        403,
        404,
    )
    assert outsider.get(reverse("dispatch:draft_billing", args=[job.vendor_id])).status_code in (
        403,
        404,
    )


def test_technicians_view_but_cannot_create_or_schedule(world, mirrored):
    tech = world.client_for(world.tech)
    job = SynchroteamJob.objects.for_tenant(world.tenant).filter(status="created").first()
    assert tech.get(reverse("dispatch:job_new")).status_code == 403
    assert (
        tech.post(
            reverse("dispatch:job_schedule", args=[job.vendor_id]), {"action": "confirm"}
        ).status_code
        == 403
    )
    assert not VendorWrite.objects.exists()


def test_a_dispatcher_previews_then_confirms_a_new_job(world, mirrored):
    from connectors.synchroteam.models import SynchroteamCustomer, SynchroteamSite

    client = world.client_for(world.dispatcher)
    customer = SynchroteamCustomer.objects.for_tenant(world.tenant).first()
    site = (
        SynchroteamSite.objects.for_tenant(world.tenant)
        .filter(customer_vendor_id=customer.vendor_id)
        .first()
    )
    tech = (
        SynchroteamJob.objects.for_tenant(world.tenant).exclude(technician_vendor_id=None).first()
    )
    data = {
        "customer": customer.vendor_id,
        "site": site.vendor_id if site else "",
        "job_type": "HVAC Repair",
        "description": "Thermostat dead",
        "technician": tech.technician_vendor_id,
        "start": "2026-11-10T09:00",
        "end": "2026-11-10T11:00",
        "action": "preview",
    }
    preview = client.post(reverse("dispatch:job_new"), data)
    assert preview.status_code == 200
    assert b"job/schedule" in preview.content and b"2026-11-10 09:00:00" in preview.content
    assert not VendorWrite.objects.exists()
    token = preview.context["token"]
    for _ in range(2):  # a double-clicked Confirm makes one request
        confirm = client.post(
            reverse("dispatch:job_new"), {**data, "action": "confirm", "token": token}
        )
        assert confirm.status_code == 302
    assert VendorWrite.objects.filter(batch__kind="dispatch.job").count() == 2
    assert client.get(confirm["Location"]).status_code == 200
    from connectors.outbox import executor

    executor.run_until_settled()
    sent = [e.path for e in mirrored.sandbox.ledger.writes(vendor="synchroteam", method="POST")]
    assert sent == ["/job/send", "/job/schedule"]  # on the vendor's ledger: one of each


def test_the_timesheet_csv_has_daily_rows_and_weekly_overtime(world, mirrored):
    from connectors.synchroteam.models import SynchroteamActivity

    latest = (
        SynchroteamActivity.objects.for_tenant(world.tenant)
        .exclude(end=None)
        .order_by("-start")
        .first()
    )
    week = latest.start.date() - dt.timedelta(days=latest.start.weekday())
    world.tenant.overtime_hours_per_week = 1
    world.tenant.save()
    rows = timesheet_week(tenant=world.tenant, week_start=week)
    assert rows and any(r.overtime > 0 for r in rows)
    response = world.client_for(world.tech).get(
        reverse("dispatch:timesheet") + f"?week={week.isoformat()}&format=csv"
    )
    assert response["Content-Type"] == "text/csv"
    table = list(csv.reader(io.StringIO(response.content.decode())))
    assert table[0][:3] == ["technician_id", "technician", "date"]
    weekly = [r for r in table[1:] if r[2].startswith("week of")]
    assert len(weekly) == len(rows)
    assert sum(float(r[6]) for r in weekly) > 0


def test_draft_billing_offers_a_new_ticket_prefilled_from_the_job(world, mirrored):
    from urllib.parse import parse_qs, urlsplit

    job = (
        SynchroteamJob.objects.for_tenant(world.tenant)
        .filter(status__in=["completed", "validated"])
        .first()
    )
    page = world.client_for(world.billing).get(
        reverse("dispatch:draft_billing", args=[job.vendor_id])
    )
    assert page.status_code == 200
    url = page.context["create_ticket_url"]
    assert url.startswith(reverse("billing:ticket_create"))
    query = parse_qs(urlsplit(url).query)
    assert query["subject"] == [f"Job #{job.num} {job.type_name}".strip()]
    assert f'href="{url.replace("&", "&amp;")}"' in page.content.decode()
    form_page = world.client_for(world.billing).get(url)
    assert form_page.status_code == 200
    assert (
        f'value="Job #{job.num}' in form_page.content.decode()
    )  # prefilled, still to be confirmed


def test_draft_billing_asks_for_the_labor_type_and_the_ticket_with_no_default(world, mirrored):
    import re

    job = (
        SynchroteamJob.objects.for_tenant(world.tenant)
        .filter(status__in=["completed", "validated"])
        .first()
    )
    url = reverse("dispatch:draft_billing", args=[job.vendor_id])
    client = world.client_for(world.billing)
    html = client.get(url).content.decode()
    for name in ("ticket", "labor_type"):
        options = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
        assert re.match(r'\s*<option value=""', options), name  # "— choose —" comes first
        assert not re.search(r'<option value="[^"]+"[^>]*selected', options), (
            name
        )  # nothing real chosen
    response = client.post(url, {"ticket": "", "labor_type": ""})
    assert response.status_code == 200  # refused, nothing drafted
    assert response.content.decode().count("This field is required.") == 2


def test_a_board_slot_escapes_what_the_vendor_sent_and_reads_the_local_time(settings):
    import datetime as dt
    from types import SimpleNamespace

    from django.utils import timezone

    from dispatch.templatetags.board import board_slot

    job = SimpleNamespace(
        status="started",
        vendor_id=77,
        type_name='Fix "it"',
        customer_name="<script>alert(1)</script> & Co",
        num="10<23>",
        scheduled_start=dt.datetime(2026, 11, 3, 14, 5, tzinfo=dt.UTC),
    )
    with timezone.override("America/New_York"):
        html = str(board_slot(job, "/jobs/"))
    assert html == (
        '<a class="slot badge badge-progress" href="/jobs/77/" '
        'title="Fix &quot;it&quot; · &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co">'
        "09:05 #10&lt;23&gt;</a>"
    )
    job.scheduled_start = None
    assert str(board_slot(job, "/jobs/")).endswith("> #10&lt;23&gt;</a>")


def test_a_board_cell_is_its_slots_in_order_or_the_muted_dot():
    import datetime as dt

    from dispatch.selectors import BoardJob
    from dispatch.templatetags.board import EMPTY_CELL, board_cell, board_slot

    at = dt.datetime(2026, 11, 3, 14, 5, tzinfo=dt.UTC)
    jobs = [
        BoardJob(vid, f"J{vid}", "completed", "Repair", "Acme", 21, "Ana", at) for vid in (5, 3)
    ]
    assert str(board_cell([], "/jobs/")) == EMPTY_CELL
    html = str(board_cell(jobs, "/jobs/"))
    assert html == f"{board_slot(jobs[0], '/jobs/')} {board_slot(jobs[1], '/jobs/')} "
    assert html.index("/jobs/5/") < html.index("/jobs/3/")
