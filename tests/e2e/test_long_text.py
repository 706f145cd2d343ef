"""Finding 7 of issue 13: a 20 000-character unbroken string (in a comment body, a subject, a
line description, a rejection reason) wraps; the draft, ticket, queue and audit pages never get
wider than the window, and every preview step stays visible."""

from __future__ import annotations

from functools import partial

import pytest

from tests.conftest import PASSWORD, syncro_on_sandbox
from tests.e2e import browser

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG = "x" * 20_000
WIDTH = 1366
TOLERANCE = 2  # px: rounding of sub-pixel borders


@pytest.fixture
def long_texts(world, settings, tmp_path):
    """A synced Syncro mirror, a ticket whose comment is the long string, and a draft on it
    whose comment body and line description are the long string. ``(ticket, draft)``."""
    from billing import services
    from billing.demo import map_labor_types
    from connectors.services import connection_sync_now
    from connectors.syncro.models import SyncroTicket, SyncroTicketComment

    settings.RATE_LIMIT_SQLITE_PATH = str(tmp_path / "ratelimit.sqlite")
    sandbox, connection = syncro_on_sandbox(world, settings)
    connection_sync_now(connection, mode="full")
    map_labor_types(world.tenant)
    commented = SyncroTicketComment.objects.filter(tenant=world.tenant, is_deleted=False)
    ids = set(commented.values_list("ticket_vendor_id", flat=True))
    ticket = (
        SyncroTicket.objects.filter(tenant=world.tenant, is_deleted=False, vendor_id__in=ids)
        .order_by("vendor_id")
        .first()
    )
    commented.filter(ticket_vendor_id=ticket.vendor_id).update(
        body=LONG, subject="y" * 400
    )  # subject is varchar(500)
    draft = services.draft_create(
        tenant=world.tenant,
        connection=connection,
        ticket=ticket,
        by=world.tech,
        minutes=45,
        labor_type="onsite",
        comment_subject="Resolution",
        comment_body=LONG,
        comment_hidden=False,
        comment_do_not_email=True,
        line_description=LONG[:255],
    )
    rejected = services.draft_create(
        tenant=world.tenant,
        connection=connection,
        ticket=ticket,
        by=world.tech,
        minutes=30,
        labor_type="onsite",
        comment_subject="z" * 200,  # the column's max_length (PostgreSQL enforces it)
        comment_body="Short.",
        comment_hidden=False,
        comment_do_not_email=True,
        line_description="w" * 255,
    )
    services.draft_reject(draft=rejected, by=world.billing, reason=LONG)
    yield ticket, draft, rejected
    sandbox.close()


_sign_in = partial(browser.sign_in, password=PASSWORD)


def _widths(page) -> dict:
    return page.evaluate(
        """() => ({
            page: document.scrollingElement.scrollWidth,
            viewport: window.innerWidth,
            pre: Math.max(0, ...[...document.querySelectorAll('pre')].map(
                p => p.scrollWidth - p.clientWidth)),
        })"""
    )


def test_a_20000_character_word_wraps_on_the_draft_and_ticket_pages(
    live_server, browser, long_texts, world, shots
):
    from django.urls import reverse

    ticket, draft, rejected = long_texts
    context = browser.new_context(viewport={"width": WIDTH, "height": 860})
    page = context.new_page()
    _sign_in(page, live_server.url, world.billing.email)
    for name, url in [
        ("draft", reverse("billing:draft_detail", args=[draft.uuid])),
        ("ticket", reverse("billing:ticket_detail", args=[ticket.vendor_id])),
        ("rejected-draft", reverse("billing:draft_detail", args=[rejected.uuid])),
        ("queue", reverse("billing:queue") + "?status=all&filtered=1"),
        ("audit", reverse("billing:audit")),
    ]:
        page.goto(live_server.url + url)
        page.wait_for_load_state("networkidle")
        widths = _widths(page)
        assert widths["page"] <= widths["viewport"] + TOLERANCE, (name, widths)
        folder = shots(page, name).parent
        page.screenshot(path=str(folder / f"{name}-top.png"))  # the window as a person sees it
        assert widths["pre"] <= TOLERANCE, (name, widths)  # previews wrap, no sideways scroll
        if name == "audit":  # the long note does not squeeze the short columns letter by letter
            kinds = page.locator(".table tbody td strong")
            heights = [kinds.nth(i).bounding_box()["height"] for i in range(kinds.count())]
            assert heights and max(heights) < 30, heights
    page.goto(live_server.url + reverse("billing:draft_detail", args=[draft.uuid]))
    last_step = page.locator(".preview-block h3").last
    last_step.scroll_into_view_if_needed()
    page.screenshot(path=str(folder / "draft-last-step.png"))
    box = last_step.bounding_box()
    assert box and box["x"] + box["width"] <= WIDTH + TOLERANCE
    context.close()
