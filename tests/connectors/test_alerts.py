"""Acceptance: each alert condition opens one alert and sends one e-mail, repeating the
evaluation adds nothing, and the alert clears itself when the condition does.

The conditions are produced the real way wherever the product has one: a fake Syncro that answers
400s and 401s, the in-process sandbox's Synchroteam daily quota and FieldCamp integrations, and
a Syncro line item the sandbox refuses. The evaluations run from the hooks at the end of a sync,
a write settling and a key check (``on_commit`` callbacks executed), not by calling `evaluate`
by hand, except where the test says so.
"""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import Credential
from connectors.alerts.models import Alert, AlertKind
from connectors.alerts.services import alert_snooze, email_kinds_save, evaluate, open_alerts
from connectors.demo import seed_connections
from connectors.models import LimitState
from connectors.sandbox import Sandbox, SandboxConfig
from connectors.services import connection_sync_now, connection_verify

from .fake_syncro import FakeSyncro

IN_PROCESS = "http://sandbox.invalid"


@pytest.fixture
def hooks(django_capture_on_commit_callbacks):
    """Run the code under test with its ``on_commit`` callbacks executed (the alert hooks)."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def sync_tickets(connection, fake):
    return connection_sync_now(connection, resources=["tickets"], transport=fake.transport())


def open_rows(tenant, kind=None):
    qs = Alert.objects.for_tenant(tenant).open()
    return list(qs.filter(kind=kind) if kind else qs)


def assert_repeat_changes_nothing(tenant, mailoutbox):
    rows, mails = Alert.objects.count(), len(mailoutbox)
    for _ in range(2):
        result = evaluate(tenant)
        assert result.opened == [] and result.cleared == [] and result.mailed == 0
    assert Alert.objects.count() == rows
    assert len(mailoutbox) == mails


# --- a stream fails three times in a row --------------------------------------------------------


def test_a_stream_that_fails_three_times_in_a_row_opens_one_alert_and_clears_on_success(
    world, syncro_connection, hooks, mailoutbox
):
    fake = FakeSyncro(10)
    for attempt in range(3):
        fake.queue.append(httpx.Response(400, json={"error": "Bad page parameter"}))
        [run] = hooks(sync_tickets, syncro_connection, fake)
        assert run.status == "failed"
        if attempt < 2:
            assert open_rows(world.tenant) == []
    [alert] = open_rows(world.tenant)
    assert alert.kind == AlertKind.STREAM_FAILING
    assert alert.key == f"stream:{syncro_connection.uuid}:tickets"
    assert "the last 3 syncs failed" in alert.message and "Bad page parameter" in alert.message
    assert alert.link == "/integrations/"
    [mail] = mailoutbox
    assert mail.to == [world.owner.email]  # managers get every kind; others not this one
    assert "Bad page parameter" in mail.body and "http://127.0.0.1:8000/integrations/" in mail.body
    assert_repeat_changes_nothing(world.tenant, mailoutbox)

    [run] = hooks(sync_tickets, syncro_connection, fake)
    assert run.status == "succeeded"
    alert.refresh_from_db()
    assert alert.cleared_at is not None and open_rows(world.tenant) == []
    assert len(mailoutbox) == 1  # clearing sends nothing


def test_paused_runs_do_not_break_a_run_of_failures_and_two_failures_are_not_three(
    world, syncro_connection, hooks
):
    fake = FakeSyncro(10)
    fake.queue += [httpx.Response(400, json={"error": "x"}) for _ in range(2)]
    hooks(sync_tickets, syncro_connection, fake)
    hooks(sync_tickets, syncro_connection, fake)
    assert open_rows(world.tenant) == []
    fake.queue.append(httpx.Response(429, headers={"Retry-After": "3600"}))
    [paused] = hooks(sync_tickets, syncro_connection, fake)
    assert paused.status == "paused"
    assert open_rows(world.tenant) == []  # a pause is neither a failure nor a success


# --- a stream has not succeeded for 24 hours -------------------------------------------------


def test_a_stream_with_no_success_for_24_hours_opens_an_alert_that_a_success_clears(
    world, syncro_connection, hooks, mailoutbox
):
    fake = FakeSyncro(10)
    [run] = hooks(sync_tickets, syncro_connection, fake)
    assert run.status == "succeeded" and open_rows(world.tenant) == []
    later = timezone.now() + dt.timedelta(hours=25)
    assert evaluate(world.tenant, now=later - dt.timedelta(hours=2)).opened == []
    result = evaluate(world.tenant, now=later)
    [alert] = result.opened
    assert alert.kind == AlertKind.STREAM_FAILING
    assert "no successful sync since" in alert.message
    assert len(mailoutbox) == 1
    assert evaluate(world.tenant, now=later + dt.timedelta(minutes=5)).opened == []
    assert len(mailoutbox) == 1 and Alert.objects.count() == 1
    # the worker comes back: a successful run at `later` clears it
    syncro_connection.streams.update(last_success_at=later)
    assert [a.pk for a in evaluate(world.tenant, now=later).cleared] == [alert.pk]


def test_a_stream_that_never_succeeded_alerts_24_hours_after_its_first_run(
    world, syncro_connection, hooks
):
    fake = FakeSyncro(10)
    fake.queue.append(httpx.Response(400, json={"error": "nope"}))
    hooks(sync_tickets, syncro_connection, fake)
    assert open_rows(world.tenant) == []
    [alert] = evaluate(world.tenant, now=timezone.now() + dt.timedelta(hours=25)).opened
    assert "no successful sync in the 24 hours since the first try" in alert.message


def test_a_disabled_connection_raises_nothing_and_its_alert_clears(world, syncro_connection, hooks):
    fake = FakeSyncro(10)
    fake.queue += [httpx.Response(400, json={"error": "x"}) for _ in range(3)]
    for _ in range(3):
        hooks(sync_tickets, syncro_connection, fake)
    assert len(open_rows(world.tenant)) == 1
    syncro_connection.enabled = False
    syncro_connection.save()
    assert len(evaluate(world.tenant).cleared) == 1


# --- the daily quota is spent ------------------------------------------------------------------


@pytest.fixture
def sandbox():
    sb = Sandbox.create(seed=7, scale="small", clock_start=timezone.now(), frozen=True,
                        config=SandboxConfig.unlimited())  # fmt: skip
    yield sb
    sb.close()


@pytest.fixture
def connections(world, sandbox):
    users = {u.email: u for u in (world.owner, world.billing, world.dispatcher, world.tech)}
    return {c.vendor: c for c in seed_connections(world.tenant, users, root=IN_PROCESS)}


def test_a_spent_daily_quota_opens_one_alert_with_the_reset_time_and_clears_after_it(
    world, sandbox, connections, settings, hooks, mailoutbox
):
    connection = connections["synchroteam"]
    settings.SYNCHROTEAM_QUOTA_RESERVE = 2
    sandbox.configure(synchroteam_daily_quota=10)
    runs = hooks(connection_sync_now, connection, mode="full", transport=sandbox.transport())
    paused = [r for r in runs if r.status == "paused"]
    assert paused and paused[0].error_kind == "quota"
    [alert] = open_rows(world.tenant)
    assert alert.kind == AlertKind.QUOTA_EXHAUSTED and alert.key == f"quota:{connection.uuid}"
    assert alert.resets_at == paused[0].resume_at > timezone.now()
    reset = f"{alert.resets_at:%H:%M} UTC"
    assert "daily request quota is spent" in alert.message and reset in alert.message
    [mail] = mailoutbox
    assert mail.to == [world.owner.email]
    assert f"resets at {reset}" in mail.body
    assert_repeat_changes_nothing(world.tenant, mailoutbox)

    # the vendor's day turns over, our resume time passes, the resumed sync completes
    sandbox.clock.advance(86400)
    state = LimitState.objects.get(quota_remaining__isnull=False)
    LimitState.objects.update(quota_reset_at=state.quota_reset_at - dt.timedelta(days=2))
    sandbox.configure(synchroteam_daily_quota=None)
    runs = hooks(
        connection_sync_now,
        connection,
        mode="full",
        transport=sandbox.transport(),
        trigger="resume",
    )
    assert all(r.status == "succeeded" for r in runs)
    alert.refresh_from_db()
    assert alert.cleared_at is not None and len(mailoutbox) == 1


def test_a_quota_alert_clears_once_the_reset_time_has_passed(
    world, sandbox, connections, settings, hooks
):
    settings.SYNCHROTEAM_QUOTA_RESERVE = 2
    sandbox.configure(synchroteam_daily_quota=10)
    hooks(connection_sync_now, connections["synchroteam"], mode="full",
          transport=sandbox.transport())  # fmt: skip
    [alert] = open_rows(world.tenant)
    after = alert.resets_at + dt.timedelta(seconds=1)
    assert [a.pk for a in evaluate(world.tenant, now=after).cleared] == [alert.pk]


# --- a credential fails verification or gets a 401 ---------------------------------------------


def test_a_key_that_fails_verification_opens_one_alert_and_a_working_key_clears_it(
    world, syncro_connection, hooks, mailoutbox
):
    fake = FakeSyncro(1)
    fake.queue.append(httpx.Response(401, json={"error": "Invalid API token"}))
    result = hooks(connection_verify, syncro_connection, transport=fake.transport())
    assert not result.ok
    [alert] = open_rows(world.tenant)
    cred = Credential.objects.get(vendor="syncro")
    assert alert.kind == AlertKind.CREDENTIAL_FAILING and alert.key == f"credential:{cred.uuid}"
    assert f"The shared Syncro key …{cred.fingerprint} was refused" in alert.message
    assert alert.link == "/integrations/"  # the company's key is changed on Integrations
    assert "Invalid API token" in alert.message and cred.secret not in alert.message
    [mail] = mailoutbox
    assert mail.to == [world.owner.email]  # a shared key: managers only
    assert cred.secret not in mail.body
    assert_repeat_changes_nothing(world.tenant, mailoutbox)

    cred.rotate("sx-test-shared-token-2", by=world.owner)
    assert hooks(connection_verify, syncro_connection, transport=fake.transport()).ok
    alert.refresh_from_db()
    assert alert.cleared_at is not None and len(mailoutbox) == 1


def test_a_persons_refused_key_links_to_my_vendor_keys(world, syncro_connection):
    from connectors.alerts.conditions import credential_failing

    cred = Credential.objects.create(
        tenant=world.tenant, vendor="syncro", owner=world.tech, label="Theo's", secret="sx-own-1"
    )
    cred.mark_failed(error="HTTP 401: Not authorized")
    [finding] = [f for f in credential_failing(world.tenant, None) if str(cred.uuid) in f.key]
    assert finding.link == "/integrations/keys/"


def test_a_401_during_a_sync_opens_the_key_alert(world, syncro_connection, hooks, mailoutbox):
    fake = FakeSyncro(5)
    fake.queue.append(httpx.Response(401, json={"error": "Not authorized."}))
    [run] = hooks(sync_tickets, syncro_connection, fake)
    assert (run.status, run.error_kind) == ("failed", "auth")
    [alert] = open_rows(world.tenant)
    assert alert.kind == AlertKind.CREDENTIAL_FAILING and "Not authorized." in alert.message
    assert len(mailoutbox) == 1


def test_a_persons_own_key_that_is_refused_alerts_that_person_and_the_managers(
    world, syncro_connection, hooks, mailoutbox
):
    Credential.create(
        tenant=world.tenant, vendor="syncro", label="Theo's", secret="sx-tech-token-99",
        owner=world.tech,
    )  # fmt: skip
    fake = FakeSyncro(1)
    fake.queue.append(httpx.Response(401, json={"error": "Not authorized."}))
    hooks(connection_verify, syncro_connection, user=world.tech, transport=fake.transport())
    [alert] = open_rows(world.tenant)
    assert alert.user_id == world.tech.pk and "Theo Tran's Syncro key" in alert.message
    [mail] = mailoutbox
    assert mail.to == sorted([world.owner.email, world.tech.email])
    assert [a.pk for a in open_alerts(world.tenant, world.tech)] == [alert.pk]
    assert open_alerts(world.tenant, world.billing) == []  # not billing's key, not a manager


# --- a write waits for a person ---------------------------------------------------------------


def test_a_write_the_vendor_refuses_opens_one_alert_and_cancelling_it_clears_it(
    world, settings, hooks, mailoutbox
):
    from connectors.outbox import executor
    from connectors.outbox.models import VendorWrite
    from connectors.outbox.plans import PlannedWrite
    from connectors.outbox.scenarios import plan_of
    from connectors.outbox.services import plan_enqueue, resolve_write
    from tests.conftest import syncro_on_sandbox

    sb, connection = syncro_on_sandbox(world, settings)
    try:
        with sb.client("syncro") as client:
            ticket = client.get("/tickets").json()["tickets"][0]
            product = client.get("/products").json()["products"][0]
        spec = PlannedWrite(
            "syncro.line_item.create",
            {"ticket_id": ticket["id"]},
            {"product_id": product["id"], "quantity": 1, "taxable": False},  # no name: 422
            "draft:alert:line_item",
        )
        with transaction.atomic():
            batch = plan_enqueue(plan_of(connection, [spec], user=world.billing), by=world.billing)
        hooks(executor.run_until_settled)
        write = batch.writes.get()
        assert write.state == VendorWrite.State.REJECTED
        [alert] = open_rows(world.tenant)
        assert alert.kind == AlertKind.WRITE_WAITING and alert.key == f"write:{write.uuid}"
        assert alert.link == f"/billing/writes/{write.uuid}/"
        assert "Name can't be blank" in alert.message and alert.user_id == world.billing.pk
        [mail] = mailoutbox
        assert mail.to == sorted([world.billing.email, world.owner.email])
        assert_repeat_changes_nothing(world.tenant, mailoutbox)

        hooks(resolve_write, write=write, by=world.billing, action="cancel", note="wrong ticket")
        alert.refresh_from_db()
        assert alert.cleared_at is not None and len(mailoutbox) == 1
    finally:
        sb.close()


# --- a FieldCamp integration is disconnected ----------------------------------------------


def test_a_disconnected_fieldcamp_integration_opens_one_alert_and_reconnecting_clears_it(
    world, sandbox, connections, hooks, mailoutbox
):
    connection = connections["fieldcamp"]

    def sync_integrations():
        return hooks(
            connection_sync_now, connection, resources=["sync_jobs"], transport=sandbox.transport()
        )

    assert [r.status for r in sync_integrations()] == ["succeeded"]
    assert open_rows(world.tenant) == []  # QuickBooks was never connected: not an alert
    sandbox.fieldcamp.set_connected("google-calendar", False)
    sync_integrations()
    [alert] = open_rows(world.tenant)
    assert alert.kind == AlertKind.INTEGRATION_DISCONNECTED
    assert alert.key == f"integration:{connection.uuid}:google-calendar"
    assert "Google Calendar is not connected" in alert.message
    assert alert.link == "/fieldcamp/"
    [mail] = mailoutbox
    assert mail.to == [world.owner.email]
    assert_repeat_changes_nothing(world.tenant, mailoutbox)

    sandbox.fieldcamp.set_connected("google-calendar", True)
    sync_integrations()
    alert.refresh_from_db()
    assert alert.cleared_at is not None and len(mailoutbox) == 1


# --- e-mail: who, once, never while snoozed, retried when the backend fails -------------------


def _three_failures(connection, hooks):
    fake = FakeSyncro(5)
    fake.queue += [httpx.Response(400, json={"error": "x"}) for _ in range(3)]
    for _ in range(3):
        hooks(sync_tickets, connection, fake)
    return fake


def test_a_problem_that_comes_back_while_snoozed_sends_no_e_mail(
    world, syncro_connection, hooks, mailoutbox
):
    fake = _three_failures(syncro_connection, hooks)
    [alert] = open_rows(world.tenant)
    alert_snooze(alert, duration="1d", by=world.owner)
    hooks(sync_tickets, syncro_connection, fake)  # a success clears it
    fake.queue += [httpx.Response(400, json={"error": "x"}) for _ in range(3)]
    for _ in range(3):
        hooks(sync_tickets, syncro_connection, fake)
    [again] = open_rows(world.tenant)
    assert again.pk != alert.pk and again.is_snoozed()
    assert len(mailoutbox) == 1  # only the first opening
    assert open_alerts(world.tenant, world.owner) == []


def test_members_who_turned_a_kind_off_get_no_e_mail_and_others_can_turn_it_on(
    world, syncro_connection, hooks, mailoutbox
):
    email_kinds_save(world.tenant, world.owner, [AlertKind.WRITE_WAITING])
    email_kinds_save(world.tenant, world.dispatcher, [AlertKind.STREAM_FAILING, "bogus"])
    _three_failures(syncro_connection, hooks)
    [mail] = mailoutbox
    assert mail.to == [world.dispatcher.email]


def test_nobody_subscribed_means_no_e_mail_but_the_alert_is_open(
    world, syncro_connection, hooks, mailoutbox
):
    email_kinds_save(world.tenant, world.owner, [])
    _three_failures(syncro_connection, hooks)
    assert len(open_rows(world.tenant)) == 1 and mailoutbox == []


def test_a_failing_e_mail_backend_is_retried_by_the_next_evaluation_and_sends_once(
    world, syncro_connection, hooks, mailoutbox, monkeypatch
):
    from django.core.mail import EmailMessage

    real_send = EmailMessage.send
    monkeypatch.setattr(EmailMessage, "send", lambda self, *a, **k: 1 / 0)
    _three_failures(syncro_connection, hooks)
    [alert] = open_rows(world.tenant)
    assert alert.email_due and mailoutbox == []
    monkeypatch.setattr(EmailMessage, "send", real_send)
    assert evaluate(world.tenant).mailed == 1
    assert evaluate(world.tenant).mailed == 0
    assert len(mailoutbox) == 1


def test_a_condition_that_raises_leaves_its_open_alerts_alone(
    world, syncro_connection, hooks, monkeypatch
):
    from connectors.alerts import conditions

    _three_failures(syncro_connection, hooks)
    [alert] = open_rows(world.tenant)

    def broken(tenant, now):
        raise RuntimeError("bug")

    kinds = [
        (k, broken if k == AlertKind.STREAM_FAILING else c) for k, c in conditions.registered()
    ]
    monkeypatch.setattr(conditions, "_CONDITIONS", kinds)
    result = evaluate(world.tenant)
    assert result.failed_kinds == {AlertKind.STREAM_FAILING} and result.cleared == []
    alert.refresh_from_db()
    assert alert.cleared_at is None


def test_another_tenants_problems_stay_in_that_tenant(world, syncro_connection, hooks):
    _three_failures(syncro_connection, hooks)
    assert evaluate(world.other_tenant).opened == []
    assert open_alerts(world.other_tenant, world.outsider) == []
    assert open_alerts(world.tenant, world.outsider) == []  # not a member


def test_two_evaluations_racing_open_one_row(world, syncro_connection, hooks):
    from django.db import IntegrityError

    from connectors.alerts import conditions, services

    _three_failures(syncro_connection, hooks)
    [alert] = open_rows(world.tenant)
    finding = conditions.Finding(alert.kind, alert.key, "same problem, second evaluation")
    assert services._open(world.tenant, finding, timezone.now()) is None  # the loser gives way
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(tenant=world.tenant, kind=alert.kind, key=alert.key, message="x")
    assert len(open_rows(world.tenant)) == 1


def test_the_schedule_evaluates_every_company(world, syncro_connection):
    from django_q.models import Schedule

    from connectors.alerts import tasks

    schedule = Schedule.objects.get(name="alerts:evaluate")
    assert schedule.func == "connectors.alerts.tasks.evaluate" and schedule.minutes == 5
    fake = FakeSyncro(5)
    fake.queue += [httpx.Response(400, json={"error": "x"}) for _ in range(3)]
    for _ in range(3):
        sync_tickets(syncro_connection, fake)  # on_commit hooks not run here
    assert open_rows(world.tenant) == []
    assert tasks.evaluate() == 1
    assert tasks.evaluate() == 0
    assert len(open_rows(world.tenant)) == 1


def test_times_in_the_message_and_the_e_mail_are_the_companys_local_time(
    world, sandbox, connections, settings, hooks, mailoutbox
):
    import zoneinfo

    world.tenant.time_zone = "America/Los_Angeles"
    world.tenant.save()
    settings.SYNCHROTEAM_QUOTA_RESERVE = 2
    sandbox.configure(synchroteam_daily_quota=10)
    hooks(connection_sync_now, connections["synchroteam"], mode="full",
          transport=sandbox.transport())  # fmt: skip
    [alert] = open_rows(world.tenant)
    local = alert.resets_at.astimezone(zoneinfo.ZoneInfo("America/Los_Angeles"))
    said = f"resets at {local:%H:%M} {local.tzname()} on {local:%d %b}"
    assert local.tzname() in ("PST", "PDT") and said in alert.message
    [mail] = mailoutbox
    assert said in mail.body
    opened = alert.opened_at.astimezone(local.tzinfo)
    assert f"Opened {opened:%d %b %Y %H:%M} {opened.tzname()}." in mail.body
