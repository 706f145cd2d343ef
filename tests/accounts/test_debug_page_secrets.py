"""No secret on Django's debug page or in an error report, whatever the variable's name.

Each code path that holds a decrypted (or just typed) vendor secret is made to fail after the
secret is in hand: the vendor transport raises, or a function called after decryption is
monkeypatched to raise. With ``DEBUG`` on, the page is requested through the test client with
``raise_request_exception=False`` and the technical 500 page must not contain the canary. The
canaries are fresh per test and not shaped like keys, so only the value-based scrubbing
(accounts/debug.py) can hide them; key-shaped strings are checked separately.
"""

from __future__ import annotations

import sys
import uuid

import httpx
import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils.html import escape
from django.views.debug import get_default_exception_reporter_filter, get_exception_reporter_class

from accounts.models import Credential, CredentialEvent, Vendor
from connectors.models import Connection
from connectors.sandbox.core import IN_PROCESS_BASE, vendor_base_url


class Boom(RuntimeError):
    """The failure injected after the secret is in hand."""


def _explode(request: httpx.Request) -> httpx.Response:
    raise Boom(f"injected failure sending {request.method} {request.url}")


def canary() -> str:
    """A fresh secret that no key-shape rule matches (so only its value can hide it)."""
    return f"cn~{uuid.uuid4().hex[:12]}~leak"


@pytest.fixture
def debug(settings, tmp_path):
    """DEBUG on, every vendor request raising `Boom`, base URLs on the in-process host, and a
    rate limiter of the test's own (no budget left over from other runs)."""
    settings.DEBUG = True
    settings.RATE_LIMIT_SQLITE_PATH = str(tmp_path / "ratelimit.sqlite")
    settings.CONNECTORS_TRANSPORT = httpx.MockTransport(_explode)
    settings.SYNCRO_BASE_URL_TEMPLATE = IN_PROCESS_BASE + "/syncro/{account}/api/v1"
    settings.SYNCHROTEAM_BASE_URL = IN_PROCESS_BASE + "/synchroteam/api/v3"
    settings.FIELDCAMP_BASE_URL = IN_PROCESS_BASE + "/fieldcamp/api/v1"
    settings.CONNECTORS_ALLOWED_BASE_URLS = [IN_PROCESS_BASE]
    get_default_exception_reporter_filter.cache_clear()
    yield settings
    get_default_exception_reporter_filter.cache_clear()


@pytest.fixture
def boom_in_factory(monkeypatch):
    """The client factory fails while the decrypted key is in its frame (and in the caller's
    ``secret``): `connectors.http.configured_transport` raises."""
    import connectors.http

    def configured_transport():
        raise Boom("injected failure while building the vendor client")

    monkeypatch.setattr(connectors.http, "configured_transport", configured_transport)


@pytest.fixture
def syncro(world, debug):
    """The demo company's Syncro connection with a shared key (a canary)."""
    connection = Connection.objects.create(
        tenant=world.tenant,
        vendor=Vendor.SYNCRO,
        account="demo",
        base_url=vendor_base_url("syncro", IN_PROCESS_BASE),
    )
    shared = canary()
    Credential.create(tenant=world.tenant, vendor=Vendor.SYNCRO, label="Shared", secret=shared)
    connection.shared_secret = shared
    return connection


def error_page(client, url: str, data: dict | None = None) -> str:
    """POST `url` and return the technical 500 page (asserting it is one)."""
    client.raise_request_exception = False
    response = client.post(url, data or {})
    body = response.content.decode()
    assert response.status_code == 500, body[:500]
    assert "Boom" in body and "Traceback" in body and "Local vars" in body
    return body


def assert_hidden(body: str, *secrets: str) -> None:
    for secret in secrets:
        for spelling in (secret, escape(secret), secret[3:-5]):
            assert spelling not in body, f"{spelling!r} is on the error page"


@pytest.mark.parametrize(
    "vendor, account, webhook",
    [("syncro", "demo", False), ("synchroteam", "demofield", False), ("fieldcamp", "Ops", True)],
)
def test_connecting_a_vendor_that_fails_shows_neither_typed_secret(
    world, debug, vendor, account, webhook
):
    key, hook = canary(), canary()
    data = {"account": account, "secret": key, **({"webhook_secret": hook} if webhook else {})}
    url = reverse("connectors:connect", args=[vendor])
    body = error_page(world.client_for(world.outsider), url, data)
    assert_hidden(body, key, hook)
    assert "secret" in body  # the POST section lists the field, its value hidden


def test_adding_my_key_that_fails_shows_no_secret(world, syncro):
    key = canary()
    body = error_page(
        world.client_for(world.tech),
        reverse("connectors:key_add", args=["syncro"]),
        {"secret": key},
    )
    assert_hidden(body, key, syncro.shared_secret)


def test_rotating_and_verifying_my_key_that_fail_show_no_secret(world, syncro):
    old, new = canary(), canary()
    mine = Credential.create(
        tenant=world.tenant, vendor=Vendor.SYNCRO, label="Mine", owner=world.tech, secret=old
    )
    client = world.client_for(world.tech)
    rotate = error_page(client, reverse("connectors:key_rotate", args=[mine.uuid]), {"secret": new})
    verify = error_page(client, reverse("connectors:key_verify", args=[mine.uuid]))
    assert_hidden(rotate + verify, old, new, syncro.shared_secret)


def test_verifying_the_company_connection_that_fails_shows_no_secret(
    world, syncro, boom_in_factory
):
    url = reverse("connectors:verify", args=[syncro.uuid])
    body = error_page(world.client_for(world.owner), url)
    assert "connection_client" in body and "make_http_client" in body  # frames holding it
    assert_hidden(body, syncro.shared_secret)


def test_the_calendars_page_whose_fieldcamp_call_fails_shows_no_key(world, debug, boom_in_factory):
    """A GET: the Calendars panel reads FieldCamp's status with the decrypted company key."""
    Connection.objects.create(
        tenant=world.tenant,
        vendor=Vendor.FIELDCAMP,
        account="Ops",
        base_url=vendor_base_url("fieldcamp", IN_PROCESS_BASE),
    )
    key = canary()
    Credential.create(tenant=world.tenant, vendor=Vendor.FIELDCAMP, label="FieldCamp", secret=key)
    client = world.client_for(world.dispatcher)
    client.raise_request_exception = False
    response = client.get(reverse("dispatch:calendars"))
    body = response.content.decode()
    assert response.status_code == 500 and "Boom" in body and "integration_panel" in body
    assert_hidden(body, key)


def _admin_form(world, secret: str) -> dict:
    return {
        "tenant": world.tenant.pk,
        "vendor": "synchroteam",
        "purpose": "api",
        "owner": "",
        "label": "Field key",
        "status": "active",
        "new_secret": secret,
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
    }


def test_the_admin_credential_form_that_fails_after_encrypting_shows_no_secret(
    world, debug, monkeypatch
):
    world.owner.is_staff = True
    world.owner.save()
    first, rotated = canary(), canary()

    def record(*args, **kwargs):
        raise Boom("injected failure after the secret was set")

    client = world.client_for(world.owner)
    monkeypatch.setattr(CredentialEvent, "record", record)
    added = error_page(client, "/admin/accounts/credential/add/", _admin_form(world, first))
    monkeypatch.undo()
    cred = Credential.create(
        tenant=world.tenant, vendor="synchroteam", label="Field key", secret=first
    )
    monkeypatch.setattr(CredentialEvent, "record", record)
    url = f"/admin/accounts/credential/{cred.pk}/change/"
    changed = error_page(client, url, _admin_form(world, rotated))
    assert_hidden(added + changed, first, rotated)


def test_a_secret_under_an_innocent_name_and_in_the_message_is_hidden(world, syncro, monkeypatch):
    """No decorator anywhere: the frame holds the decrypted key as `note` and the exception's
    message repeats it; even with the decrypt registry empty, the company's credentials are
    known to the filter."""
    import accounts.debug
    import connectors.views

    def leaky(connection, **kwargs):
        note = Credential.objects.get(tenant=connection.tenant).secret
        raise Boom(f"vendor said no to {note}")

    monkeypatch.setattr(connectors.views, "connection_verify", leaky)
    monkeypatch.setattr(accounts.debug, "registered_secrets", frozenset)
    body = error_page(
        world.client_for(world.owner), reverse("connectors:verify", args=[syncro.uuid])
    )
    assert "note" in body and "leaky" in body
    assert_hidden(body, syncro.shared_secret)


def test_key_shaped_strings_are_hidden_whatever_their_name(world, syncro, monkeypatch):
    import connectors.views

    shaped = {
        "sandbox": "sx-unregistered-" + uuid.uuid4().hex[:10],
        "fieldcamp": "fc_live_" + uuid.uuid4().hex,
        "long": uuid.uuid4().hex + uuid.uuid4().hex[:8],
        "bearer": "Bearer tok" + uuid.uuid4().hex[:16],
        "basic": "Basic " + uuid.uuid4().hex[:12],
    }

    def leaky(connection, **kwargs):
        header = {"Authorization": shaped["bearer"], "X-Api-Key": "k" + shaped["long"][:20]}
        basic = {"authorization": shaped["basic"]}
        blob = f"{shaped['sandbox']} {shaped['fieldcamp']} {shaped['long']}"
        raise Boom(f"refused {header} {basic} {blob}")

    monkeypatch.setattr(connectors.views, "connection_verify", leaky)
    body = error_page(
        world.client_for(world.owner), reverse("connectors:verify", args=[syncro.uuid])
    )
    assert "header" in body and "blob" in body
    assert_hidden(
        body,
        *shaped.values(),
        shaped["bearer"].split()[1],
        shaped["basic"].split()[1],
        "k" + shaped["long"][:20],
    )
    assert str(syncro.uuid) in body  # identifiers are not keys: the page stays useful


@pytest.mark.parametrize("path", ["sync", "outbox"])
def test_a_worker_error_report_from_a_decrypted_key_holds_no_secret(
    world, syncro, boom_in_factory, path
):
    """Outside a request (a sync's `connection_client`, an outbox write's `client_for_write`):
    the report an error e-mail carries."""
    from connectors.outbox import executor
    from connectors.services import connection_client

    def build():
        if path == "sync":
            return connection_client(syncro, gate=False)
        credential = Credential.objects.get(tenant=world.tenant, vendor=Vendor.SYNCRO)
        write = type("Write", (), {"credential": credential, "connection": syncro})()
        return executor.client_for_write(write)

    try:
        build()
    except Boom:
        reporter = get_exception_reporter_class(None)(None, *sys.exc_info(), is_email=True)
        text, html = reporter.get_traceback_text(), reporter.get_traceback_html()
    assert "make_http_client" in text and "Boom" in text
    assert_hidden(text + html, syncro.shared_secret)


def test_djangos_stock_reporter_would_have_shown_the_secret(world, syncro, settings):
    """The same failure with Django's own filter and reporter leaks the canary: the tests above
    can fail."""
    settings.DEFAULT_EXCEPTION_REPORTER_FILTER = "django.views.debug.SafeExceptionReporterFilter"
    settings.DEFAULT_EXCEPTION_REPORTER = "django.views.debug.ExceptionReporter"
    get_default_exception_reporter_filter.cache_clear()
    key = canary()
    url = reverse("connectors:key_add", args=["syncro"])
    body = error_page(world.client_for(world.tech), url, {"secret": key})
    assert key in body


def test_the_filter_keeps_request_data_useful(world, debug):
    """Ordinary values stay readable; sensitive names are starred even with DEBUG on."""
    request = RequestFactory().post("/x/", {"note": "hello there", "secret": canary()})
    request.sensitive_post_parameters = ["secret"]
    post = get_default_exception_reporter_filter().get_post_parameters(request)
    assert post["note"] == "hello there"
    assert post["secret"] == "********************"


def test_a_secret_with_html_characters_is_hidden_in_its_escaped_spelling():
    from accounts.debug import scrub

    secret = "a<b&c\"d'e\\f~" + uuid.uuid4().hex[:6]
    page = f"<pre>{escape(secret)}</pre><td>{escape(repr(secret))}</td> {secret}"
    cleaned = scrub(page, frozenset({secret}))
    for spelling in (secret, escape(secret), repr(secret)[1:-1], escape(repr(secret)[1:-1])):
        assert spelling not in cleaned
    assert cleaned.startswith("<pre>[redacted]</pre>")
