"""The ticket list and the ticket page: seed display, filters in the URL, fixed queries,
actions through an exact-JSON preview and a Confirm."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from billing import ticket_actions
from billing.models import ApprovalEvent
from connectors.outbox import executor
from connectors.outbox.models import VendorWrite, VendorWriteAttempt
from connectors.outbox.services import plan_enqueue
from connectors.syncro.models import SyncroCustomer, SyncroTicket, SyncroTicketComment

LIST = "billing:ticket_list"


def token_in(page: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def preview_then_confirm(client, url, data, **headers):
    """Preview as a person does, then confirm that preview (its signed token)."""
    preview = client.post(url, {**data, "step": "preview"}, **headers).content.decode()
    return client.post(url, {**data, "token": token_in(preview), "step": "confirm"}, **headers)


def tickets_on(page: str) -> list[str]:
    return re.findall(r'<span class="num">#(\d+)</span>', page)


def test_the_list_shows_tickets_in_the_seed_display_format(syncro, world):
    t = syncro.ticket
    page = world.client_for(world.tech).get(reverse(LIST), {"q": f"#{t.number}"}).content.decode()
    assert (
        f'<span class="num">#{t.number}</span>&nbsp; {t.status}&nbsp; {t.customer_name}'
        in page.replace("&amp;", "&").replace("&#x27;", "'")
    )
    assert t.subject in page
    assert "Michael Swanson" in page  # the assignee's name from the mirrored ticket


def test_filters_narrow_the_list_and_stay_in_the_url(syncro, world):
    client = world.client_for(world.billing)
    tenant = world.tenant
    alive = SyncroTicket.objects.filter(tenant=tenant, is_deleted=False)
    customer = alive.exclude(customer_vendor_id=None).first().customer_vendor_id
    page = client.get(reverse(LIST), {"customer": customer, "per": 100}).content.decode()
    expected = alive.filter(customer_vendor_id=customer).count()
    assert f"{expected} ticket" in page
    page = client.get(reverse(LIST), {"status": "Not Closed"}).content.decode()
    assert f"{alive.exclude(status__in=['Resolved', 'Closed']).count()} ticket" in page
    page = client.get(reverse(LIST), {"status": "In Progress"}).content.decode()
    assert f"{alive.filter(status='In Progress').count()} ticket" in page
    page = client.get(reverse(LIST), {"technician": 1737}).content.decode()
    assert f"{alive.filter(user_vendor_id=1737).count()} ticket" in page
    # pagination links keep the filters
    page = client.get(reverse(LIST), {"status": "Not Closed", "per": 25}).content.decode()
    assert "status=Not+Closed&amp;per=25&amp;page=2" in page


def test_has_unbilled_time_lists_only_tickets_with_uncharged_billable_timers(syncro, world):
    from connectors.syncro.models import SyncroTimerEntry

    ids = set(
        SyncroTimerEntry.objects.filter(
            tenant=world.tenant, billable=True, recorded=False, is_deleted=False
        ).values_list("ticket_vendor_id", flat=True)
    )
    page = (
        world.client_for(world.billing)
        .get(reverse(LIST), {"unbilled": "on", "per": 100})
        .content.decode()
    )
    shown = set(tickets_on(page))
    numbers = set(
        SyncroTicket.objects.filter(vendor_id__in=ids, is_deleted=False).values_list(
            "number", flat=True
        )
    )
    assert shown and shown <= numbers
    assert "Unbilled time" in page


def test_the_date_range_filters_on_creation(syncro, world):
    t = syncro.ticket
    day = t.vendor_created_at.date().isoformat()
    page = (
        world.client_for(world.billing)
        .get(reverse(LIST), {"created_from": day, "created_to": day, "per": 100})
        .content.decode()
    )
    assert t.number in tickets_on(page)


def test_the_htmx_request_gets_the_results_fragment_only(syncro, world):
    response = world.client_for(world.billing).get(
        reverse(LIST), {"status": "New"}, HTTP_HX_REQUEST="true"
    )
    text = response.content.decode()
    assert "<html" not in text and "ticket" in text


@pytest.mark.parametrize(
    "filters", [{}, {"status": "Not Closed", "unbilled": "on"}, {"q": "printer"}]
)
def test_the_list_costs_the_same_queries_whatever_the_page_size(
    syncro, world, django_assert_num_queries, filters
):
    client = world.client_for(world.billing)
    client.get(reverse(LIST))  # warm the per-tenant list cache and the session
    counts = []
    for per in (25, 100):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse(LIST), {**filters, "per": per})
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    with django_assert_num_queries(counts[0]):
        client.get(reverse(LIST), {**filters, "per": 50})


def test_the_ticket_page_shows_the_ticket_and_its_last_five_comments(syncro, world):
    ticket = (
        SyncroTicket.objects.filter(tenant=world.tenant)
        .filter(vendor_id__in=SyncroTicketComment.objects.values("ticket_vendor_id"))
        .first()
    )
    for i in range(7):
        SyncroTicketComment.objects.create(
            tenant=world.tenant,
            connection=syncro.connection,
            vendor_id=9_000_000 + i,
            ticket_vendor_id=ticket.vendor_id,
            subject=f"Extra {i}",
            body=f"Body {i}",
        )
    client = world.client_for(world.tech)
    page = client.get(reverse("billing:ticket_detail", args=[ticket.vendor_id])).content.decode()
    assert f"#{ticket.number}" in page and ticket.customer_name.replace("'", "&#x27;") in page
    assert page.count('<article class="comment') == 5
    assert "Show all" in page
    every = client.get(
        reverse("billing:ticket_detail", args=[ticket.vendor_id]),
        {"comments": "all"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    total = SyncroTicketComment.objects.filter(ticket_vendor_id=ticket.vendor_id).count()
    assert every.count('<article class="comment') == total


def test_a_comment_is_previewed_as_exact_json_then_sent_once_on_confirm(syncro, world):
    t = syncro.ticket
    url = reverse("billing:ticket_comment", args=[t.vendor_id])
    client = world.client_for(world.billing)
    form = {
        "subject": "Update",
        "body": "Called the customer back.",
        "visibility": "internal",
    }
    preview = client.post(url, {**form, "step": "preview"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Confirm and send" in preview
    token = token_in(preview)
    nonce = ticket_actions.action_nonce(
        token=token, tenant=world.tenant, user=world.billing, action="comment", obj=str(t.vendor_id)
    )
    expected = (
        ticket_actions.comment_plan(
            connection=syncro.connection,
            user=world.billing,
            nonce=nonce,
            ticket=t,
            subject="Update",
            body="Called the customer back.",
            hidden=True,
            do_not_email=True,
        )
        .writes[0]
        .body
    )
    assert "&quot;hidden&quot;: true" in preview and expected["body"].split()[-1] in preview
    assert not VendorWrite.objects.exists()  # nothing before Confirm
    for _ in range(2):  # a double click confirms once
        done = client.post(url, {**form, "token": token, "step": "confirm"}, HTTP_HX_REQUEST="true")
    assert "ticket-changed" in done["HX-Trigger"]
    assert VendorWrite.objects.count() == 1
    executor.run_until_settled()
    posts = syncro.ledger("POST", f"/tickets/{t.vendor_id}/comment")
    assert len(posts) == 1 and posts[0].body == expected
    assert ApprovalEvent.objects.filter(ticket_vendor_id=t.vendor_id, kind="requested").count() == 1
    assert VendorWriteAttempt.objects.filter(kind="send", outcome="confirmed").count() == 1


def test_back_to_edit_keeps_what_was_typed(syncro, world):
    url = reverse("billing:ticket_comment", args=[syncro.ticket.vendor_id])
    page = (
        world.client_for(world.billing)
        .post(
            url,
            {"subject": "Update", "body": "Half written", "visibility": "internal", "step": "edit"},
        )
        .content.decode()
    )
    assert "Half written" in page and 'value="Update"' in page and "Preview" in page


def test_a_status_change_sends_only_the_changed_fields(syncro, world):
    t = syncro.ticket
    url = reverse("billing:ticket_update", args=[t.vendor_id])
    data = {
        "status": "Waiting on Customer",
        "priority": t.priority,
        "user_id": t.user_vendor_id,
    }
    client = world.client_for(world.billing)
    preview_then_confirm(client, url, data)
    executor.run_until_settled()
    puts = syncro.ledger("PUT", f"/tickets/{t.vendor_id}")
    assert [p.body for p in puts] == [{"status": "Waiting on Customer"}]


def test_creating_a_ticket_asks_every_field_and_keeps_what_was_typed(syncro, world):
    url = reverse("billing:ticket_create")
    client = world.client_for(world.dispatcher)
    page = client.post(url, {"subject": "Printer jams", "step": "preview"}).content.decode()
    assert page.count("This field is required.") == 5
    assert 'value="Printer jams"' in page
    customer = SyncroCustomer.objects.filter(tenant=world.tenant).first()
    data = {
        "customer": customer.vendor_id,
        "subject": "Printer jams",
        "problem_type": "Hardware",
        "status": "New",
        "priority": "Normal",
        "user_id": 1760,
    }
    preview = client.post(url, {**data, "step": "preview"}).content.decode()
    assert "POST /tickets" in preview and "&quot;user_id&quot;: 1760" in preview
    client.post(url, {**data, "token": token_in(preview), "step": "confirm"})
    executor.run_until_settled()
    posts = syncro.ledger("POST", "/tickets")
    assert len(posts) == 1
    body = posts[0].body
    assert {
        k: body[k] for k in ("customer_id", "problem_type", "status", "priority", "user_id")
    } == {
        "customer_id": customer.vendor_id,
        "problem_type": "Hardware",
        "status": "New",
        "priority": "Normal",
        "user_id": 1760,
    }


def test_closing_posts_the_resolution_then_the_status_and_offers_the_session_log(syncro, world):
    t = syncro.ticket
    url = reverse("billing:ticket_close", args=[t.vendor_id])
    data = {
        "status": "Resolved",
        "resolution": "Replaced the toner.",
        "visibility": "public_quiet",
    }
    client = world.client_for(world.tech)
    done = preview_then_confirm(client, url, data, HTTP_HX_REQUEST="true").content.decode()
    assert "session log" in done
    executor.run_until_settled()
    comment = syncro.ledger("POST", f"/tickets/{t.vendor_id}/comment")[0]
    put = syncro.ledger("PUT", f"/tickets/{t.vendor_id}")[0]
    assert comment.seq < put.seq and put.body == {"status": "Resolved"}
    log = client.get(reverse("billing:session_log", args=[t.vendor_id]))
    text = log.content.decode()
    assert log["Content-Disposition"].startswith("attachment")
    assert text.startswith(f"# Session log: #{t.number}") and "## Resolution" in text
    assert "Replaced the toner." in text


def test_a_vendor_refusal_of_a_ticket_action_shows_the_message_and_resolve_buttons(syncro, world):
    t = syncro.ticket
    url = reverse("billing:ticket_update", args=[t.vendor_id])
    client = world.client_for(world.billing)
    plan = ticket_actions.ticket_update_plan(
        connection=syncro.connection,
        user=world.billing,
        nonce="bad",
        ticket=t,
        changes={"user_id": 999999},
    )
    plan_enqueue(plan, by=world.billing)
    executor.run_until_settled()
    write = VendorWrite.objects.get()
    assert write.state == "rejected"
    fragment = client.get(
        reverse("billing:write_status", args=[write.uuid]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "User must exist" in fragment and "mark_done" in fragment
    page = client.get(url).content.decode()
    assert "Preview" in page
