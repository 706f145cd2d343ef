"""The base class of one emulated vendor, its route decorator and the handler context.

A vendor emulator (``connectors/sandbox/<vendor>/``) subclasses :class:`Vendor`, marks its
handlers with :func:`route` and registers itself with :func:`connectors.sandbox.registry.register`.
Routes become one ``werkzeug.routing.Map`` per vendor class; ``{name}`` in a pattern is one path
segment (werkzeug's ``<name>``), a trailing slash is optional, and a case-insensitive vendor
(Synchroteam) is matched on the lowercased path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Map, Rule

from .web import BodyPolicy, Request, Response, json_response, text_response

if TYPE_CHECKING:
    from .config import SandboxConfig
    from .core import Sandbox
    from .store import Store

Handler = Callable[["Ctx"], Response]

#: Header on every answer the sandbox gives for a path no route serves: ``unknown`` (no route
#: has that path) or ``method-not-allowed`` (a route has it for another method). A missing
#: record never carries it, so a client can tell "not emulated" from "no such record".
ROUTE_HEADER = "X-Sandbox-Route"


def route(
    method: str, pattern: str
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Mark a Vendor method as the handler of ``METHOD pattern`` (``{name}`` = one segment,
    captured into ``ctx.req.view_args``)."""

    def mark(fn: Callable[..., Response]) -> Callable[..., Response]:
        fn.__dict__.setdefault("_routes", []).append((method.upper(), pattern))
        return fn

    return mark


_MAP_LOCK = threading.Lock()
_MAPS: dict[Hashable, Map] = {}


def cached_map(key: Hashable, build: Callable[[], Map]) -> Map:
    """The werkzeug Map `build` makes, built once per `key` and under one lock.

    Werkzeug compiles every rule with ``ast.parse``; on CPython 3.11.7 two threads parsing at
    once can raise ``SystemError: AST constructor recursion depth mismatch`` (CPython
    gh-106905). Sandboxes are made while other sandboxes' server threads run, so no two Maps
    are built at the same time, and each distinct one only once (a Map is read-only once
    built; each sandbox binds its own adapter).
    """
    with _MAP_LOCK:
        built = _MAPS.get(key)
        if built is None:
            built = _MAPS[key] = build()
        return built


def url_map(table: list[tuple[str, str, str]]) -> Map:
    """A werkzeug Map of ``(method, pattern, endpoint)`` rows; exact paths (no redirects, no
    slash merging) with an optional trailing slash."""

    def build() -> Map:
        rules = [
            Rule(pattern.replace("{", "<").replace("}", ">"), endpoint=endpoint, methods=[method])
            for method, pattern, endpoint in table
        ]
        return Map(rules, strict_slashes=False, merge_slashes=False, redirect_defaults=False)

    return cached_map(("vendor", tuple(table)), build)


@dataclass
class Ctx:
    """What a handler gets: the sandbox, the request, the authenticated principal, and a list
    of the records it touched (for the ledger)."""

    sandbox: Sandbox
    req: Request
    principal: Any
    touched: list[dict[str, Any]] = field(default_factory=list)

    @property
    def store(self) -> Store:
        """The sandbox's record store."""
        return self.sandbox.store

    @property
    def config(self) -> SandboxConfig:
        """The sandbox's current settings."""
        return self.sandbox.config

    def now(self) -> datetime:
        """The sandbox clock's now (UTC)."""
        return self.sandbox.clock.now()

    def touch(self, kind: str, id: int, op: str) -> None:
        """Report a record the handler created, updated or deleted (``op``) to the ledger."""
        self.touched.append({"kind": kind, "id": id, "op": op})


class Vendor:
    """Base class of one emulated vendor.

    Class attributes a subclass sets: ``name`` (the vendor key, ``"syncro"``), ``mount`` (a
    werkzeug rule for the URL prefix, ``"/syncro/<sub>/api/v1"``; captured values land in
    ``view_args``), ``case_insensitive`` (paths matched lowercased, as Synchroteam's IIS does)
    ``body_policy`` (which request media types its framework parses, ``bodies.BodyPolicy``;
    the default parses every body as JSON) and ``control_routes``: ``(method, pattern, method name)`` rows served under
    ``/_sandbox/<name>`` for the vendor's inspection endpoints (handler: ``(req, **args) ->
    Response``).
    """

    name: ClassVar[str] = ""
    mount: ClassVar[str] = ""
    case_insensitive: ClassVar[bool] = False
    control_routes: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    body_policy: ClassVar[BodyPolicy] = BodyPolicy()
    _route_table: ClassVar[list[tuple[str, str, str]]] = []
    _url_map: ClassVar[Map]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        for klass in cls.__mro__:  # handlers may come from per-resource mixins
            for attr, fn in vars(klass).items():
                if attr in seen:
                    continue
                seen.add(attr)
                for method, pattern in getattr(fn, "_routes", []):
                    table.append(
                        (method, pattern.lower() if cls.case_insensitive else pattern, attr)
                    )
        cls._route_table = table
        cls._url_map = url_map(table)

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._urls = self._url_map.bind("sandbox.invalid")

    # --- hooks each vendor overrides ---------------------------------------------------------
    @classmethod
    def base_path(cls) -> str:
        """The mount point with its values filled in (``"/syncro/demo/api/v1"``)."""
        return cls.mount

    def client_options(
        self, *, user_id: int | None, token: str | None, auth: str
    ) -> dict[str, Any]:
        """``httpx.Client`` keyword arguments (``headers``, ``params``, ``auth``) that sign in
        with the demo credentials (``connectors.sandbox.accounts``)."""
        return {}

    def authenticate(self, req: Request) -> tuple[Any, str] | Response:
        """Return ``(principal, ledger label)`` or an error Response."""
        raise NotImplementedError

    def check_limits(
        self, req: Request, principal: Any
    ) -> tuple[Response | None, list[tuple[str, str]]]:
        """Return ``(429 response or None, headers to add to every response)``."""
        return None, []

    def too_many_requests(self, req: Request) -> Response:
        """The vendor's 429 (also what the ``rate_limit_burst`` fault answers)."""
        return text_response("Too Many Requests", 429)

    def not_found(self, req: Request) -> Response:
        """The vendor's framework's answer to an unknown path (it must differ from the
        vendor's missing-record answer; the app adds ``X-Sandbox-Route``)."""
        return json_response({"error": "Not found"}, 404)

    def method_not_allowed(self, req: Request) -> Response:
        """The vendor's answer to a known path with another method."""
        return json_response({"error": "Method not allowed"}, 405)

    def unknown_route(self, req: Request) -> Response:
        """:meth:`not_found` marked ``X-Sandbox-Route: unknown``: what the app answers for a
        path no route serves, and what a generic route raises for a resource it does not know
        (so it declines like a missing route, not like a missing record)."""
        resp = self.not_found(req)
        resp.headers[ROUTE_HEADER] = "unknown"
        return resp

    def wrong_method(self, req: Request) -> Response:
        """:meth:`method_not_allowed` marked ``X-Sandbox-Route: method-not-allowed``."""
        resp = self.method_not_allowed(req)
        resp.headers[ROUTE_HEADER] = "method-not-allowed"
        return resp

    def bad_json(self, req: Request) -> Response:
        """The vendor's answer to a body that is not JSON."""
        return json_response({"error": "Invalid JSON"}, 400)

    def unsupported_media_type(self, req: Request, mimetype: str) -> Response:
        """The vendor's answer to a body of a media type its ``body_policy`` refuses."""
        return json_response({"error": f"Unsupported media type {mimetype!r}"}, 415)

    def error_page(self, status: int) -> Response:
        """What an injected 5xx looks like: a JSON 500 from the app, HTML 502/503/504 from the
        proxy in front of it."""
        if status == 500:
            return json_response({"status": 500, "error": "Internal Server Error"}, 500)
        phrase = HTTP_STATUS_CODES.get(status, "Error")
        html = (
            f"<html><head><title>{status} {phrase}</title></head><body><center><h1>{status} "
            f"{phrase}</h1></center><hr><center>nginx</center></body></html>"
        )
        return text_response(html, status, "text/html")

    def reset_limits(self) -> None:
        """Forget rate-limit and quota counters."""

    def generate(self, gen: Any) -> None:
        """Fill the (empty) store with this vendor's records from ``gen`` (a ``datagen.Gen``)."""
        raise NotImplementedError

    def churn(self, count: int, rng: Any) -> dict[str, Any]:
        """Change, create and delete about ``count`` records now; returns what changed."""
        return {}

    # --- routing -----------------------------------------------------------------------------
    def match(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], bool]:
        """``(bound handler, path params, path exists for another method)`` for a
        vendor-relative ``path``. HEAD is only served where a route names it (werkzeug would
        answer it with the GET handler; the emulated vendors do not)."""
        if self.case_insensitive:
            path = path.lower()
        try:
            rule, args = self._urls.match(path, method=method, return_rule=True)
        except MethodNotAllowed:
            return None, {}, True
        except NotFound:
            return None, {}, False
        if method == "HEAD" and not any(m == "HEAD" for m, *_ in self._route_table):
            return None, {}, True
        return getattr(self, rule.endpoint), args, True
