"""The Syncro emulator: the account subdomain, Bearer or ``api_key`` auth, the 180/min limit
per client address, Syncro's error bodies and the Python inspection API; routes come from the
per-resource mixins."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from connectors.sandbox import accounts
from connectors.sandbox.datagen import Gen
from connectors.sandbox.ratelimit import SlidingWindow
from connectors.sandbox.registry import register
from connectors.sandbox.store import Where
from connectors.sandbox.vendor import Vendor
from connectors.sandbox.web import (
    BodyPolicy,
    Request,
    Response,
    json_response,
    text_response,
)

from .churn import (
    churn_syncro,
)
from .comments import CommentRoutes
from .contacts import ContactRoutes
from .customers import CustomerRoutes
from .datagen import (
    generate_syncro,
)
from .invoice_items import InvoiceItemRoutes
from .invoices import InvoiceRoutes
from .line_items import LineItemRoutes
from .products import ProductRoutes
from .records import (
    K_COMMENT,
    K_INVOICE,
    K_INVOICE_LINE,
    K_LINE,
    K_TICKET,
    K_TIMER,
)
from .search import SearchRoutes
from .tickets import TicketRoutes
from .timers import TimerRoutes
from .users import UserRoutes
from .vocab import (
    LABOR_PRODUCT_IDS,
)

RAILS_404_HTML = (
    "<!DOCTYPE html>\n<html>\n<head>\n  <title>The page you were looking for doesn't exist "
    '(404)</title>\n</head>\n<body>\n  <div class="dialog">\n    <h1>The page you were looking '
    "for doesn't exist.</h1>\n    <p>You may have mistyped the address or the page may have "
    "moved.</p>\n  </div>\n</body>\n</html>\n"
)


@register
class SyncroSandbox(
    UserRoutes,
    TicketRoutes,
    CommentRoutes,
    LineItemRoutes,
    TimerRoutes,
    InvoiceRoutes,
    InvoiceItemRoutes,
    CustomerRoutes,
    ContactRoutes,
    SearchRoutes,
    ProductRoutes,
    Vendor,
):
    """The Syncro emulator. Python inspection helpers: :meth:`ticket_records`,
    :meth:`ticket_ids`, :meth:`labor_product_id`."""

    name = "syncro"
    mount = "/syncro/<sub>/api/v1"
    #: Rails: JSON, form-encoded and multipart bodies become params (nested ``a[b]`` names
    #: included); a body of another type is not read (issue 15 item 3, docs/sandbox.md).
    body_policy = BodyPolicy(forms=True, other="ignore")
    control_routes = (("GET", "/tickets/<int:id>", "control_ticket"),)

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._window: SlidingWindow | None = None

    def match(self, method: str, path: str):
        """As :meth:`Vendor.match`, except that a literal path of the official spec that the
        sandbox does not emulate (``GET /products/categories``) is an unknown route, not the
        ``/products/{id}`` show of a record named "categories": Syncro's router sends it to its
        own action, so answering "no such record" would mislead a client (issue 15 item 5)."""
        handler, params, exists = super().match(method, path)
        if params and (method.upper(), path.rstrip("/")) in spec_literal_paths():
            return None, {}, False
        return handler, params, exists

    @classmethod
    def base_path(cls) -> str:
        """``/syncro/demo/api/v1``: the mount with the demo account's subdomain."""
        return f"/syncro/{accounts.SYNCRO_SUBDOMAIN}/api/v1"

    def client_options(
        self, *, user_id: int | None, token: str | None, auth: str
    ) -> dict[str, Any]:
        """``user_id``'s demo token (default: the shared one) unless ``token`` is given, sent as
        ``Authorization: Bearer`` or, with ``auth="query"``, as ``api_key``. Raises ValueError
        for an unknown demo user."""
        if token is None:
            user = accounts.syncro_user_by_id(user_id or accounts.SYNCRO_SHARED_TOKEN_USER_ID)
            if user is None:
                raise ValueError(f"no demo Syncro user {user_id}")
            token = user.token
        if auth == "query":
            return {"params": {"api_key": token}}
        return {"headers": {"Authorization": f"Bearer {token}"}}

    def control_ticket(self, req: Request, *, id: int) -> Response:
        """``GET /_sandbox/syncro/tickets/{id}``: :meth:`ticket_records` of one ticket."""
        return json_response(self.ticket_records(id))

    # --- auth and limits ---------------------------------------------------------------------
    def authenticate(self, req: Request) -> tuple[Any, str] | Response:
        """The account subdomain must be ``demo`` (else an HTML 404); token from ``Authorization: Bearer`` (or bare) or ``?api_key=``; else 401 ``{"error": "Not authorized"}``.

        Both sent (issue 15 item 6; undocumented, so the strict rule): each must be a valid
        token and both the same user, else 401 -- a bad header never passes on the strength of
        a good ``api_key`` nor the reverse (docs/sandbox.md "Decided behaviours")."""
        if req.view_args.get("sub") != accounts.SYNCRO_SUBDOMAIN:
            return text_response("Account not found", 404, "text/html")
        tokens = []
        if req.args.get("api_key"):  # an empty api_key= is no credential
            tokens.append(req.args["api_key"])
        header = req.headers.get("authorization", "")
        if header:
            bearer = header.lower().startswith("bearer ")
            tokens.append(header[7:].strip() if bearer else header.strip())
        users = {accounts.syncro_user_by_token(t or "") for t in tokens}
        if len(users) != 1 or None in users:
            return json_response({"error": "Not authorized"}, 401)
        user = users.pop()
        return user, f"user:{user.user_id}"

    def check_limits(
        self, req: Request, principal: Any
    ) -> tuple[Response | None, list[tuple[str, str]]]:
        """180 requests per rolling minute per client address (spec info.description); over it, Rack::Attack's 429."""
        limit = self.sandbox.config.syncro_rate_limit_per_minute
        if not limit:
            return None, []
        if self._window is None or self._window.limit != limit:
            self._window = SlidingWindow(limit, 60.0)
        verdict = self._window.hit(req.client, self.sandbox.clock.now())
        if verdict.allowed:
            return None, []
        return self._too_many(verdict.reset_seconds), []

    def _too_many(self, retry_after: int = 60) -> Response:
        resp = text_response("Retry later\n", 429)
        if self.sandbox.config.syncro_retry_after:
            resp.headers.add("Retry-After", str(retry_after))
        return resp

    def too_many_requests(self, req: Request) -> Response:
        """Rack::Attack's 429 ``text/plain`` "Retry later" (with ``Retry-After: 60`` if
        ``syncro_retry_after``)."""
        return self._too_many()

    def reset_limits(self) -> None:
        """Forget the per-address window."""
        if self._window is not None:
            self._window.clear()

    def not_found(self, req: Request) -> Response:
        """An unknown route: Rails' ``ActionDispatch::PublicExceptions`` 404, JSON
        ``{"status": 404, "error": "Not Found"}`` when the client accepts JSON (the format
        Rails picks from ``Accept``), else the stock ``public/404.html`` page. A missing
        *record* is the controllers' ``{"message": "Not found"}`` (``records.not_found``)."""
        if "json" in req.headers.get("Accept", ""):  # no Accept or */* is Rails' HTML format
            return json_response({"status": 404, "error": "Not Found"}, 404)
        return text_response(RAILS_404_HTML, 404, "text/html; charset=utf-8")

    def method_not_allowed(self, req: Request) -> Response:
        """Rails has no 405: a known path with another verb is a routing error, the same 404
        as an unknown route."""
        return self.not_found(req)

    def bad_json(self, req: Request) -> Response:
        """Rails' 400 ``{"status": 400, "error": "Bad Request"}``."""
        return json_response({"status": 400, "error": "Bad Request"}, 400)

    # --- Python inspection API ---------------------------------------------------------------
    def ticket_records(self, ticket_id: int) -> dict[str, Any]:
        """Everything hanging off a ticket, for duplicate checks:
        ``{"ticket", "comments", "line_items", "timers", "invoices", "invoice_line_items"}``
        (lists of vendor-shaped dicts, oldest first)."""
        store = self.sandbox.store
        invoices = store.select(K_INVOICE, [Where("parent_id = ?", (ticket_id,))])
        inv_ids = [i["id"] for i in invoices]
        inv_lines = []
        for iid in inv_ids:
            inv_lines.extend(store.select(K_INVOICE_LINE, [Where("parent_id = ?", (iid,))]))
        return {
            "ticket": store.get(K_TICKET, ticket_id),
            "comments": store.select(K_COMMENT, [Where("parent_id = ?", (ticket_id,))]),
            "line_items": store.select(K_LINE, [Where("parent_id = ?", (ticket_id,))]),
            "timers": store.select(K_TIMER, [Where("parent_id = ?", (ticket_id,))]),
            "invoices": invoices,
            "invoice_line_items": inv_lines,
        }

    def ticket_ids(self, *, status: str | None = None, limit: int | None = None) -> list[int]:
        """Ticket ids (newest first), optionally by status."""
        where = [Where("status = ?", (status,))] if status else []
        return [t["id"] for t in self.sandbox.store.select(K_TICKET, where, desc=True, limit=limit)]

    @staticmethod
    def labor_product_id(labor_type: str) -> int:
        """The runbook's ``--labor`` mapping: remote, onsite, emergency, project, internal,
        travel, website -> product id. Raises KeyError."""
        return LABOR_PRODUCT_IDS[labor_type]

    # --- data generation and churn -----------------------------------------------------------
    def generate(self, gen: Gen) -> None:
        """Customers (~n/25) with contacts, products (labor + hardware), n tickets with 1-4
        comments, line items on worked tickets, timers, invoices for Invoiced tickets."""
        generate_syncro(self, gen)

    def churn(self, count: int, rng: Any) -> dict[str, Any]:
        """See :func:`~.churn.churn_syncro`."""
        return churn_syncro(self, count, rng)


@functools.cache
def spec_literal_paths() -> frozenset[tuple[str, str]]:
    """``(METHOD, path)`` of every operation of the bundled official spec
    (``connectors/sandbox/specs/syncro-openapi.json``) whose path has no parameter."""
    spec_file = Path(__file__).resolve().parents[1] / "specs" / "syncro-openapi.json"
    paths = json.loads(spec_file.read_text())["paths"]
    return frozenset(
        (method.upper(), path.rstrip("/"))
        for path, ops in paths.items()
        if "{" not in path
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    )
