"""Closing a ticket starts the resolution from the session log; the person edits it, and what
they post is what Syncro receives. The Markdown session log stays downloadable."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from billing import ticket_actions
from connectors.outbox import executor
from connectors.syncro.models import SyncroTicket, SyncroTicketComment

from .test_tickets import token_in


@pytest.fixture
def ticket(syncro, world) -> SyncroTicket:
    """A live ticket with at least one public and one internal comment in the mirror."""
    comments = SyncroTicketComment.objects.filter(tenant=world.tenant, is_deleted=False)
    hidden = set(comments.filter(hidden=True).values_list("ticket_vendor_id", flat=True))
    public = set(
        comments.filter(hidden=False)
        .exclude(subject__iexact="resolution")
        .values_list("ticket_vendor_id", flat=True)
    )
    found = (
        SyncroTicket.objects.filter(
            tenant=world.tenant, is_deleted=False, vendor_id__in=hidden & public
        )
        .order_by("vendor_id")
        .first()
    )
    assert found is not None
    return found


def textarea(page: str, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    return html.unescape(match.group(1)).lstrip("\n")


def test_the_close_form_starts_from_the_session_log_summary(syncro, world, ticket):
    page = (
        world.client_for(world.tech)
        .get(reverse("billing:ticket_close", args=[ticket.vendor_id]), HTTP_HX_REQUEST="true")
        .content.decode()
    )
    text = textarea(page, "resolution")
    comments = list(SyncroTicketComment.objects.filter(ticket_vendor_id=ticket.vendor_id))
    assert (
        text.strip() == ticket_actions.session_log_summary(ticket=ticket, comments=comments).strip()
    )
    assert text.startswith(f"#{ticket.number} {ticket.subject}")
    public = [c for c in comments if not c.hidden and c.subject.lower() != "resolution"]
    last = sorted(public, key=lambda c: (c.vendor_created_at, c.vendor_id))[-1]
    assert " ".join(last.body.split())[:40] in text
    for c in comments:
        if c.hidden and len(c.body) > 20:  # internal notes never start a customer-facing text
            assert " ".join(c.body.split())[:40] not in text
    assert "Ref: FL-" not in text


def test_the_summary_leaves_out_internal_notes_and_the_portals_markers(syncro, world, ticket):
    note = SyncroTicketComment(
        ticket_vendor_id=ticket.vendor_id,
        subject="Internal",
        body="Password is hunter2",
        hidden=True,
    )
    work = SyncroTicketComment(
        ticket_vendor_id=ticket.vendor_id,
        subject="Update",
        body="<p>Replaced the <b>toner</b>.</p>\n\nRef: FL-0123456789",
        tech="Howard Enos",
        hidden=False,
    )
    text = ticket_actions.session_log_summary(ticket=ticket, comments=[note, work])
    assert "hunter2" not in text
    assert "- Update · Howard Enos: Replaced the toner ." in text
    assert "FL-0123456789" not in text and "<b>" not in text
    assert text.rstrip().endswith("Resolution:")


def test_the_person_edits_the_starting_text_and_the_edited_text_is_what_is_sent(
    syncro, world, ticket
):
    url = reverse("billing:ticket_close", args=[ticket.vendor_id])
    client = world.client_for(world.tech)
    start = textarea(client.get(url).content.decode(), "resolution")
    edited = start.replace("Resolution:", "Resolution: replaced the fuser; printing again.")
    edited = "Customer confirmed it works.\n" + edited
    data = {"status": "Resolved", "resolution": edited, "visibility": "public_quiet"}
    preview = client.post(url, {**data, "step": "preview"}).content.decode()
    assert "replaced the fuser" in html.unescape(preview)
    # back to edit keeps the edited text, not the summary
    back = client.post(url, {**data, "step": "edit"}).content.decode()
    assert textarea(back, "resolution") == edited
    client.post(url, {**data, "token": token_in(preview), "step": "confirm"})
    executor.run_until_settled()
    (comment,) = syncro.ledger("POST", f"/tickets/{ticket.vendor_id}/comment")
    assert comment.body["subject"] == "Resolution"
    assert comment.body["body"].startswith(edited.strip())
    assert re.fullmatch(r"\n\nRef: FL-[0-9A-F]{10}", comment.body["body"][len(edited.strip()) :])
    (put,) = syncro.ledger("PUT", f"/tickets/{ticket.vendor_id}")
    assert put.body == {"status": "Resolved"}


def test_an_emptied_resolution_is_refused_and_nothing_is_sent(syncro, world, ticket):
    url = reverse("billing:ticket_close", args=[ticket.vendor_id])
    data = {"status": "Resolved", "resolution": "  ", "visibility": "public_quiet"}
    page = world.client_for(world.tech).post(url, {**data, "step": "preview"}).content.decode()
    assert "This field is required." in page
    assert syncro.ledger("POST", f"/tickets/{ticket.vendor_id}/comment") == []


def test_the_markdown_session_log_is_still_a_download(syncro, world, ticket):
    response = world.client_for(world.tech).get(
        reverse("billing:session_log", args=[ticket.vendor_id])
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response.content.decode().startswith(f"# Session log: #{ticket.number}")
    page = (
        world.client_for(world.tech)
        .get(reverse("billing:ticket_detail", args=[ticket.vendor_id]))
        .content.decode()
    )
    assert reverse("billing:session_log", args=[ticket.vendor_id]) in page
