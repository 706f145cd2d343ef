"""Reconciliation and Timesheet in the navigation bar; who may open them."""

from __future__ import annotations

from django.urls import reverse

from connectors.synchroteam.models import SynchroteamJob


def _nav(response) -> dict[str, dict]:
    return {item["label"]: item for item in response.context["nav_items"]}


def test_the_nav_links_reconciliation_and_timesheet_and_marks_only_the_open_one(world):
    client = world.client_for(world.tech)
    unbilled, timesheet = reverse("dispatch:unbilled"), reverse("dispatch:timesheet")
    for url, label in ((unbilled, "Reconciliation"), (timesheet, "Timesheet")):
        page = client.get(url)
        assert page.status_code == 200, url
        nav = _nav(page)
        assert nav["Reconciliation"]["url"] == unbilled
        assert nav["Timesheet"]["url"] == timesheet
        assert [i for i, item in nav.items() if item["active"]] == [label]
        html = page.content.decode()
        assert f'href="{unbilled}"' in html and f'href="{timesheet}"' in html


def test_every_role_sees_both_entries(world):
    for user in (world.owner, world.billing, world.dispatcher, world.tech):
        nav = _nav(world.client_for(user).get(reverse("home")))
        assert {"Reconciliation", "Timesheet"} <= set(nav), user


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(client, world):
    for url in (reverse("dispatch:unbilled"), reverse("dispatch:timesheet")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login")), url


def test_an_outsider_sees_only_their_own_company_and_none_of_our_jobs(world, mirrored):
    outsider = world.client_for(world.outsider)
    page = outsider.get(reverse("dispatch:unbilled"))
    assert page.status_code == 200
    assert len(page.context["work"].rows) == 0
    assert outsider.get(reverse("dispatch:timesheet")).context["rows"] == []
    job = SynchroteamJob.objects.for_tenant(world.tenant).filter(status="completed").first()
    assert outsider.get(reverse("dispatch:draft_billing", args=[job.vendor_id])).status_code == 404
    assert outsider.get(reverse("dispatch:job_detail", args=[job.vendor_id])).status_code == 404
