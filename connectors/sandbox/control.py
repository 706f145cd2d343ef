"""Sandbox-only control and inspection endpoints under ``/_sandbox/`` (no auth: loopback only).

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

import re
from typing import TYPE_CHECKING, Any

from .app import Request, Response, json_response
from .store import Where

if TYPE_CHECKING:
    from .core import Sandbox


def _body(req: Request) -> dict[str, Any]:
    data = req.json()
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def handle_control(sb: Sandbox, req: Request) -> Response:
    try:
        return _dispatch(sb, req)
    except (ValueError, KeyError, TypeError) as exc:
        return json_response({"error": f"{type(exc).__name__}: {exc}"}, 400)
    except Exception as exc:  # the control plane must never take the sandbox down
        if type(exc).__name__ == "BadJSON":
            return json_response({"error": "invalid JSON"}, 400)
        raise


def _root(req: Request) -> str:
    host = req.environ.get("HTTP_HOST") or "sandbox.invalid"
    return f"{req.environ.get('wsgi.url_scheme', 'http')}://{host}"


def _dispatch(sb: Sandbox, req: Request) -> Response:
    path = req.full_path.rstrip("/") or "/_sandbox"
    m = req.method
    if path == "/_sandbox" and m == "GET":
        return json_response(sb.info(_root(req)))
    if path == "/_sandbox/faults":
        if m == "GET":
            return json_response({"rules": [r.to_dict() for r in sb.faults.rules()]})
        if m == "POST":
            body = _body(req)
            specs = body["rules"] if "rules" in body else [body.get("rule", body)]
            created = [sb.faults.add(spec).to_dict() for spec in specs]
            return json_response({"rules": created}, 201)
        if m == "DELETE":
            sb.faults.clear()
            return json_response({"rules": []})
    if (found := re.fullmatch(r"/_sandbox/faults/(\d+)", path)) and m == "DELETE":
        ok = sb.faults.remove(int(found.group(1)))
        return json_response({"removed": ok}, 200 if ok else 404)
    if path == "/_sandbox/ledger":
        if m == "GET":
            entries = sb.ledger.writes(
                vendor=req.arg("vendor"),
                method=req.arg("method"),
                path=req.arg("path"),
                since_seq=int(req.arg("since") or 0),
                status=int(req.arg("status")) if req.arg("status") else None,
            )
            return json_response({"writes": [e.to_dict() for e in entries]})
        if m == "DELETE":
            sb.ledger.clear()
            return json_response({"writes": []})
    if path == "/_sandbox/records" and m == "GET":
        kind = req.arg("kind") or ""
        where = (
            [Where("parent_id = ?", (int(req.arg("parent_id") or 0),))]
            if req.arg("parent_id")
            else []
        )
        rows = sb.store.select(
            kind, where, limit=int(req.arg("limit") or 100), offset=int(req.arg("offset") or 0)
        )
        return json_response({"kind": kind, "total": sb.store.count(kind, where), "records": rows})
    if (found := re.fullmatch(r"/_sandbox/syncro/tickets/(\d+)", path)) and m == "GET":
        return json_response(sb.syncro.ticket_records(int(found.group(1))))
    if (found := re.fullmatch(r"/_sandbox/synchroteam/jobs/(\d+)", path)) and m == "GET":
        return json_response(sb.synchroteam.job_records(int(found.group(1))))
    if path == "/_sandbox/clock":
        if m == "POST":
            body = _body(req)
            if "set" in body:
                sb.clock.set(body["set"], frozen=body.get("frozen"))
            elif "frozen" in body:
                sb.clock.freeze() if body["frozen"] else sb.clock.unfreeze()
            if "advance" in body:
                sb.clock.advance(float(body["advance"]))
            sb.save_clock()
        return json_response(sb.clock.to_dict())
    if path == "/_sandbox/churn" and m == "POST":
        body = _body(req)
        return json_response(sb.churn(int(body.get("count", 20))))
    if path == "/_sandbox/reset" and m == "POST":
        body = _body(req)
        counts = sb.reset(seed=body.get("seed"), scale=body.get("scale"))
        return json_response({"records": counts})
    if path == "/_sandbox/config":
        if m in ("PATCH", "POST"):
            sb.configure(**_body(req))
        return json_response(sb.config.to_dict())
    if path == "/_sandbox/limits/reset" and m == "POST":
        for vendor in sb.vendors.values():
            vendor.reset_limits()
        return json_response({"ok": True})
    if path == "/_sandbox/fieldcamp/integrations":
        if m == "POST":
            body = _body(req)
            sb.fieldcamp.set_connected(body["integration"], bool(body.get("connected", True)))
        return json_response(sb.fieldcamp.integration_states())
    return json_response({"error": "no such control endpoint", "see": "/_sandbox/"}, 404)
