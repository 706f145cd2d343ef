"""``SandboxTransport``: mount the sandbox in-process under an ``httpx.Client``.

It wraps ``httpx.WSGITransport`` and turns the sandbox's network-fault markers (the
``X-Sandbox-Fault`` response header, see ``faults.py``) into the exceptions a real client sees
over a socket, *after* the write was committed:

* ``timeout`` -> ``httpx.ReadTimeout`` (the response never arrives in time)
* ``reset``   -> ``httpx.ReadError`` ("[Errno 104] Connection reset by peer"), which is what
  httpx raises when the loopback server answers with a TCP RST (measured; a FIN instead would
  give ``RemoteProtocolError``; both are ``httpx.TransportError``)
* ``latency`` -> a real ``time.sleep`` of the added seconds, or ``httpx.ReadTimeout`` when they
  exceed the request's read timeout

Usage::

    client = httpx.Client(base_url="http://sandbox.invalid/syncro/demo/api/v1",
                          transport=SandboxTransport(sandbox.app))
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from .faults import FAULT_HEADER, parse_fault_header


class SandboxTransport(httpx.BaseTransport):
    """An httpx transport over the sandbox's WSGI app.

    ``client_addr`` is the REMOTE_ADDR the sandbox sees (Syncro limits per address).
    ``wait_on_timeout``: sleep for the request's read timeout before raising ReadTimeout (off
    by default to keep tests fast).
    """

    def __init__(
        self,
        app: Callable[..., Any],
        *,
        client_addr: str = "127.0.0.1",
        wait_on_timeout: bool = False,
    ) -> None:
        self._wsgi = httpx.WSGITransport(app=app, remote_addr=client_addr)
        self.wait_on_timeout = wait_on_timeout

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` to the app; raise or sleep as its fault marker says."""
        response = self._wsgi.handle_request(request)
        kind, seconds = parse_fault_header(response.headers.get(FAULT_HEADER))
        if kind is None:
            return response
        read_timeout = (request.extensions.get("timeout") or {}).get("read")
        if kind == "timeout":
            if self.wait_on_timeout and read_timeout:
                time.sleep(min(read_timeout, seconds))
            raise httpx.ReadTimeout("The read operation timed out", request=request)
        if kind == "reset":
            raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
        if kind == "latency":
            if read_timeout is not None and seconds > read_timeout:
                time.sleep(read_timeout)
                raise httpx.ReadTimeout("The read operation timed out", request=request)
            time.sleep(seconds)
        headers = [
            (k, v) for k, v in response.headers.multi_items() if k.lower() != FAULT_HEADER.lower()
        ]
        response.read()
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=response.content,
            request=request,
            extensions=response.extensions,
        )

    def close(self) -> None:
        """Close the wrapped WSGI transport."""
        self._wsgi.close()
