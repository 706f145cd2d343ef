"""Connect a vendor from the portal: the key is checked with the (in-process) sandbox before
anything is saved, a refused key keeps what was typed and shows the vendor's answer, success
saves the connection and its company key with their events and starts the first sync."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_q.conf import Conf

from accounts.models import Credential, CredentialEvent
from connectors.models import Connection, SyncRun
from connectors.sandbox import accounts as demo
from connectors.syncro.connect import parse_account
from connectors.syncro.models import SyncroTicket

WRONG = "sx-wrong-token-00000000"
CONNECT = reverse("connectors:connect", args=["syncro"])


@pytest.fixture
def sandboxed(settings):
    """The three vendors in-process; the descriptors' base-URL rules point at them."""
    from connectors.sandbox.config import SandboxConfig
    from connectors.sandbox.core import IN_PROCESS_BASE, Sandbox

    sandbox = Sandbox.create(
        seed=11, scale="small", clock_start="2026-11-02T09:00:00Z", config=SandboxConfig.unlimited()
    )
    settings.CONNECTORS_TRANSPORT = sandbox.transport()
    settings.SYNCRO_BASE_URL_TEMPLATE = IN_PROCESS_BASE + "/syncro/{account}/api/v1"
    settings.SYNCHROTEAM_BASE_URL = IN_PROCESS_BASE + "/synchroteam/api/v3"
    settings.FIELDCAMP_BASE_URL = IN_PROCESS_BASE + "/fieldcamp/api/v1"
    settings.CONNECTORS_ALLOWED_BASE_URLS = [IN_PROCESS_BASE]
    settings.SYNCRO_RATE_BUDGET_PER_MINUTE = 100_000
    settings.SYNCRO_RATE_LIMIT_PER_MINUTE = 100_000
    settings.SYNCRO_WRITE_RESERVE_PER_MINUTE = 10_000
    settings.SYNCRO_TENANT_READ_SHARE_PER_MINUTE = 100_000
    yield sandbox
    sandbox.close()


def _shared_token() -> str:
    return demo.syncro_user_by_id(demo.SYNCRO_SHARED_TOKEN_USER_ID).token


def test_the_second_companys_owner_connects_syncro_and_sees_the_identity_then_tickets(
    world, sandboxed, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(Conf, "SYNC", True)  # the first sync runs inline when enqueued
    client = world.client_for(world.outsider)
    page = client.get(reverse("connectors:integrations")).content.decode()
    assert CONNECT in page and "Connect Syncro" in page
    assert 'name="secret"' in client.get(CONNECT).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CONNECT, {"account": "demo", "secret": _shared_token()})
    connection = Connection.objects.get(tenant=world.other_tenant, vendor="syncro")
    assert response.status_code == 302
    assert response["Location"] == reverse("connectors:integrations")
    assert (connection.account, connection.base_url) == ("demo", "")  # the descriptor's rule
    page = client.get(reverse("connectors:integrations")).content.decode()
    assert "Authenticated as Michael Swanson (user_id=1735)" in page
    assert _shared_token() not in page
    key = Credential.objects.get(tenant=world.other_tenant, vendor="syncro", purpose="api")
    assert key.owner is None and key.verified_vendor_user_id == "1735"
    assert list(key.events.order_by("id").values_list("action", "actor")) == [
        ("created", world.outsider.pk),
        ("verified", world.outsider.pk),
    ]
    runs = SyncRun.objects.filter(connection=connection)
    assert runs.exists() and set(runs.values_list("mode", flat=True)) == {"full"}
    assert set(runs.values_list("status", flat=True)) == {"succeeded"}
    mirrored = SyncroTicket.objects.filter(tenant=world.other_tenant)
    assert mirrored.count() == sandboxed.store.counts_by_kind()["syncro.ticket"] > 0
    tickets = client.get(reverse("billing:ticket_list")).content.decode()
    assert mirrored.order_by("-vendor_updated_at").first().subject[:30] in tickets
    assert not SyncroTicket.objects.filter(tenant=world.tenant).exists()  # nobody else's


def test_a_wrong_token_is_refused_with_the_vendors_answer_and_the_form_keeps_the_subdomain(
    world, sandboxed
):
    response = world.client_for(world.outsider).post(CONNECT, {"account": "demo", "secret": WRONG})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Syncro refused this key" in body and "HTTP 401: Not authorized" in body
    assert 'value="demo"' in body
    assert WRONG not in body
    assert not Connection.objects.exists()
    assert not Credential.objects.filter(tenant=world.other_tenant).exists()
    assert not CredentialEvent.objects.exists()


def test_an_unknown_subdomain_says_the_vendor_has_no_api_there(world, sandboxed):
    response = world.client_for(world.outsider).post(
        CONNECT, {"account": "nosuchco", "secret": _shared_token()}
    )
    body = response.content.decode()
    assert "Syncro has no API at" in body and "HTTP 404: Account not found" in body
    assert 'value="nosuchco"' in body
    assert not Connection.objects.exists()


@pytest.mark.parametrize("role", ["tech", "billing", "dispatcher"])
def test_only_owners_and_admins_may_connect_a_vendor(world, sandboxed, role):
    client = world.client_for(getattr(world, role))
    assert client.get(CONNECT).status_code == 403
    assert client.post(CONNECT, {"account": "demo", "secret": _shared_token()}).status_code == 403
    assert "Connect Syncro" not in client.get(reverse("connectors:integrations")).content.decode()
    assert not Connection.objects.exists() and not Credential.objects.exists()
    assert sum(sandboxed.request_counts().values()) == 0


def test_an_unknown_vendor_is_a_404(world):
    client = world.client_for(world.outsider)
    assert client.get(reverse("connectors:connect", args=["quickbooks"])).status_code == 404
    assert client.get("/integrations/connect/%00/").status_code == 404


@pytest.mark.parametrize(
    "typed",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://127.0.0.1:9/syncro/demo/api/v1",
        "http://sandbox.invalid@evil.test/syncro/demo/api/v1",
        "ftp://demo.syncromsp.com/",
        "evil.test/#",
        "\x00\xff\ufffd",
        "a" * 300,
    ],
)
def test_an_account_or_base_url_off_the_allowed_hosts_is_refused_before_any_request(
    world, sandboxed, typed
):
    response = world.client_for(world.outsider).post(
        CONNECT, {"account": typed, "secret": _shared_token()}
    )
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert sum(sandboxed.request_counts().values()) == 0
    assert not Connection.objects.exists()


def test_a_typed_sandbox_base_url_is_kept_as_the_connections_base_url(world, sandboxed):
    url = "http://sandbox.invalid/syncro/demo/api/v1"
    response = world.client_for(world.outsider).post(
        CONNECT, {"account": url, "secret": _shared_token()}
    )
    assert response.status_code == 302
    connection = Connection.objects.get()
    assert (connection.account, connection.base_url, connection.api_base_url) == ("demo", url, url)


def test_connecting_again_rotates_the_company_key_and_records_each_change(world, sandboxed):
    client = world.client_for(world.outsider)
    client.post(CONNECT, {"account": "demo", "secret": _shared_token()})
    form = client.get(CONNECT).content.decode()
    assert "Change the Syncro key" in form and 'value="demo"' in form
    assert _shared_token() not in form
    winter = demo.syncro_user_by_id(1737).token
    assert client.post(CONNECT, {"account": "demo", "secret": winter}).status_code == 302
    assert Connection.objects.count() == 1
    key = Credential.objects.get(tenant=world.other_tenant, purpose="api")
    assert key.secret == winter and key.verified_identity == "Winter Reyes (user_id=1737)"
    assert list(key.events.order_by("id").values_list("action", flat=True)) == [
        "created",
        "verified",
        "rotated",
        "verified",
    ]
    assert all(winter not in e.detail for e in key.events.all())


def test_a_mirrored_account_cannot_be_swapped_for_another(world, sandboxed):
    from django.utils import timezone

    client = world.client_for(world.outsider)
    client.post(CONNECT, {"account": "demo", "secret": _shared_token()})
    connection = Connection.objects.get()
    from connectors.sync import ensure_streams

    ensure_streams(connection)
    connection.streams.update(last_success_at=timezone.now())
    response = client.post(CONNECT, {"account": "otherco", "secret": _shared_token()})
    assert "would mix two accounts" in response.content.decode()
    connection.refresh_from_db()
    assert connection.account == "demo"


def test_synchroteam_and_fieldcamp_connect_with_a_cheap_authenticated_read(world, sandboxed):
    client = world.client_for(world.outsider)
    st = client.post(
        reverse("connectors:connect", args=["synchroteam"]),
        {"account": demo.SYNCHROTEAM_DOMAIN, "secret": demo.SYNCHROTEAM_API_KEY},
    )
    assert st.status_code == 302
    key = Credential.objects.get(vendor="synchroteam", purpose="api")
    assert key.verified_identity.startswith(f"Domain {demo.SYNCHROTEAM_DOMAIN} (")
    refused = client.post(
        reverse("connectors:connect", args=["fieldcamp"]),
        {"account": "Field crew", "secret": "fc_live_wrong_0000", "webhook_secret": "whsec_x1"},
    )
    assert "FieldCamp refused this key" in refused.content.decode()
    assert 'value="Field crew"' in refused.content.decode()
    assert "whsec_x1" not in refused.content.decode()
    fc = client.post(
        reverse("connectors:connect", args=["fieldcamp"]),
        {"account": "", "secret": demo.FIELDCAMP_API_KEY, "webhook_secret": "whsec_new_123456"},
    )
    assert fc.status_code == 302
    hook = Credential.objects.get(vendor="fieldcamp", purpose="webhook")
    assert hook.secret == "whsec_new_123456" and hook.events.get().action == "created"
    assert Connection.objects.get(vendor="fieldcamp").account == "FieldCamp"
    assert set(Connection.objects.values_list("tenant", flat=True)) == {world.other_tenant.pk}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("acme", ("acme", "")),
        (" ACME ", ("acme", "")),
        ("acme.syncromsp.com", ("acme", "")),
        ("https://acme.syncromsp.com/api/v1", ("acme", "")),
        ("https://acme.syncromsp.com", ("acme", "")),
        (
            "http://127.0.0.1:8765/syncro/demo/api/v1/",
            ("demo", "http://127.0.0.1:8765/syncro/demo/api/v1"),
        ),
        ("http://127.0.0.1:8765/syncro/demo", ("demo", "http://127.0.0.1:8765/syncro/demo/api/v1")),
    ],
)
def test_the_syncro_account_field_follows_the_base_url_rule(typed, expected):
    assert parse_account(typed) == expected


@pytest.mark.parametrize("typed", ["", "a b", "-acme", "acme.com/x", "https://", "http://[::1"])
def test_the_syncro_account_field_refuses_what_is_not_a_subdomain(typed):
    with pytest.raises(ValueError):
        parse_account(typed)


def test_a_host_that_answers_but_not_as_the_vendor_is_refused_without_a_500(world, settings):
    import httpx

    from connectors.sandbox.core import IN_PROCESS_BASE

    settings.CONNECTORS_TRANSPORT = httpx.MockTransport(lambda r: httpx.Response(200, json=["?"]))
    settings.CONNECTORS_ALLOWED_BASE_URLS = [IN_PROCESS_BASE]
    response = world.client_for(world.outsider).post(
        CONNECT, {"account": IN_PROCESS_BASE + "/api/v1", "secret": _shared_token()}
    )
    assert response.status_code == 200
    assert "answered, but not as the Syncro API does" in response.content.decode()
    assert not Connection.objects.exists() and not Credential.objects.exists()


def test_another_companys_connection_is_neither_shown_nor_changed(
    world, syncro_connection, sandboxed
):
    """Other Co's owner connecting Syncro starts from an empty form, and a wrong key leaves
    the demo company's connection and key as they were."""
    client = world.client_for(world.outsider)
    form = client.get(CONNECT).content.decode()
    assert "Connect Syncro" in form and "Change the Syncro key" not in form
    assert "demo.syncromsp.com" not in form and 'value="demo"' not in form
    demo_key = Credential.objects.get(tenant=world.tenant)
    events = CredentialEvent.objects.count()
    refused = client.post(CONNECT, {"account": "demo", "secret": WRONG})
    assert "HTTP 401: Not authorized" in refused.content.decode()
    demo_key.refresh_from_db()
    assert demo_key.secret == "sx-test-shared-token-1" and demo_key.status == "active"
    assert CredentialEvent.objects.count() == events
    assert Connection.objects.get(tenant=world.tenant).base_url.startswith("https://demo.")


def test_the_typed_secrets_are_hidden_from_error_reports():
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory
    from django.views.debug import SafeExceptionReporterFilter

    from connectors import connect_views, key_views

    for view, fields in [
        (connect_views.vendor_connect_view, {"secret", "webhook_secret"}),
        (key_views.key_add, {"secret"}),
        (key_views.key_rotate, {"secret"}),
    ]:
        request = RequestFactory().post("/", {"secret": "s3cr3t-typed", "webhook_secret": "w"})
        request.user = AnonymousUser()
        assert view(request, "x").status_code == 302  # to the login page; the mark stays
        assert set(request.sensitive_post_parameters) == fields
        cleansed = SafeExceptionReporterFilter().get_post_parameters(request)
        assert "s3cr3t-typed" not in str(dict(cleansed))


def test_a_vendor_429_is_reported_at_once_and_pauses_the_scope(world, settings):
    import time

    import httpx

    from connectors.models import LimitState
    from connectors.sandbox.core import IN_PROCESS_BASE

    calls = []

    def busy(request):
        calls.append(request)
        return httpx.Response(429, headers={"Retry-After": "30"}, json={"error": "slow down"})

    settings.CONNECTORS_TRANSPORT = httpx.MockTransport(busy)
    settings.SYNCRO_BASE_URL_TEMPLATE = IN_PROCESS_BASE + "/syncro/{account}/api/v1"
    started = time.monotonic()
    response = world.client_for(world.outsider).post(
        CONNECT, {"account": "demo", "secret": _shared_token()}
    )
    assert time.monotonic() - started < 5  # no 30 s (or 60 s) sleep inside the request
    assert len(calls) == 1
    assert "request budget is in use right now" in response.content.decode()
    assert "try again in 30 s" in response.content.decode()
    assert LimitState.objects.get().blocked_until is not None  # workers wait too
    assert not Connection.objects.exists()


def test_a_full_budget_answers_at_once_instead_of_hanging(world, sandboxed, settings):
    from connectors import ratelimit

    settings.SYNCRO_RATE_BUDGET_PER_MINUTE = 1
    settings.SYNCRO_WRITE_RESERVE_PER_MINUTE = 0
    settings.CONNECTORS_VERIFY_MAX_WAIT_SECONDS = 0.5
    ratelimit.reset_buckets()
    client = world.client_for(world.outsider)
    assert client.post(CONNECT, {"account": "demo", "secret": _shared_token()}).status_code == 302
    again = client.post(CONNECT, {"account": "demo", "secret": _shared_token()})
    assert "request budget is in use right now" in again.content.decode()
    assert Credential.objects.get(purpose="api").events.count() == 2  # created, verified only
