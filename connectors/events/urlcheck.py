"""Where outbound webhooks may go: no SSRF into the portal's own network.

An endpoint URL must be ``https://`` with a host name that resolves only to public addresses.
Loopback, private (RFC 1918, ULA), link-local (cloud metadata ``169.254.169.254``), multicast,
reserved and unspecified addresses are refused, and so is ``http://``, unless
``OUTBOUND_WEBHOOK_ALLOW_PRIVATE_HOSTS`` is on (tests and the demo run their receivers on
127.0.0.1). The check runs when the URL is saved and again before every attempt (DNS may have
changed); redirects are never followed. Source: OWASP SSRF Prevention Cheat Sheet.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class RefusedURL(ValueError):
    """The URL may not receive webhooks; the message says why (shown on the form)."""


def _addresses(host: str, port: int) -> list[str]:
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return [str(literal)]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise RefusedURL(f"The host {host} does not resolve.") from exc
    return sorted({info[4][0] for info in infos})


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, resolve: bool = True) -> str:
    """`url` cleaned (stripped), or `RefusedURL`.

    Args:
        resolve: look the host up and check every address (False: only the literal form).
    Raises:
        RefusedURL: not http(s), no host, credentials in the URL, http without the setting,
            or a host that is (or resolves to) a non-public address without the setting.
    """
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise RefusedURL("Enter a valid URL.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedURL("Enter an https:// URL with a host name.")
    if parts.username or parts.password:
        raise RefusedURL("Leave user names and passwords out of the URL; deliveries are signed.")
    allow_private = settings.OUTBOUND_WEBHOOK_ALLOW_PRIVATE_HOSTS
    if parts.scheme != "https" and not allow_private:
        raise RefusedURL("Use https:// (webhooks carry company data).")
    if allow_private:
        return url
    host = parts.hostname
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(
        ".localhost"
    ):
        raise RefusedURL("Local addresses cannot receive webhooks.")
    if not resolve:
        try:
            addresses = [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            return url
    else:
        addresses = _addresses(host, port)
    if not addresses or not all(_public(a) for a in addresses):
        raise RefusedURL(
            f"{host} is a private, loopback or link-local address; webhooks go to public hosts only."
        )
    return url
