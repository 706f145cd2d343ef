"""Equipment history, and a job's report and photos fetched on demand within the budget and
cached (issue 16, build item 4)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from connectors.models import LimitState, RequestUsage
from connectors.ratelimit import ConnectionGate
from connectors.sandbox import accounts as demo
from connectors.synchroteam.models import SynchroteamEquipment, SynchroteamJob, SynchroteamJobFetch


def _requests(connection) -> int:
    return RequestUsage.objects.filter(connection=connection).aggregate(n=Sum("requests"))["n"] or 0


def _job(mirrored, status):
    return SynchroteamJob.objects.filter(connection=mirrored.synchroteam, status=status).first()


def _attachments(client, job, **extra):
    return client.get(reverse("dispatch:job_attachments", args=[job.vendor_id]), **extra)


def test_the_report_and_photos_cost_one_request_each_then_come_from_the_cache(world, mirrored):
    job = _job(mirrored, "completed")
    client = world.client_for(world.tech)
    detail = client.get(reverse("dispatch:job_detail", args=[job.vendor_id])).content.decode()
    assert reverse("dispatch:job_attachments", args=[job.vendor_id]) in detail  # lazy-loaded
    before = _requests(mirrored.synchroteam)
    first = _attachments(client, job, HTTP_HX_REQUEST="true")
    assert first.status_code == 200
    assert _requests(mirrored.synchroteam) == before + 2  # jobReport/details + job/photos
    report = mirrored.sandbox.client("synchroteam")
    with report as st:
        vendor = st.get("/jobReport/details", params={"id": job.vendor_id}).json()
    page = first.content.decode()
    for item in vendor["items"]:
        assert item["name"] in page
    assert SynchroteamJobFetch.objects.filter(job_vendor_id=job.vendor_id).count() == 2

    again = _attachments(client, job, HTTP_HX_REQUEST="true")
    assert again.status_code == 200 and _requests(mirrored.synchroteam) == before + 2
    assert vendor["items"][0]["name"] in again.content.decode()

    # after the TTL, or on "Fetch again", it is asked again
    SynchroteamJobFetch.objects.update(fetched_at=timezone.now() - dt.timedelta(hours=2))
    _attachments(client, job, data={"kinds": "report"})
    assert _requests(mirrored.synchroteam) == before + 3
    client.post(reverse("dispatch:job_attachments_refresh", args=[job.vendor_id]) + "?kinds=photos")
    assert _requests(mirrored.synchroteam) == before + 4


def test_a_job_without_a_report_says_so_and_is_not_asked_again(world, mirrored):
    job = _job(mirrored, "created")
    client = world.client_for(world.owner)
    before = _requests(mirrored.synchroteam)
    response = _attachments(client, job, data={"kinds": "report"})
    assert response.status_code == 200
    assert "No job report yet" in response.content.decode()
    assert SynchroteamJobFetch.objects.get(job_vendor_id=job.vendor_id).found is False
    _attachments(client, job, data={"kinds": "report"})
    assert _requests(mirrored.synchroteam) == before + 1


def test_a_spent_quota_is_a_sentence_and_the_cached_copy_stays(world, mirrored, settings):
    job = _job(mirrored, "completed")
    client = world.client_for(world.owner)
    _attachments(client, job, data={"kinds": "report"})
    SynchroteamJobFetch.objects.update(fetched_at=timezone.now() - dt.timedelta(hours=2))
    scope = ConnectionGate(mirrored.synchroteam, demo.SYNCHROTEAM_API_KEY).vendor_scope
    LimitState.objects.update_or_create(
        scope=scope,
        defaults={
            "quota_remaining": settings.SYNCHROTEAM_QUOTA_RESERVE,
            "quota_reset_at": timezone.now() + dt.timedelta(hours=3),
        },
    )
    before = _requests(mirrored.synchroteam)
    response = _attachments(client, job, data={"kinds": "report"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "daily quota is spent" in page and "Showing the copy fetched" in page
    assert _requests(mirrored.synchroteam) == before


def test_the_equipment_page_shows_its_site_jobs_parts_and_latest_report(world, mirrored):
    jobs = SynchroteamJob.objects.filter(
        connection=mirrored.synchroteam, status__in=("completed", "validated")
    ).exclude(raw__equipment=None)
    job = next(j for j in jobs if j.raw.get("equipment"))
    equipment = SynchroteamEquipment.objects.get(
        connection=mirrored.synchroteam, vendor_id=job.raw["equipment"]["id"]
    )
    client = world.client_for(world.tech)
    page = client.get(reverse("dispatch:equipment_detail", args=[equipment.vendor_id]))
    assert page.status_code == 200
    text = page.content.decode()
    assert equipment.raw["site"]["name"] in text.replace("&#x27;", "'").replace("&amp;", "&")
    on_it = SynchroteamJob.objects.filter(
        connection=mirrored.synchroteam, raw__equipment__id=equipment.vendor_id
    )
    for other in on_it:
        assert f"#{other.num}" in text
    assert (
        reverse(
            "dispatch:job_attachments",
            args=[
                on_it.filter(status__in=("completed", "validated"))
                .order_by("-actual_end")
                .first()
                .vendor_id
            ],
        )
        in text
    )
    listing = client.get(reverse("dispatch:equipment_list"), {"q": equipment.name[:6]})
    assert equipment.name in listing.content.decode()


def test_another_companys_job_or_equipment_is_a_404_and_odd_input_is_not_a_500(world, mirrored):
    job = _job(mirrored, "completed")
    equipment = SynchroteamEquipment.objects.filter(connection=mirrored.synchroteam).first()
    outsider = world.client_for(world.outsider)
    for url in (
        reverse("dispatch:job_attachments", args=[job.vendor_id]),
        reverse("dispatch:equipment_detail", args=[equipment.vendor_id]),
    ):
        assert outsider.get(url).status_code == 404
    assert (
        outsider.post(reverse("dispatch:job_attachments_refresh", args=[job.vendor_id])).status_code
        == 404
    )
    client = world.client_for(world.owner)
    for params in ({"kinds": "x" * 300}, {"kinds": "\u2603"}, {"page": "-1"}):
        assert _attachments(client, job, data=params).status_code == 200
    for params in ({"q": "\u2603" * 500}, {"page": "abc"}, {"q": "%00"}):
        assert client.get(reverse("dispatch:equipment_list"), params).status_code == 200
    assert client.get(reverse("dispatch:equipment_detail", args=[2**63])).status_code == 404


def test_fetch_again_within_a_minute_serves_the_copy_without_a_request(world, mirrored):
    job = _job(mirrored, "completed")
    client = world.client_for(world.tech)
    url = reverse("dispatch:job_attachments_refresh", args=[job.vendor_id]) + "?kinds=photos"
    _attachments(client, job, data={"kinds": "photos"})
    before = _requests(mirrored.synchroteam)
    for _ in range(5):
        page = client.post(url, HTTP_HX_REQUEST="true").content.decode()
    assert _requests(mirrored.synchroteam) == before
    assert "less than 60 s ago" in page
    SynchroteamJobFetch.objects.update(fetched_at=timezone.now() - dt.timedelta(seconds=61))
    client.post(url)
    assert _requests(mirrored.synchroteam) == before + 1


def test_an_odd_equipment_search_is_named_kept_and_not_applied(world, mirrored):
    client = world.client_for(world.owner)
    every = client.get(reverse("dispatch:equipment_list")).content.decode()
    for odd in ("bad\x00name", "x" * 101):
        page = client.get(reverse("dispatch:equipment_list"), {"q": odd}).content.decode()
        assert 'role="alert"' in page and "This value is not applied." in page
        assert "No equipment matches" not in page
        # the whole list is shown, as with no search
        assert page.count("/equipment/") == every.count("/equipment/")
    long = client.get(reverse("dispatch:equipment_list"), {"q": "x" * 101}).content.decode()
    assert 'value="' + "x" * 100 + '"' in long


def test_the_equipment_list_never_counts_the_whole_table(world, mirrored, settings):
    settings.LIST_COUNT_CAP = 2
    client = world.client_for(world.owner)
    assert SynchroteamEquipment.objects.filter(connection=mirrored.synchroteam).count() > 3
    page = client.get(reverse("dispatch:equipment_list")).content.decode()
    assert "2+ pieces of equipment" in page
