"""Downloads: spreadsheet formulas in the audit CSV come out as text (OWASP CSV injection), and
every download (audit CSV, Markdown session log) is ``Cache-Control: no-store``."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.downloads import csv_cell, csv_writer
from billing import services

from .test_closing import ticket  # noqa: F401 (fixture)
from .test_drafts import make_draft

pytestmark = pytest.mark.django_db(transaction=False)

FORMULA = "=cmd|' /C calc'!A0"


def audit_csv(client) -> tuple:
    today = timezone.localdate().isoformat()
    response = client.get(reverse("billing:audit"), {"start": today, "end": today, "format": "csv"})
    text = b"".join(response.streaming_content).decode()
    return response, list(csv.DictReader(io.StringIO(text)))


def test_a_formula_rejection_reason_is_a_neutralised_cell_in_the_audit_csv(syncro, world):
    draft = make_draft(syncro, world)
    services.draft_reject(draft=draft, by=world.billing, reason=FORMULA)
    response, rows = audit_csv(world.client_for(world.billing))
    rejected = next(r for r in rows if r["kind"] == "rejected")
    assert rejected["note"] == "'" + FORMULA
    assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for v in r.values())
    assert "no-store" in response["Cache-Control"]


def test_the_session_log_download_is_no_store(syncro, world, ticket):  # noqa: F811
    response = world.client_for(world.tech).get(
        reverse("billing:session_log", args=[ticket.vendor_id])
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("", ""),
        (-5, -5),
        (None, None),
    ],
)
def test_only_strings_that_start_like_a_formula_are_prefixed(value, expected):
    assert csv_cell(value) == expected


def test_numbers_we_write_stay_numbers_in_the_file():
    from decimal import Decimal

    out = io.StringIO()
    csv_writer(out).writerows([[-5, Decimal("-1.25"), "-5", "=A1"]])
    assert out.getvalue() == "-5,-1.25,'-5,'=A1\r\n"
