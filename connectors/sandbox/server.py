"""Serve the sandbox's WSGI app on loopback with real network faults.

A small HTTP/1.1 (keep-alive) front end on ``http.server.ThreadingHTTPServer``: one thread per
connection, so a response held back by ``timeout_after_commit`` does not block other clients.
It runs the WSGI app itself (rather than through ``wsgiref``) because it must act on the
app's ``X-Sandbox-Fault`` marker after the write was committed:

* ``timeout``: sleep ``seconds`` before answering (the client's read timeout fires first), then
  close the connection;
* ``reset``: set ``SO_LINGER {on, 0}`` and close without a byte, so the kernel sends a TCP RST
  (httpx raises ``RemoteProtocolError`` or ``ReadError``, both ``httpx.TransportError``);
* ``latency``: sleep, then answer normally.

``start_in_thread(sandbox)`` runs a server on an ephemeral port for tests and benchmarks.
"""

from __future__ import annotations

import io
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from .faults import FAULT_HEADER, parse_fault_header
from .web import reason


class SandboxHTTPServer(ThreadingHTTPServer):
    """Threaded HTTP/1.1 server for the sandbox's WSGI app that can answer with a TCP reset."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: Any, *, quiet: bool = True) -> None:
        self.app = app
        self.quiet = quiet
        self._resets: set[int] = set()
        self._resets_lock = threading.Lock()
        super().__init__(address, SandboxRequestHandler)

    def mark_reset(self, sock: socket.socket) -> None:
        """Close ``sock`` with a TCP RST (SO_LINGER 0) instead of a FIN when its request ends."""
        with self._resets_lock:
            self._resets.add(id(sock))

    def shutdown_request(self, request: Any) -> None:
        """Close the connection: abortively (RST) when marked, normally otherwise."""
        with self._resets_lock:
            reset = id(request) in self._resets
            self._resets.discard(id(request))
        if reset:
            # No shutdown(SHUT_WR): that would send a FIN before the RST.
            self.close_request(request)
            return
        super().shutdown_request(request)

    @property
    def base_url(self) -> str:
        """``http://host:port`` the server listens on."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class SandboxRequestHandler(BaseHTTPRequestHandler):
    """One keep-alive connection: runs the WSGI app and acts on its fault marker."""

    protocol_version = "HTTP/1.1"
    server_version = "FieldlineSandbox/1.0"
    disable_nagle_algorithm = True  # headers and body are two writes: avoid the 40 ms stall
    server: SandboxHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Access log to stderr, only when the server is not quiet."""
        if not self.server.quiet:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    def _environ(self, body: bytes) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        env: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "PATH_INFO": unquote(path, encoding="latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        if self.headers.get("Content-Type"):
            env["CONTENT_TYPE"] = self.headers["Content-Type"]
        for key, value in self.headers.items():
            name = "HTTP_" + key.upper().replace("-", "_")
            if name not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                env[name] = f"{env[name]},{value}" if name in env else value
        return env

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        captured: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> None:
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = headers

        chunks = self.server.app(self._environ(body), start_response)
        try:
            payload = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != FAULT_HEADER.lower()]
        marker = next(
            (v for k, v in captured["headers"] if k.lower() == FAULT_HEADER.lower()), None
        )
        kind, seconds = parse_fault_header(marker)
        if kind == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.server.mark_reset(self.connection)
            self.close_connection = True
            return
        if kind in ("timeout", "latency"):
            time.sleep(seconds)
        if kind == "timeout":
            self.close_connection = True
        try:
            self.send_response_only(captured["status"], reason(captured["status"]))
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Date", self.date_time_string())
            self.send_header("Server", self.server_version)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            self.wfile.flush()
        except OSError:  # the client gave up (timeout fault) or went away
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


def make_server(
    app: Any, host: str = "127.0.0.1", port: int = 8765, *, quiet: bool = True
) -> SandboxHTTPServer:
    """A (not yet serving) server for ``app`` on ``host:port``."""
    return SandboxHTTPServer((host, port), app, quiet=quiet)


def start_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> SandboxHTTPServer:
    """Serve ``app`` (a Sandbox's ``.app``) in a daemon thread; ``server.base_url`` tells where.
    Stop with ``server.shutdown(); server.server_close()``."""
    server = make_server(app, host, port)
    thread = threading.Thread(target=server.serve_forever, name="sandbox-server", daemon=True)
    thread.start()
    return server
