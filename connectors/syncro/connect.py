"""How the portal's "Connect Syncro" form reads its account field (`ConnectSpec.parse_account`).

Syncro accounts live at ``https://{subdomain}.syncromsp.com/api/v1`` (vendor-apis.md §1.2), so
the field takes the subdomain, the account's host name, or an API base URL. A URL on
``*.syncromsp.com`` comes back as its subdomain (the descriptor's base-URL rule then builds the
URL); any other URL (the sandbox: ``http://127.0.0.1:8765/syncro/demo/api/v1``) is returned as
the connection's base URL, and the shared code only accepts it on an allowed host.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

SYNCRO_HOST_SUFFIX = ".syncromsp.com"
API_PATH = "/api/v1"
#: a DNS label: what a Syncro subdomain can be (RFC 1035 §2.3.1, lower-cased)
LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def _subdomain(text: str) -> str:
    sub = text.strip().lower()
    if not LABEL.match(sub):
        raise ValueError(
            f"“{text[:80]}” is not a Syncro subdomain: use letters, digits and dashes, as in "
            "yourcompany for yourcompany.syncromsp.com."
        )
    return sub


def parse_account(text: str) -> tuple[str, str]:
    """``"acme"`` / ``"acme.syncromsp.com"`` / ``"https://acme.syncromsp.com/api/v1"`` ->
    ``("acme", "")``; another URL ``"http://host:8765/syncro/demo/api/v1"`` -> ``("demo",
    that URL ending in /api/v1)``.

    Raises:
        ValueError: empty, not a DNS label, or a URL that is not http(s) or has no host.
    """
    text = (text or "").strip()
    if not text:
        raise ValueError("Enter the Syncro subdomain (yourcompany) or the API base URL.")
    if "://" not in text:
        host = text.lower().rstrip("/")
        if host.endswith(SYNCRO_HOST_SUFFIX):
            host = host[: -len(SYNCRO_HOST_SUFFIX)]
        return _subdomain(host), ""
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        raise ValueError("That base URL cannot be read; paste it as https://….") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError("The base URL must start with https:// (or http:// for a sandbox).")
    if host.endswith(SYNCRO_HOST_SUFFIX):
        return _subdomain(host[: -len(SYNCRO_HOST_SUFFIX)]), ""
    path = parts.path.rstrip("/")
    if not path.endswith(API_PATH):
        path += API_PATH
    segments = [s for s in path.split("/") if s]
    account = segments[-3] if len(segments) >= 3 else host.split(".")[0]
    netloc = host if port is None else f"{host}:{port}"
    return _subdomain(account), f"{parts.scheme}://{netloc}{path}"
