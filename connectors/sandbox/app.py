"""The sandbox's WSGI application: mount points, the dispatch pipeline (faults -> auth ->
limits -> handler + ledger -> after-commit faults) and the hand-off to the control endpoints
under ``/_sandbox/`` (``control.py``).

Routing is werkzeug's: one ``Map`` of the registered vendors' mount points (a case-insensitive
vendor in a second Map matched on the lowercased path), then the vendor's own Map
(``vendor.py``). URL layout (the contract in ``accounts.py``)::

    /syncro/{subdomain}/api/v1/...   Syncro (subdomain "demo")
    /synchroteam/api/v3/...          Synchroteam v3 (paths case-insensitive, as the vendor's)
    /fieldcamp/api/v1/...            FieldCamp v1
    /_sandbox/...                    control and inspection (no auth; sandbox only)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter, Map, Rule

from .control import ControlPlane
from .faults import BEFORE_COMMIT, FAULT_HEADER, FaultDecision
from .vendor import Ctx, Vendor, cached_map
from .web import BadJSON, Reply, Request, Response, UnsupportedMediaType, text_response

if TYPE_CHECKING:
    from .core import Sandbox


class _RestConverter(BaseConverter):
    """The rest of the path after a mount point: empty or ``/...`` (any number of segments)."""

    regex = r"(?:/.*)?"
    part_isolating = False


def mount_map(vendors: Iterable[Vendor]) -> Map:
    """One werkzeug Map of ``<mount><rest>`` rules, endpoint = vendor name (a case-insensitive
    vendor's mount lowercased: that Map is matched on the lowercased path)."""
    mounts = tuple(
        (f"{v.mount.lower() if v.case_insensitive else v.mount}<rest:rest>", v.name)
        for v in vendors
    )

    def build() -> Map:
        return Map(
            [Rule(pattern, endpoint=name) for pattern, name in mounts],
            converters={"rest": _RestConverter},
            strict_slashes=False,
            merge_slashes=False,
            redirect_defaults=False,
        )

    return cached_map(("mounts", mounts), build)


class SandboxApp:
    """The WSGI callable for every registered vendor plus ``/_sandbox/``."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        vendors = list(sandbox.vendors.values())
        self._mounts = mount_map(v for v in vendors if not v.case_insensitive).bind("sandbox")
        self._mounts_ci = mount_map(v for v in vendors if v.case_insensitive).bind("sandbox")
        self.control = ControlPlane(sandbox)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """WSGI entry point."""
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, req: Request) -> Response:
        """Route ``req`` to the control plane or a vendor; 404 text outside every mount."""
        if req.path.startswith("/_sandbox"):
            return self.control.handle(req)
        found = self._mount(req.path)
        if found is None:
            return text_response("No such sandbox route. Try /_sandbox/", 404)
        vendor_name, args, rest = found
        req.vendor_path = rest or "/"
        req.view_args = args
        return self.dispatch(self.sandbox.vendors[vendor_name], req)

    def _mount(self, path: str) -> tuple[str, dict[str, str], str] | None:
        """``(vendor name, mount values, rest of the path in its original case)`` or None."""
        try:
            name, args = self._mounts.match(path, method="GET")
            return name, args, args.pop("rest")
        except HTTPException:
            pass
        lowered = path.lower()
        try:
            name, args = self._mounts_ci.match(lowered, method="GET")
        except HTTPException:
            return None
        rest = args.pop("rest")
        if rest and len(lowered) == len(path):
            rest = path[len(path) - len(rest) :]
        return name, args, rest

    def dispatch(self, vendor: Vendor, req: Request) -> Response:
        """Answer ``req`` as ``vendor`` would, with the fault plan applied, and record a write
        in the ledger (in the same store transaction as the records it touched)."""
        sb = self.sandbox
        sb.count_request(vendor.name)
        req.body_policy = vendor.body_policy
        match_path = req.vendor_path.lower() if vendor.case_insensitive else req.vendor_path
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
                handler_status = resp.status_code
                resp = self._after_commit(vendor, decision, resp)
            if req.is_write:
                sb.ledger.record(
                    at=sb.now_iso(),
                    vendor=vendor.name,
                    method=req.method,
                    path=req.vendor_path,
                    query=req.query_string.decode("latin-1"),
                    body=req.body,
                    auth=principal_label,
                    client=req.client,
                    status=resp.status_code,
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
        handler, params, exists = vendor.match(req.method, req.vendor_path)
        if handler is None:
            resp = vendor.wrong_method(req) if exists else vendor.unknown_route(req)
            resp.headers.extend(limit_headers)
            return resp, label, []
        req.view_args.update(params)
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
        except UnsupportedMediaType as exc:
            resp = vendor.unsupported_media_type(req, exc.mimetype)
            ctx.touched.clear()
        resp.headers.extend(limit_headers)
        return resp, label, ctx.touched

    def _after_commit(self, vendor: Vendor, decision: FaultDecision, resp: Response) -> Response:
        cfg = self.sandbox.config
        action = decision.action
        if action == "error_after_commit":
            resp = vendor.error_page(decision.status or 500)
        elif action == "malformed_json":
            body = resp.get_data()
            resp.status_code = 200
            resp.set_data(b'{"ok": true, ' + body[:40] + b" <!-- upstream -->")
        elif action == "truncated_json":
            body = resp.get_data()
            resp.status_code = 200
            resp.set_data(body[: max(len(body) // 2, 1)])
        elif action == "timeout_after_commit":
            seconds = (
                decision.seconds if decision.seconds is not None else cfg.timeout_delay_seconds
            )
            resp.headers.add(FAULT_HEADER, f"timeout; seconds={seconds:g}")
        elif action == "reset_after_commit":
            resp.headers.add(FAULT_HEADER, "reset")
        if decision.latency and action not in ("timeout_after_commit", "reset_after_commit"):
            resp.headers.add(FAULT_HEADER, f"latency; seconds={decision.latency:g}")
        return resp
