"""No credential ever reaches a log line, including httpx's own request logging at DEBUG."""

from __future__ import annotations

import io
import logging
import logging.config

import httpx
import pytest
from django.conf import settings

from accounts.logging import redact
from accounts.models import Credential, Vendor

CANARY = "canary-5e1d7b2a9f4c8e3d"


@pytest.fixture
def portal_log_stream():
    """The portal's configured console handler (with its filter), writing into a buffer."""
    stream = io.StringIO()
    config = {**settings.LOGGING}
    config["handlers"] = {"console": {**settings.LOGGING["handlers"]["console"], "stream": stream}}
    config["loggers"] = {
        **settings.LOGGING["loggers"],
        "httpx": {"level": "DEBUG"},
        "httpcore": {"level": "DEBUG"},
    }
    config["root"] = {"handlers": ["console"], "level": "DEBUG"}
    logging.config.dictConfig(config)
    yield stream
    logging.config.dictConfig(settings.LOGGING)


def _vendor(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"ok": True})


def test_a_canary_key_in_a_logged_request_appears_in_no_log_output(
    world, caplog, portal_log_stream
):
    caplog.set_level(logging.DEBUG)
    cred = Credential.create(tenant=world.tenant, vendor=Vendor.SYNCRO, label="k", secret=CANARY)
    secret = Credential.objects.get(pk=cred.pk).secret  # decrypted, as a client would
    with httpx.Client(
        transport=httpx.MockTransport(_vendor), base_url="https://demo.syncromsp.com/api/v1"
    ) as client:
        client.get(
            "/tickets",
            params={"api_key": secret, "page": 2},
            headers={"Authorization": f"Bearer {secret}"},
        )
        client.get(f"/me?api_key={secret}")
    logging.getLogger("connectors.test").debug("calling with %s and %r", secret, {"token": secret})
    logging.getLogger("connectors.test").warning(
        "failed: %s",
        httpx.HTTPStatusError(
            f"401 for url https://x/api?api_key={secret}",
            request=httpx.Request("GET", "https://x"),
            response=httpx.Response(401),
        ),
    )
    try:
        raise RuntimeError(f"boom with {secret}")
    except RuntimeError:
        logging.getLogger("connectors.test").exception("unexpected")

    captured = caplog.text + portal_log_stream.getvalue()
    assert (
        "HTTP Request: GET https://demo.syncromsp.com/api/v1/tickets?api_key=[redacted]" in captured
    )
    assert CANARY not in captured
    assert CANARY[:12] not in captured
    assert "page=2" in captured  # the rest of the line survives
    assert "boom with [redacted]" in captured


def test_credential_patterns_are_redacted_even_before_a_secret_is_known():
    line = (
        "GET https://x.syncromsp.com/api/v1/me?page=1&api_key=ab12cd34ef56&x=1 "
        "Authorization: Bearer zz99yy88xx77ww66 key fc_live_9d2f10c52a0a"
    )
    out = redact(line)
    assert "ab12cd34ef56" not in out and "zz99yy88xx77ww66" not in out and "9d2f10c52a0a" not in out
    assert "page=1" in out and "&x=1" in out
