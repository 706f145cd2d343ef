"""The FieldCamp emulator: auth (Bearer or ``X-Api-Key``), the per-key rate limit with
``X-RateLimit-*`` headers, FieldCamp's error envelopes; routes come from the mixins."""

from __future__ import annotations

from typing import Any

from connectors.sandbox import accounts
from connectors.sandbox.datagen import Gen
from connectors.sandbox.ratelimit import SlidingWindow
from connectors.sandbox.registry import register
from connectors.sandbox.vendor import Vendor
from connectors.sandbox.web import BodyPolicy, Request, Response, json_response

from .churn import (
    churn_fieldcamp,
)
from .datagen import (
    generate_fieldcamp,
)
from .integrations import IntegrationRoutes
from .jobs import JobRoutes
from .resources import ResourceRoutes


@register
class FieldCampSandbox(JobRoutes, ResourceRoutes, IntegrationRoutes, Vendor):
    """The FieldCamp emulator. Python API: :meth:`set_connected`, :meth:`integration_states`,
    :meth:`sync_jobs`."""

    name = "fieldcamp"
    mount = "/fieldcamp/api/v1"
    #: JSON everywhere (vendor-apis.md §3.1); a body of another type is not parsed, as
    #: Express's ``express.json()`` leaves it (§3.3: the legacy multipart route "never parsed
    #: the body" of a JSON post and answered its validation 400).
    body_policy = BodyPolicy(json_types=frozenset({"application/json"}), other="ignore")
    control_routes = (("*", "/integrations", "control_integrations"),)

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._window: SlidingWindow | None = None

    def client_options(
        self, *, user_id: int | None, token: str | None, auth: str
    ) -> dict[str, Any]:
        """``Authorization: Bearer <key>`` with the demo key unless ``token`` is given."""
        return {"headers": {"Authorization": f"Bearer {token or accounts.FIELDCAMP_API_KEY}"}}

    def control_integrations(self, req: Request) -> Response:
        """``GET|POST /_sandbox/fieldcamp/integrations``: connection states;
        ``{"integration": ..., "connected": bool}`` to (dis)connect one."""
        if req.method == "POST":
            body = req.json_body()
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            self.set_connected(body["integration"], bool(body.get("connected", True)))
        return json_response(self.integration_states())

    # --- auth, limits, errors ----------------------------------------------------------------
    def authenticate(self, req: Request) -> tuple[Any, str] | Response:
        """``Authorization: Bearer fc_live_...`` or ``X-Api-Key``; else 401 ``{"success": false, "error": {"code": "UNAUTHORIZED", ...}}`` (vendor-apis.md §3.1)."""
        header = req.headers.get("authorization", "")
        key = (
            header[7:].strip()
            if header.lower().startswith("bearer ")
            else req.headers.get("x-api-key", "")
        )
        if key != accounts.FIELDCAMP_API_KEY:
            return json_response(
                {
                    "success": False,
                    "error": {"code": "UNAUTHORIZED", "message": "Invalid or expired API key"},
                },
                401,
            )
        return key, f"key:{key[:12]}…"

    def check_limits(
        self, req: Request, principal: Any
    ) -> tuple[Response | None, list[tuple[str, str]]]:
        """Per-key sliding minute (``fieldcamp_rate_limit_per_minute``) with ``X-RateLimit-Limit/-Remaining/-Reset`` on every answer; 429 ``RATE_LIMITED`` with ``Retry-After`` (vendor-apis.md §3.4)."""
        limit = self.sandbox.config.fieldcamp_rate_limit_per_minute
        if not limit:
            return None, []
        if self._window is None or self._window.limit != limit:
            self._window = SlidingWindow(limit)
        now = self.sandbox.clock.now()
        verdict = self._window.hit(principal, now)
        headers = [
            ("X-RateLimit-Limit", str(verdict.limit)),
            ("X-RateLimit-Remaining", str(verdict.remaining)),
            ("X-RateLimit-Reset", str(int(now.timestamp()) + verdict.reset_seconds)),
        ]
        if verdict.allowed:
            return None, headers
        resp = json_response(
            {"success": False, "error": {"code": "RATE_LIMITED", "message": "Too many requests"}},
            429,
            [*headers, ("Retry-After", str(verdict.reset_seconds))],
        )
        return resp, []

    def too_many_requests(self, req: Request) -> Response:
        """FieldCamp's 429 envelope with ``Retry-After: 60``."""
        return json_response(
            {"success": False, "error": {"code": "RATE_LIMITED", "message": "Too many requests"}},
            429,
            [("Retry-After", "60")],
        )

    def reset_limits(self) -> None:
        """Forget the per-key window."""
        if self._window is not None:
            self._window.clear()

    def not_found(self, req: Request) -> Response:
        """404 ``NOT_FOUND`` "Cannot METHOD /path" (Express's wording)."""
        return json_response(
            {
                "success": False,
                "error": {"code": "NOT_FOUND", "message": f"Cannot {req.method} {req.path}"},
            },
            404,
        )

    def method_not_allowed(self, req: Request) -> Response:
        """Same as :meth:`not_found` (Express has no 405)."""
        return self.not_found(req)

    def bad_json(self, req: Request) -> Response:
        """400 with a string ``error``."""
        return json_response({"success": False, "error": "Request body is not valid JSON"}, 400)

    # --- data --------------------------------------------------------------------------------
    def generate(self, gen: Gen) -> None:
        """See :func:`~.datagen.generate_fieldcamp`."""
        generate_fieldcamp(self, gen)

    def churn(self, count: int, rng: Any) -> dict[str, Any]:
        """See :func:`~.churn.churn_fieldcamp`."""
        return churn_fieldcamp(self, count, rng)
