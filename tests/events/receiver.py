"""A real HTTP receiver on 127.0.0.1 (a thread of this process) for outbound webhook tests:
the `receiver` fixture (import it into a test module or conftest to use it)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    headers: dict
    body: bytes


@dataclass
class Receiver:
    """What the server got (`requests`) and what it answers next (`statuses`, then 200)."""

    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    answer: bytes = b'{"ok": true}'


@pytest.fixture
def receiver(settings):
    settings.OUTBOUND_WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    settings.OUTBOUND_WEBHOOK_ENQUEUE = False
    settings.OUTBOUND_WEBHOOK_RETRY_BASE_SECONDS = 0
    state: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            rec = state["receiver"]
            rec.requests.append(Received(dict(self.headers.items()), self.rfile.read(length)))
            status = rec.statuses.pop(0) if rec.statuses else 200
            body = rec.answer if status < 300 else b"receiver exploded " + b"x" * 5000
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks/fieldline")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state["receiver"]
    server.shutdown()
    server.server_close()
