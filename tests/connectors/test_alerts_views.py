"""The alerts pages: the header bell, the list with acknowledge and snooze, the e-mail settings;
tenant and role scoping (another company's alert is a 404), CSRF, odd input."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from connectors.alerts.models import Alert, AlertKind, AlertPreference
from connectors.alerts.services import open_alerts


def make_alert(tenant, kind=AlertKind.STREAM_FAILING, key=None, **fields) -> Alert:
    return Alert.objects.create(
        tenant=tenant,
        kind=kind,
        key=key or f"test:{uuid.uuid4()}",
        message=fields.pop("message", "Syncro · tickets: the last 3 syncs failed (latest: 500)."),
        link=fields.pop("link", "/integrations/"),
        **fields,
    )


def bell_count(html: str) -> str | None:
    match = re.search(r'id="alerts-bell".*?</a>', html, re.S)
    assert match, "no bell in the header"
    count = re.search(r'class="bell-count">(\d+)<', match.group(0))
    return count.group(1) if count else None


@pytest.fixture
def alert(world):
    return make_alert(world.tenant)


def test_the_bell_counts_open_unsnoozed_alerts_the_member_may_see(world, alert):
    make_alert(world.tenant, snoozed_until=timezone.now() + dt.timedelta(hours=1))
    make_alert(world.tenant, cleared_at=timezone.now())
    make_alert(world.tenant, kind=AlertKind.WRITE_WAITING)
    make_alert(world.other_tenant)
    home = reverse("home")
    assert bell_count(world.client_for(world.owner).get(home).content.decode()) == "2"
    assert bell_count(world.client_for(world.dispatcher).get(home).content.decode()) == "1"
    assert bell_count(world.client_for(world.billing).get(home).content.decode()) == "1"
    assert bell_count(world.client_for(world.tech).get(home).content.decode()) is None
    assert bell_count(world.client_for(world.outsider).get(home).content.decode()) == "1"


def test_signed_out_pages_have_no_bell(client):
    assert 'id="alerts-bell"' not in client.get(reverse("login")).content.decode()


def test_the_list_shows_open_snoozed_and_recently_cleared_alerts(world, alert):
    make_alert(world.tenant, message="Snoozed one", snoozed_until=timezone.now() + dt.timedelta(1))
    make_alert(world.tenant, message="Old news", cleared_at=timezone.now())
    make_alert(world.other_tenant, message="Other company's secret")
    body = world.client_for(world.owner).get(reverse("alerts:list")).content.decode()
    assert alert.message in body and "Snoozed one" in body and "Old news" in body
    assert "Other company" not in body
    assert reverse("alerts:acknowledge", args=[alert.uuid]) in body
    assert 'name="csrfmiddlewaretoken"' in body


def test_a_technician_does_not_see_the_companys_sync_alerts(world, alert):
    body = world.client_for(world.tech).get(reverse("alerts:list")).content.decode()
    assert alert.message not in body
    url = reverse("alerts:acknowledge", args=[alert.uuid])
    assert world.client_for(world.tech).post(url).status_code == 404


def test_acknowledging_records_who_and_keeps_the_first(world, alert):
    url = reverse("alerts:acknowledge", args=[alert.uuid])
    response = world.client_for(world.dispatcher).post(url)
    assert response.status_code == 302 and response["Location"] == reverse("alerts:list")
    world.client_for(world.owner).post(url)
    alert.refresh_from_db()
    assert alert.acknowledged_by == world.dispatcher and alert.acknowledged_at is not None
    page = world.client_for(world.owner).get(reverse("alerts:list")).content.decode()
    assert "acknowledged by Dana Diaz" in page


@pytest.mark.parametrize(("value", "hours"), [("1h", 1), ("1d", 24), ("1w", 168)])
def test_snoozing_hides_it_from_the_bell_for_that_long(world, alert, value, hours):
    client = world.client_for(world.owner)
    before = timezone.now()
    client.post(reverse("alerts:snooze", args=[alert.uuid]), {"duration": value})
    alert.refresh_from_db()
    expected = before + dt.timedelta(hours=hours)
    assert abs((alert.snoozed_until - expected).total_seconds()) < 5
    assert alert.snoozed_by == world.owner
    assert bell_count(client.get(reverse("home")).content.decode()) is None
    assert open_alerts(world.tenant, world.owner) == []


@pytest.mark.parametrize("value", ["", "2h", "1d; drop table", "\x00", "9" * 500])
def test_an_odd_snooze_value_is_refused_without_a_500(world, alert, value):
    client = world.client_for(world.owner)
    response = client.post(reverse("alerts:snooze", args=[alert.uuid]), {"duration": value})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.snoozed_until is None
    assert "Choose 1 hour, 1 day or 1 week." in client.get(reverse("alerts:list")).content.decode()


def test_htmx_snooze_answers_the_list_and_the_bell_out_of_band(world, alert):
    make_alert(world.tenant, message="Still open")
    client = world.client_for(world.owner)
    response = client.post(
        reverse("alerts:snooze", args=[alert.uuid]),
        {"duration": "1h"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and response["HX-Trigger"] == "alerts-changed"
    assert "<html" not in body and 'id="alerts-list"' in body
    assert 'hx-swap-oob="true"' in body and bell_count(body) == "1"
    assert "Snoozed until" in body


def test_another_companys_alert_is_a_404_for_list_acknowledge_and_snooze(world, alert):
    client = world.client_for(world.outsider)
    assert alert.message not in client.get(reverse("alerts:list")).content.decode()
    for name in ("alerts:acknowledge", "alerts:snooze"):
        response = client.post(reverse(name, args=[alert.uuid]), {"duration": "1h"})
        assert response.status_code == 404, name
    alert.refresh_from_db()
    assert alert.acknowledged_at is None and alert.snoozed_until is None


@pytest.mark.parametrize(
    "tail", ["not-a-uuid/acknowledge/", f"{uuid.uuid4()}/snooze/", "%00/snooze/"]
)
def test_unknown_or_malformed_ids_are_404(world, tail):
    response = world.client_for(world.owner).post(f"/alerts/{tail}", {"duration": "1h"})
    assert response.status_code == 404


def test_acknowledge_and_snooze_are_post_only_with_csrf(world, alert):
    client = world.client_for(world.owner)
    assert client.get(reverse("alerts:acknowledge", args=[alert.uuid])).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.owner)
    assert (
        strict.post(reverse("alerts:snooze", args=[alert.uuid]), {"duration": "1h"}).status_code
        == 403
    )
    alert.refresh_from_db()
    assert alert.snoozed_until is None


def test_signed_out_visitors_are_sent_to_sign_in(client, alert):
    response = client.get(reverse("alerts:list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


# --- e-mail settings ------------------------------------------------------------------------


def checked(html: str) -> set[str]:
    return set(re.findall(r'name="email_kinds" value="([a-z_]+)" checked', html))


def test_owners_default_to_every_kind_and_others_to_their_writes_and_keys(world):
    url = reverse("alerts:settings")
    assert checked(world.client_for(world.owner).get(url).content.decode()) == set(AlertKind.values)
    assert checked(world.client_for(world.tech).get(url).content.decode()) == {
        AlertKind.CREDENTIAL_FAILING,
        AlertKind.WRITE_WAITING,
    }


def test_saving_the_settings_keeps_the_choice_per_company(world):
    client = world.client_for(world.dispatcher)
    url = reverse("alerts:settings")
    response = client.post(
        url, {"email_kinds": [AlertKind.STREAM_FAILING, AlertKind.QUOTA_EXHAUSTED]}
    )
    assert response.status_code == 302
    pref = AlertPreference.objects.get(user=world.dispatcher, tenant=world.tenant)
    assert pref.email_kinds == [AlertKind.STREAM_FAILING, AlertKind.QUOTA_EXHAUSTED]
    assert checked(client.get(url).content.decode()) == set(pref.email_kinds)
    client.post(url, {})
    pref.refresh_from_db()
    assert pref.email_kinds == []
    assert not AlertPreference.objects.filter(tenant=world.other_tenant).exists()


def test_an_unknown_kind_is_refused_and_the_form_keeps_what_was_ticked(world):
    client = world.client_for(world.billing)
    response = client.post(
        reverse("alerts:settings"), {"email_kinds": [AlertKind.WRITE_WAITING, "<script>"]}
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'role="alert"' in body
    assert checked(body) == {AlertKind.WRITE_WAITING}  # the credential box was unticked
    assert "<script>" not in body
    assert not AlertPreference.objects.exists()


def test_open_alerts_for_the_morning_page(world, alert):
    write = make_alert(world.tenant, kind=AlertKind.WRITE_WAITING, user=world.tech)
    make_alert(world.tenant, cleared_at=timezone.now())
    assert {a.pk for a in open_alerts(world.tenant, world.owner)} == {alert.pk, write.pk}
    assert [a.pk for a in open_alerts(world.tenant, world.tech)] == [write.pk]
    assert [a.pk for a in open_alerts(world.tenant, world.billing)] == [write.pk]
    assert open_alerts(world.other_tenant, world.owner) == []


def test_the_settings_page_offers_only_kinds_the_person_can_receive(world):
    url = reverse("alerts:settings")
    tech = world.client_for(world.tech).get(url).content.decode()
    offered = set(re.findall(r'name="email_kinds" value="([a-z_]+)"', tech))
    assert offered == {AlertKind.CREDENTIAL_FAILING, AlertKind.WRITE_WAITING}
    assert "only your own keys" in tech and "only writes you asked for" in tech
    billing = world.client_for(world.billing).get(url).content.decode()
    assert "only writes you asked for" not in billing  # billing sees every write
    assert "only your own keys" in billing


def test_the_morning_card_counts_what_the_bell_counts_with_the_newest_first(world, rf):
    from connectors.alerts.home import alerts_card

    old = make_alert(world.tenant, message="Older problem")
    new = make_alert(world.tenant, kind=AlertKind.WRITE_WAITING, message="x" * 200, link="/w/")
    make_alert(world.tenant, snoozed_until=timezone.now() + dt.timedelta(hours=1))
    Alert.objects.filter(pk=old.pk).update(opened_at=timezone.now() - dt.timedelta(hours=1))
    request = rf.get("/")
    request.user, request.tenant = world.owner, world.tenant
    request.membership = world.owner.memberships.get(tenant=world.tenant)
    card = alerts_card(request)
    assert (card.key, card.count, card.url, card.attention) == ("alerts", 2, "/alerts/", True)
    assert card.items[0] == (f"A vendor write waits for a person: {'x' * 90}…", "/w/")
    assert card.items[1] == ("A sync keeps failing: Older problem", "/integrations/")
    request.user = world.tech
    request.membership = world.tech.memberships.get(tenant=world.tenant)
    assert alerts_card(request).count == 0 and not alerts_card(request).attention
    request.membership = None
    assert alerts_card(request) is None
    assert new.message in Alert.objects.values_list("message", flat=True)


def test_the_card_plugs_into_the_morning_page(world, syncro_connection, alert, monkeypatch):
    from accounts import home

    monkeypatch.setitem(home.CARDS, "alerts", "connectors.alerts.home.alerts_card")
    page = world.client_for(world.owner).get("/")
    cards = {c.key: c for c in page.context["cards"]}
    assert cards["alerts"].count == 1 and "Open alerts" in page.content.decode()
