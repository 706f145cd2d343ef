"""Timer entries are charged from the ticket page, previewed and confirmed, and exactly once:
double confirms, lost answers after Syncro committed, and timers charged in Syncro but not yet
in the mirror never make a second line item. "Bill time" shows the uncharged minutes and fills
nothing by itself."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.urls import reverse

from billing import timers
from billing.money import labor_rates
from connectors.outbox import executor
from connectors.outbox.models import VendorWrite
from connectors.syncro.models import SyncroTicket, SyncroTimerEntry

from .test_tickets import token_in

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def timer(syncro, world) -> SyncroTimerEntry:
    """A mirrored, finished, billable timer entry nobody charged, on a live ticket, charged as
    a labor type whose product has a price."""
    live = SyncroTicket.objects.filter(tenant=world.tenant, is_deleted=False).values("vendor_id")
    priced = [r.product_vendor_id for r in labor_rates(world.tenant).values() if r.per_hour]
    entry = (
        SyncroTimerEntry.objects.filter(
            tenant=world.tenant,
            billable=True,
            recorded=False,
            is_deleted=False,
            active_duration__isnull=False,
            ticket_vendor_id__in=live,
            product_vendor_id__in=priced,
        )
        .order_by("vendor_id")
        .first()
    )
    assert entry is not None, "the seeded sandbox has uncharged timers"
    return entry


def ticket_of(entry: SyncroTimerEntry) -> SyncroTicket:
    return SyncroTicket.objects.get(connection=entry.connection, vendor_id=entry.ticket_vendor_id)


def charge_url(entry: SyncroTimerEntry) -> str:
    return reverse("billing:timer_charge", args=[entry.ticket_vendor_id, entry.vendor_id])


def charges(syncro, entry: SyncroTimerEntry) -> list:
    """The sandbox ledger's charge requests for this timer."""
    return [
        e
        for e in syncro.ledger("POST", f"/tickets/{entry.ticket_vendor_id}/charge_timer_entry")
        if e.body.get("timer_entry_id") == entry.vendor_id
    ]


def line_items_from(syncro, entry: SyncroTimerEntry) -> list[int]:
    """Line items the sandbox created from this timer (every committed charge makes one)."""
    return [i for e in charges(syncro, entry) for i in e.created("syncro.ticket_line_item")]


def sandbox_timer(syncro, entry: SyncroTimerEntry) -> dict:
    records = syncro.sandbox.syncro.ticket_records(entry.ticket_vendor_id)
    return next(t for t in records["timers"] if t["id"] == entry.vendor_id)


def test_the_ticket_page_offers_a_charge_with_minutes_and_amount(syncro, world, timer):
    page = (
        world.client_for(world.billing)
        .get(reverse("billing:ticket_detail", args=[timer.ticket_vendor_id]))
        .content.decode()
    )
    row = re.search(rf'<tr id="timer-{timer.vendor_id}">(.*?)</tr>', page, re.S).group(1)
    assert "Not charged" in row and charge_url(timer) in row
    assert f"{round(timer.active_duration / 60)} min" in row
    rates = {r.product_vendor_id: r.per_hour for r in labor_rates(world.tenant).values()}
    per_hour = rates.get(timer.product_vendor_id)
    assert per_hour, "the seeded timer's product is a priced labor type"
    amount = timers.timer_panel(ticket_of(timer), [timer]).rows[0].amount
    hours = Decimal(timer.active_duration) / 3600
    assert amount == (hours.quantize(Decimal("0.01"), ROUND_HALF_UP) * per_hour).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    assert f"${amount}" in row


def test_a_technician_sees_the_timer_but_no_charge_button_and_cannot_charge(syncro, world, timer):
    client = world.client_for(world.tech)
    page = client.get(reverse("billing:ticket_detail", args=[timer.ticket_vendor_id]))
    assert "Not charged" in page.content.decode()
    assert charge_url(timer) not in page.content.decode()
    assert client.get(charge_url(timer)).status_code == 403


def test_a_timer_is_charged_through_preview_and_confirm_once(syncro, world, timer):
    client = world.client_for(world.billing)
    preview = client.get(charge_url(timer), **HX).content.decode()
    assert f"POST /tickets/{timer.ticket_vendor_id}/charge_timer_entry" in preview
    assert f"&quot;timer_entry_id&quot;: {timer.vendor_id}" in preview
    assert "Howard" in preview  # whose key: the billing clerk's own
    assert f"{round(timer.active_duration / 60)} min" in preview
    assert not VendorWrite.objects.exists()  # nothing before Confirm
    data = {"token": token_in(preview), "step": "confirm"}
    done = client.post(charge_url(timer), data, **HX)
    assert "ticket-changed" in done["HX-Trigger"]
    client.post(charge_url(timer), data, **HX)  # the double click
    write = VendorWrite.objects.get()
    assert write.business_key == f"timer:{timer.ticket_vendor_id}:{timer.vendor_id}:charge"
    executor.run_until_settled()
    assert len(charges(syncro, timer)) == 1
    assert charges(syncro, timer)[0].body == {"timer_entry_id": timer.vendor_id}
    assert len(line_items_from(syncro, timer)) == 1
    at_syncro = sandbox_timer(syncro, timer)
    assert (
        at_syncro["recorded"]
        and at_syncro["ticket_line_item_id"] == line_items_from(syncro, timer)[0]
    )
    # the mirror knows at once (no sync), and the page no longer offers the charge
    timer.refresh_from_db()
    assert timer.recorded and timer.ticket_line_item_vendor_id == at_syncro["ticket_line_item_id"]
    page = client.get(reverse("billing:ticket_detail", args=[timer.ticket_vendor_id]))
    row = re.search(
        rf'<tr id="timer-{timer.vendor_id}">(.*?)</tr>', page.content.decode(), re.S
    ).group(1)
    assert "Charged" in row and charge_url(timer) not in row
    # a confirm after it settled, or a new preview, charges nothing more
    client.post(charge_url(timer), data, **HX)
    again = client.get(charge_url(timer), **HX).content.decode()
    assert "already charged" in again and "Confirm and charge" not in again
    executor.run_until_settled()
    assert VendorWrite.objects.count() == 1 and len(charges(syncro, timer)) == 1


def test_two_people_confirming_the_same_timer_make_one_charge(syncro, world, timer):
    tokens = {}
    for person in (world.billing, world.owner):
        preview = world.client_for(person).get(charge_url(timer), **HX).content.decode()
        tokens[person] = token_in(preview)
    for person, token in tokens.items():
        world.client_for(person).post(charge_url(timer), {"token": token, "step": "confirm"}, **HX)
    executor.run_until_settled()
    assert VendorWrite.objects.count() == 1
    assert len(line_items_from(syncro, timer)) == 1


def test_a_charged_timer_is_charged_once_even_when_the_charge_answer_times_out_after_commit(
    syncro, world, timer
):
    syncro.sandbox.faults.add("syncro POST /tickets/*/charge_timer_entry timeout_after_commit")
    client = world.client_for(world.billing)
    preview = client.get(charge_url(timer), **HX).content.decode()
    client.post(charge_url(timer), {"token": token_in(preview), "step": "confirm"}, **HX)
    executor.run_until_settled()
    write = VendorWrite.objects.get()
    assert write.state == VendorWrite.State.CONFIRMED, write.last_error
    entry = charges(syncro, timer)[0]
    assert entry.fault == "timeout_after_commit" and entry.committed
    assert len(charges(syncro, timer)) == 1  # looked for, never re-sent
    assert len(line_items_from(syncro, timer)) == 1
    assert list(write.attempts.values_list("kind", "outcome")) == [
        ("send", "ambiguous"),
        ("verify", "found"),
    ]
    timer.refresh_from_db()
    assert timer.recorded and timer.ticket_line_item_vendor_id == int(write.remote_id)


def test_a_timer_charged_in_syncro_but_not_yet_in_the_mirror_is_not_charged_again(
    syncro, world, timer
):
    client = world.client_for(world.billing)
    preview = client.get(charge_url(timer), **HX).content.decode()
    with syncro.sandbox.client("syncro") as vendor:  # someone charges it in Syncro meanwhile
        vendor.post(
            f"/tickets/{timer.ticket_vendor_id}/charge_timer_entry",
            json={"timer_entry_id": timer.vendor_id},
        ).raise_for_status()
    assert not SyncroTimerEntry.objects.get(pk=timer.pk).recorded  # the mirror does not know
    client.post(charge_url(timer), {"token": token_in(preview), "step": "confirm"}, **HX)
    executor.run_until_settled()
    write = VendorWrite.objects.get()
    assert write.state == VendorWrite.State.CONFIRMED
    assert list(write.attempts.values_list("kind", "outcome")) == [("precheck", "found")]
    assert len(charges(syncro, timer)) == 1  # only the one made in Syncro
    assert len(line_items_from(syncro, timer)) == 1
    assert SyncroTimerEntry.objects.get(pk=timer.pk).recorded


def test_forged_tokens_and_foreign_timer_ids_are_refused_without_a_500(syncro, world, timer):
    client = world.client_for(world.billing)
    preview = client.get(charge_url(timer), **HX).content.decode()
    token = token_in(preview)
    for forged in ("", token[:-4] + "AAAA", "x" * 5000, "timer:1:2"):
        page = client.post(charge_url(timer), {"token": forged, "step": "confirm"}, **HX)
        assert (
            page.status_code == 200
            and "Nothing was sent" in page.content.decode()
            or ("no valid preview token" in page.content.decode())
        )
    # a token made for this timer does not charge another one of the same ticket
    other = (
        SyncroTimerEntry.objects.filter(connection=timer.connection, is_deleted=False)
        .exclude(pk=timer.pk)
        .filter(billable=True, recorded=False, active_duration__isnull=False)
        .first()
    )
    other_url = charge_url(other)
    page = client.post(other_url, {"token": token, "step": "confirm"}, **HX).content.decode()
    assert "made for another action, person or record" in page
    # a timer of another ticket under this ticket's URL, a missing one, an absurd one: 404
    wrong_ticket = reverse("billing:timer_charge", args=[timer.ticket_vendor_id, other.vendor_id])
    if other.ticket_vendor_id != timer.ticket_vendor_id:
        assert client.get(wrong_ticket).status_code == 404
    for bad in (999_999_999, 10**30):
        url = reverse("billing:timer_charge", args=[timer.ticket_vendor_id, bad])
        assert client.get(url).status_code == 404
        assert client.post(url, {"token": token, "step": "confirm"}).status_code == 404
    # another company's person cannot reach this company's timer
    assert world.client_for(world.outsider).get(charge_url(timer)).status_code in (403, 404)
    executor.run_until_settled()
    assert not VendorWrite.objects.exists() and charges(syncro, timer) == []


def test_bill_time_shows_the_uncharged_minutes_and_fills_nothing_by_itself(syncro, world, timer):
    ticket = ticket_of(timer)
    panel = timers.uncharged(ticket)
    assert panel.uncharged_minutes > 0
    client = world.client_for(world.tech)
    page = client.get(reverse("billing:draft_create", args=[ticket.vendor_id])).content.decode()
    assert f'data-fill-minutes="{panel.uncharged_minutes}"' in page
    assert "Use these minutes" in page and "billing/billing.js" in page
    minutes = re.search(r'<input[^>]*name="minutes"[^>]*>', page).group(0)
    assert "value=" not in minutes  # the minutes are not prefilled
    labor = re.search(r'<select[^>]*name="labor_type".*?</select>', page, re.S).group(0)
    assert "selected" not in labor.split("</option>", 1)[1]  # no labor type chosen
    # posting the minutes without a labor type is refused, and what was typed is kept
    data = {
        "minutes": panel.uncharged_minutes,
        "comment_subject": "Work",
        "comment_body": "Fixed it.",
        "visibility": "internal",
        "line_description": "Work",
    }
    refused = client.post(reverse("billing:draft_create", args=[ticket.vendor_id]), data)
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()
    assert f'value="{panel.uncharged_minutes}"' in refused.content.decode()


def test_bill_time_does_not_count_a_timer_being_charged(syncro, world, timer):
    ticket = ticket_of(timer)
    before = timers.uncharged(ticket).uncharged_seconds
    client = world.client_for(world.billing)
    preview = client.get(charge_url(timer), **HX).content.decode()
    client.post(charge_url(timer), {"token": token_in(preview), "step": "confirm"}, **HX)
    assert timers.uncharged(ticket).uncharged_seconds == before - timer.active_duration
