"""The payroll timesheet CSV neutralises formula-shaped names and is never cached."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.urls import reverse

from connectors.synchroteam.models import SynchroteamActivity, SynchroteamUser


def test_a_formula_technician_name_is_text_and_the_download_is_no_store(world, mirrored):
    latest = (
        SynchroteamActivity.objects.for_tenant(world.tenant)
        .exclude(end=None)
        .exclude(user_vendor_id=None)
        .order_by("-start")
        .first()
    )
    evil = '=HYPERLINK("http://evil.test","x")'
    SynchroteamUser.objects.for_tenant(world.tenant).filter(vendor_id=latest.user_vendor_id).update(
        name=evil
    )
    week = latest.start.date() - dt.timedelta(days=latest.start.weekday())
    response = world.client_for(world.tech).get(
        reverse("dispatch:timesheet") + f"?week={week.isoformat()}&format=csv"
    )
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith("attachment")
    table = list(csv.reader(io.StringIO(response.content.decode())))
    names = {r[1] for r in table[1:]}
    assert "'" + evil in names and evil not in names
    hours = [r[3] for r in table[1:]]
    assert all(not h.startswith("'") for h in hours)  # numbers are not prefixed
