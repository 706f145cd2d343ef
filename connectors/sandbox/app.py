"""The sandbox's WSGI application: request/response types, the per-vendor base class and router,
the dispatch pipeline (faults -> auth -> limits -> handler + ledger -> after-commit faults) and
the sandbox-only control endpoints under ``/_sandbox/``.

URL layout (the contract in ``accounts.py``)::

    /syncro/{subdomain}/api/v1/...   Syncro (subdomain "demo")
    /synchroteam/api/v3/...          Synchroteam v3 (paths case-insensitive, as the vendor's)
    /fieldcamp/api/v1/...            FieldCamp v1
    /_sandbox/...                    control and inspection (no auth; sandbox only)
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from .faults import BEFORE_COMMIT, FAULT_HEADER, FaultDecision

if TYPE_CHECKING:
    from .core import Sandbox

REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class SandboxConfig:
    """Every limit and tunable of the emulation. ``None`` disables a limit.

    Change at run time through ``Sandbox.configure(**changes)`` or ``PATCH /_sandbox/config``.
    """

    # Syncro: 180 requests/min per IP address (spec info.description); Retry-After unverified
    # (vendor-apis.md §1.3), so it is a switch.
    syncro_rate_limit_per_minute: int | None = 180
    syncro_retry_after: bool = False
    # Page sizes per endpoint (vendor-apis.md §1.4: the spec says 25, a live test saw 50 for
    # tickets, 25 for invoices, 100 for ticket_timers; meta examples say customers 100, contacts 50).
    syncro_page_sizes: dict[str, int] = field(
        default_factory=lambda: {
            "tickets": 50,
            "invoices": 25,
            "ticket_timers": 100,
            "customers": 100,
            "contacts": 50,
            "products": 25,
            "comments": 10,
            "line_items": 100,
        }
    )
    syncro_comments_max_per_page: int = 100
    syncro_tax_rate: float = 0.0825
    # Synchroteam: ~1000/min and ~15 000/day per token (seed 000, "Technical Specifications").
    synchroteam_rate_limit_per_minute: int | None = 1000
    synchroteam_daily_quota: int | None = 15000
    synchroteam_default_page_size: int = 25
    synchroteam_max_page_size: int = 100
    # FieldCamp: per-key limit with X-RateLimit-* (vendor-apis.md §3.4; numbers unverified, the
    # only ones found are 100/min).
    fieldcamp_rate_limit_per_minute: int | None = 100
    fieldcamp_default_page_size: int = 50
    fieldcamp_max_page_size: int = 100
    # FieldCamp sync jobs: seconds (sandbox clock) spent queued and running, and failure odds.
    fieldcamp_sync_queued_seconds: float = 2.0
    fieldcamp_sync_running_seconds: dict[str, float] = field(
        default_factory=lambda: {
            "google-calendar": 8.0,
            "outlook-calendar": 8.0,
            "quickbooks": 30.0,
        }
    )
    fieldcamp_sync_failure_rate: float = 0.1
    # Default hold for the timeout_after_commit fault (longer than any sane client timeout).
    timeout_delay_seconds: float = 65.0

    @classmethod
    def unlimited(cls, **changes: Any) -> SandboxConfig:
        """No rate limits or quotas (handy for sync tests that page through everything)."""
        cfg = cls(
            syncro_rate_limit_per_minute=None,
            synchroteam_rate_limit_per_minute=None,
            synchroteam_daily_quota=None,
            fieldcamp_rate_limit_per_minute=None,
        )
        return cfg.replace(**changes)

    def replace(self, **changes: Any) -> SandboxConfig:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown sandbox settings: {sorted(unknown)}")
        data = asdict(self)
        data.update(changes)
        return SandboxConfig(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class BadJSON(Exception):
    """The request body is not JSON (answered with the vendor's 400)."""


class Request:
    """A parsed WSGI request. ``path`` is vendor-relative once dispatched."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ
        self.method: str = environ.get("REQUEST_METHOD", "GET").upper()
        raw_path = environ.get("PATH_INFO", "") or "/"
        self.full_path: str = raw_path.encode("latin-1").decode("utf-8", errors="replace")
        self.path: str = self.full_path
        self.query_string: str = environ.get("QUERY_STRING", "")
        self.query: dict[str, list[str]] = parse_qs(self.query_string, keep_blank_values=True)
        self.headers: dict[str, str] = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            self.headers["content-type"] = environ["CONTENT_TYPE"]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        stream = environ.get("wsgi.input")
        self.body: bytes = stream.read(length) if (stream is not None and length > 0) else b""
        self.client: str = environ.get("REMOTE_ADDR", "") or "unknown"
        self.params: dict[str, str] = {}
        self._json: Any = ...

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        """All values of ``name`` and of Rails-style ``name[]``."""
        return self.query.get(name, []) + self.query.get(name + "[]", [])

    def json(self) -> Any:
        """The JSON body (``{}`` when empty). Raises :class:`BadJSON` when it is not JSON."""
        if self._json is ...:
            try:
                self._json = json.loads(self.body) if self.body.strip() else {}
            except ValueError as exc:
                raise BadJSON(str(exc)) from exc
        return self._json

    @property
    def is_write(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), None)

    def json(self) -> Any:
        return json.loads(self.body)


def json_response(obj: Any, status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> Response:
    body = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(status, body, [("Content-Type", "application/json; charset=utf-8"), *headers])


def raw_json_response(body: str, status: int = 200) -> Response:
    return Response(status, body.encode(), [("Content-Type", "application/json; charset=utf-8")])


def text_response(
    text: str, status: int, content_type: str = "text/plain; charset=utf-8"
) -> Response:
    return Response(status, text.encode(), [("Content-Type", content_type)])


class Reply(Exception):
    """Raise from a handler to answer ``response`` (the handler's writes are rolled back)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


Handler = Callable[[Any, "Ctx"], Response]


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    """Mark a Vendor method as the handler of ``METHOD pattern`` (``{name}`` = one segment)."""

    def mark(fn: Handler) -> Handler:
        fn.__dict__.setdefault("_routes", []).append((method.upper(), pattern))
        return fn

    return mark


@dataclass
class Ctx:
    """What a handler gets: the sandbox, the request, the authenticated principal, and a list
    of the records it touched (for the ledger)."""

    sandbox: Sandbox
    req: Request
    principal: Any
    touched: list[dict[str, Any]] = field(default_factory=list)

    @property
    def store(self):  # noqa: ANN201 - Store, avoided import cycle in annotations
        return self.sandbox.store

    @property
    def config(self) -> SandboxConfig:
        return self.sandbox.config

    def now(self) -> datetime:
        return self.sandbox.clock.now()

    def touch(self, kind: str, id: int, op: str) -> None:
        self.touched.append({"kind": kind, "id": id, "op": op})


class Vendor:
    """Base class of one emulated vendor (subclassed in ``connectors/<vendor>/sandbox.py``)."""

    name = ""
    case_insensitive = False
    _routes: list[tuple[str, re.Pattern[str], str]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table: list[tuple[str, re.Pattern[str], str]] = []
        for attr, fn in vars(cls).items():
            for method, pattern in getattr(fn, "_routes", []):
                regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "/?$"
                flags = re.IGNORECASE if cls.case_insensitive else 0
                table.append((method, re.compile(regex, flags), attr))
        cls._routes = table

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    # --- hooks each vendor overrides ---------------------------------------------------------
    def authenticate(self, req: Request) -> tuple[Any, str] | Response:
        """Return ``(principal, ledger label)`` or an error Response."""
        raise NotImplementedError

    def check_limits(
        self, req: Request, principal: Any
    ) -> tuple[Response | None, list[tuple[str, str]]]:
        """Return ``(429 response or None, headers to add to every response)``."""
        return None, []

    def too_many_requests(self, req: Request) -> Response:
        return text_response("Too Many Requests", 429)

    def not_found(self, req: Request) -> Response:
        return json_response({"error": "Not found"}, 404)

    def method_not_allowed(self, req: Request) -> Response:
        return json_response({"error": "Method not allowed"}, 405)

    def bad_json(self, req: Request) -> Response:
        return json_response({"error": "Invalid JSON"}, 400)

    def error_page(self, status: int) -> Response:
        """What an injected 5xx looks like: a JSON 500 from the app, HTML 502/503/504 from the
        proxy in front of it."""
        if status == 500:
            return json_response({"status": 500, "error": "Internal Server Error"}, 500)
        reason = REASONS.get(status, "Error")
        html = (
            f"<html><head><title>{status} {reason}</title></head><body><center><h1>{status} "
            f"{reason}</h1></center><hr><center>nginx</center></body></html>"
        )
        return text_response(html, status, "text/html")

    def reset_limits(self) -> None:
        """Forget rate-limit and quota counters."""

    # --- routing -----------------------------------------------------------------------------
    def match(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], bool]:
        """(bound handler, path params, path exists for another method)."""
        exists = False
        for m, regex, attr in self._routes:
            found = regex.match(path)
            if not found:
                continue
            if m == method:
                return getattr(self, attr), found.groupdict(), True
            exists = True
        return None, {}, exists

    def routes(self) -> list[tuple[str, str]]:
        out = []
        for m, regex, _attr in self._routes:
            pattern = regex.pattern[1:].removesuffix("/?$")
            out.append((m, re.sub(r"\(\?P<(\w+)>\[\^/\]\+\)", r"{\1}", pattern)))
        return out


_PREFIXES = (
    ("syncro", re.compile(r"^/syncro/(?P<sub>[^/]+)/api/v1(?P<rest>/.*)?$")),
    ("synchroteam", re.compile(r"^/synchroteam/api/v3(?P<rest>/.*)?$", re.IGNORECASE)),
    ("fieldcamp", re.compile(r"^/fieldcamp/api/v1(?P<rest>/.*)?$")),
)


class SandboxApp:
    """The WSGI callable for all three vendors plus ``/_sandbox/``."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        req = Request(environ)
        resp = self.handle(req)
        headers = list(resp.headers)
        headers.append(("Content-Length", str(len(resp.body))))
        start_response(f"{resp.status} {REASONS.get(resp.status, 'Status')}", headers)
        return [resp.body] if req.method != "HEAD" else [b""]

    def handle(self, req: Request) -> Response:
        if req.full_path.startswith("/_sandbox"):
            from .control import handle_control

            return handle_control(self.sandbox, req)
        for vendor_name, regex in _PREFIXES:
            found = regex.match(req.full_path)
            if found:
                vendor = self.sandbox.vendors[vendor_name]
                req.path = found.group("rest") or "/"
                req.params = {k: v for k, v in found.groupdict().items() if k != "rest"}
                return self.dispatch(vendor, req)
        return text_response("No such sandbox route. Try /_sandbox/", 404)

    def dispatch(self, vendor: Vendor, req: Request) -> Response:
        sb = self.sandbox
        sb.count_request(vendor.name)
        match_path = req.path.lower() if vendor.case_insensitive else req.path
        decision = sb.faults.decide(vendor.name, req.method, match_path)
        principal_label: str | None = None
        touched: list[dict[str, Any]] = []
        handler_status: int | None = None
        with sb.store.lock:
            if decision.action in BEFORE_COMMIT:
                if decision.action == "rate_limit_burst":
                    resp = vendor.too_many_requests(req)
                else:
                    resp = vendor.error_page(decision.status or 503)
            else:
                resp, principal_label, touched = self._run(vendor, req)
                handler_status = resp.status
                resp = self._after_commit(vendor, decision, resp)
            if req.is_write:
                sb.ledger.record(
                    at=sb.now_iso(),
                    vendor=vendor.name,
                    method=req.method,
                    path=req.path,
                    query=req.query_string,
                    body=req.body,
                    auth=principal_label,
                    client=req.client,
                    status=resp.status,
                    handler_status=handler_status,
                    fault=decision.label,
                    records=touched,
                )
        return resp

    def _run(
        self, vendor: Vendor, req: Request
    ) -> tuple[Response, str | None, list[dict[str, Any]]]:
        auth = vendor.authenticate(req)
        if isinstance(auth, Response):
            return auth, None, []
        principal, label = auth
        limited, limit_headers = vendor.check_limits(req, principal)
        if limited is not None:
            return limited, label, []
        handler, params, exists = vendor.match(req.method, req.path)
        if handler is None:
            resp = vendor.method_not_allowed(req) if exists else vendor.not_found(req)
            resp.headers.extend(limit_headers)
            return resp, label, []
        req.params.update(params)
        ctx = Ctx(self.sandbox, req, principal)
        try:
            with self.sandbox.store.transaction():
                resp = handler(ctx)
        except Reply as reply:
            resp = reply.response
            ctx.touched.clear()
        except BadJSON:
            resp = vendor.bad_json(req)
            ctx.touched.clear()
        resp.headers.extend(limit_headers)
        return resp, label, ctx.touched

    def _after_commit(self, vendor: Vendor, decision: FaultDecision, resp: Response) -> Response:
        cfg = self.sandbox.config
        action = decision.action
        if action == "error_after_commit":
            resp = vendor.error_page(decision.status or 500)
        elif action == "malformed_json":
            resp = Response(
                200, b'{"ok": true, ' + resp.body[:40] + b" <!-- upstream -->", resp.headers
            )
        elif action == "truncated_json":
            resp = Response(200, resp.body[: max(len(resp.body) // 2, 1)], resp.headers)
        elif action == "timeout_after_commit":
            seconds = (
                decision.seconds if decision.seconds is not None else cfg.timeout_delay_seconds
            )
            resp.headers.append((FAULT_HEADER, f"timeout; seconds={seconds:g}"))
        elif action == "reset_after_commit":
            resp.headers.append((FAULT_HEADER, "reset"))
        if decision.latency and action not in ("timeout_after_commit", "reset_after_commit"):
            resp.headers.append((FAULT_HEADER, f"latency; seconds={decision.latency:g}"))
        return resp


def parse_fault_header(value: str | None) -> tuple[str | None, float]:
    """``("timeout", 65.0)``, ``("reset", 0.0)``, ``("latency", 0.5)`` or ``(None, 0.0)``."""
    if not value:
        return None, 0.0
    kind, _, rest = value.partition(";")
    seconds = 0.0
    if "seconds=" in rest:
        seconds = float(rest.split("seconds=")[1])
    return kind.strip(), seconds


def sleep(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)
