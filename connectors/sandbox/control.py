"""Sandbox-only control and inspection endpoints under ``/_sandbox/`` (no auth: loopback only).

Routed by a werkzeug ``Map``: the framework's rules below plus each registered vendor's
``control_routes`` under ``/_sandbox/<vendor>/``. A ``ValueError``, ``KeyError`` or
``TypeError`` from a handler (bad input) is a 400 with the exception in ``error``.

=========================================  ==================================================
``GET /_sandbox/``                         clock, seed, scale, record counts, request counts,
                                           vendor base URLs, active faults
``GET /_sandbox/faults``                   active fault rules (with matched/fired counters)
``POST /_sandbox/faults``                  add: ``{"rule": "<string syntax>"}``, a rule object,
                                           or ``{"rules": [...]}``; answers the created rules
``DELETE /_sandbox/faults[/{id}]``         remove all rules / one rule
``GET /_sandbox/ledger``                   writes received; filters ``vendor``, ``method``,
                                           ``path`` (glob), ``since`` (seq), ``status``
``DELETE /_sandbox/ledger``                forget the ledger
``GET /_sandbox/records``                  raw records: ``kind`` (required), ``parent_id``,
                                           ``limit`` (default 100), ``offset``
``GET /_sandbox/syncro/tickets/{id}``      comments, line items, timers, invoices of a ticket
``GET /_sandbox/synchroteam/jobs/{id}``    a job with its activities, invoices, quotations
``GET|POST /_sandbox/clock``               read; ``{"advance": seconds}`` or
                                           ``{"set": iso, "frozen": bool}``
``POST /_sandbox/churn``                   ``{"count": 20}``: change/create/delete records now
``POST /_sandbox/reset``                   ``{"seed": 1, "scale": "small"}``: regenerate
``GET|PATCH /_sandbox/config``             limits and tunables (``SandboxConfig`` fields)
``POST /_sandbox/limits/reset``            forget rate-limit and quota counters
``GET|POST /_sandbox/fieldcamp/integrations``  connection state; ``{"integration": ...,
                                           "connected": bool}`` to (dis)connect
=========================================  ==================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from .store import Where
from .vendor import cached_map
from .web import BadJSON, Request, Response, json_response

if TYPE_CHECKING:
    from .core import Sandbox

ControlHandler = Callable[..., Response]
ANY_METHOD = None  # a werkzeug Rule without ``methods`` matches every method


def _body(req: Request) -> dict[str, Any]:
    data = req.json_body()
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def _root(req: Request) -> str:
    host = req.environ.get("HTTP_HOST") or "sandbox.invalid"
    return f"{req.environ.get('wsgi.url_scheme', 'http')}://{host}"


def _int_arg(req: Request, name: str, default: int) -> int:
    return int(req.args.get(name) or default)


def info(sb: Sandbox, req: Request) -> Response:
    """``GET /_sandbox/``: clock, seed, scale, counts, vendor base URLs, faults."""
    return json_response(sb.info(_root(req)))


def faults_list(sb: Sandbox, req: Request) -> Response:
    """``GET /_sandbox/faults``: active rules with their counters."""
    return json_response({"rules": [r.to_dict() for r in sb.faults.rules()]})


def faults_add(sb: Sandbox, req: Request) -> Response:
    """``POST /_sandbox/faults``: ``{"rule": "<syntax>"}``, a rule object or ``{"rules": [...]}``; 201 with the created rules."""
    body = _body(req)
    specs = body["rules"] if "rules" in body else [body.get("rule", body)]
    created = [sb.faults.add(spec).to_dict() for spec in specs]
    return json_response({"rules": created}, 201)


def faults_clear(sb: Sandbox, req: Request) -> Response:
    """``DELETE /_sandbox/faults``: remove every rule."""
    sb.faults.clear()
    return json_response({"rules": []})


def fault_remove(sb: Sandbox, req: Request, *, id: int) -> Response:
    """``DELETE /_sandbox/faults/{id}``: remove one rule (404 when unknown)."""
    ok = sb.faults.remove(id)
    return json_response({"removed": ok}, 200 if ok else 404)


def ledger_list(sb: Sandbox, req: Request) -> Response:
    """``GET /_sandbox/ledger``: writes received, filtered by ``vendor``, ``method``, ``path`` (glob), ``since`` (seq), ``status``."""
    entries = sb.ledger.writes(
        vendor=req.args.get("vendor"),
        method=req.args.get("method"),
        path=req.args.get("path"),
        since_seq=_int_arg(req, "since", 0),
        status=int(req.args["status"]) if req.args.get("status") else None,
    )
    return json_response({"writes": [e.to_dict() for e in entries]})


def ledger_clear(sb: Sandbox, req: Request) -> Response:
    """``DELETE /_sandbox/ledger``: forget every write."""
    sb.ledger.clear()
    return json_response({"writes": []})


def records(sb: Sandbox, req: Request) -> Response:
    """``GET /_sandbox/records?kind=&parent_id=&limit=100&offset=0``: raw stored records of one kind."""
    kind = req.args.get("kind") or ""
    parent = req.args.get("parent_id")
    where = [Where("parent_id = ?", (int(parent or 0),))] if parent else []
    rows = sb.store.select(
        kind, where, limit=_int_arg(req, "limit", 100), offset=_int_arg(req, "offset", 0)
    )
    return json_response({"kind": kind, "total": sb.store.count(kind, where), "records": rows})


def clock(sb: Sandbox, req: Request) -> Response:
    """``GET|POST /_sandbox/clock``: read; ``{"advance": seconds}`` or ``{"set": iso, "frozen": bool}`` (any other method reads)."""
    if req.method == "POST":
        body = _body(req)
        if "set" in body:
            sb.clock.set(body["set"], frozen=body.get("frozen"))
        elif "frozen" in body:
            sb.clock.freeze() if body["frozen"] else sb.clock.unfreeze()
        if "advance" in body:
            sb.clock.advance(float(body["advance"]))
        sb.save_clock()
    return json_response(sb.clock.to_dict())


def churn(sb: Sandbox, req: Request) -> Response:
    """``POST /_sandbox/churn {"count": 20}``: change, create and delete records now."""
    body = _body(req)
    return json_response(sb.churn(int(body.get("count", 20))))


def reset(sb: Sandbox, req: Request) -> Response:
    """``POST /_sandbox/reset {"seed", "scale"}``: regenerate; answers the record counts."""
    body = _body(req)
    counts = sb.reset(seed=body.get("seed"), scale=body.get("scale"))
    return json_response({"records": counts})


def config(sb: Sandbox, req: Request) -> Response:
    """``GET|PATCH /_sandbox/config``: the settings; PATCH (or POST) changes them."""
    if req.method in ("PATCH", "POST"):
        sb.configure(**_body(req))
    return json_response(sb.config.to_dict())


def limits_reset(sb: Sandbox, req: Request) -> Response:
    """``POST /_sandbox/limits/reset``: forget every vendor's rate-limit and quota counters."""
    for vendor in sb.vendors.values():
        vendor.reset_limits()
    return json_response({"ok": True})


# (path, methods, handler); paths are matched without a trailing slash.
RULES: tuple[tuple[str, list[str] | None, ControlHandler], ...] = (
    ("/_sandbox", ["GET"], info),
    ("/_sandbox/faults", ["GET"], faults_list),
    ("/_sandbox/faults", ["POST"], faults_add),
    ("/_sandbox/faults", ["DELETE"], faults_clear),
    ("/_sandbox/faults/<int:id>", ["DELETE"], fault_remove),
    ("/_sandbox/ledger", ["GET"], ledger_list),
    ("/_sandbox/ledger", ["DELETE"], ledger_clear),
    ("/_sandbox/records", ["GET"], records),
    ("/_sandbox/clock", ANY_METHOD, clock),
    ("/_sandbox/churn", ["POST"], churn),
    ("/_sandbox/reset", ["POST"], reset),
    ("/_sandbox/config", ANY_METHOD, config),
    ("/_sandbox/limits/reset", ["POST"], limits_reset),
)


class ControlPlane:
    """The ``/_sandbox/`` endpoints of one sandbox: framework rules plus each vendor's
    ``control_routes`` (bound to the vendor emulator instance)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._handlers: dict[str, ControlHandler] = {}
        rows: list[tuple[str, tuple[str, ...] | None, str]] = []
        for path, methods, handler in RULES:
            endpoint = f"{handler.__name__}"
            self._handlers[endpoint] = lambda req, _h=handler, **kw: _h(sandbox, req, **kw)
            rows.append((path, tuple(methods) if methods else None, endpoint))
        for vendor in sandbox.vendors.values():
            for method, pattern, attr in vendor.control_routes:
                endpoint = f"{vendor.name}.{attr}"
                self._handlers[endpoint] = getattr(vendor, attr)
                methods = None if method == "*" else (method,)
                rows.append((f"/_sandbox/{vendor.name}{pattern}", methods, endpoint))
        key = ("control", tuple(rows))

        def build() -> Map:
            rules = [Rule(p, endpoint=e, methods=list(m) if m else None) for p, m, e in rows]
            return Map(rules, strict_slashes=False, merge_slashes=False, redirect_defaults=False)

        self._urls = cached_map(key, build).bind("sandbox")

    def handle(self, req: Request) -> Response:
        """Answer a ``/_sandbox...`` request; unknown paths and methods are a JSON 404."""
        path = req.path.rstrip("/") or "/_sandbox"
        try:
            rule, args = self._urls.match(path, method=req.method, return_rule=True)
        except HTTPException:
            return _no_such_endpoint()
        if req.method == "HEAD" and rule.methods is not None and "GET" in rule.methods:
            return _no_such_endpoint()  # werkzeug adds HEAD to GET rules; the plane has none
        try:
            return self._handlers[rule.endpoint](req, **args)
        except BadJSON:
            return json_response({"error": "invalid JSON"}, 400)
        except (ValueError, KeyError, TypeError) as exc:
            return json_response({"error": f"{type(exc).__name__}: {exc}"}, 400)


def _no_such_endpoint() -> Response:
    return json_response({"error": "no such control endpoint", "see": "/_sandbox/"}, 404)
