"""The Synchroteam emulator: HTTP Basic ``domain:api_key`` auth, the per-token minute limit and
daily quota (``X-Quota-Remaining``), ASP.NET Web API error bodies; routes come from the mixins."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from connectors.sandbox import accounts
from connectors.sandbox.datagen import Gen
from connectors.sandbox.ratelimit import DailyQuota, SlidingWindow
from connectors.sandbox.registry import register
from connectors.sandbox.store import Where
from connectors.sandbox.vendor import Vendor
from connectors.sandbox.web import BodyPolicy, Request, Response, json_response

from .churn import (
    churn_synchroteam,
)
from .datagen import (
    generate_synchroteam,
)
from .jobs import JobRoutes
from .records import (
    K,
)
from .reports import ReportRoutes
from .stock import StockRoutes


@register
class SynchroteamSandbox(StockRoutes, ReportRoutes, JobRoutes, Vendor):
    """The Synchroteam emulator. Python inspection: :meth:`job_records`, :meth:`find`."""

    name = "synchroteam"
    mount = "/synchroteam/api/v3"
    case_insensitive = True
    #: "Content-Type: application/json or text/json" (vendor-apis.md §2.1, the official doc);
    #: anything else is ASP.NET Web API's 415 (see :meth:`unsupported_media_type`).
    body_policy = BodyPolicy(
        json_types=frozenset({"application/json", "text/json"}), other="reject"
    )
    control_routes = (("GET", "/jobs/<int:id>", "control_job"),)

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._window: SlidingWindow | None = None
        self._quota: DailyQuota | None = None

    def client_options(
        self, *, user_id: int | None, token: str | None, auth: str
    ) -> dict[str, Any]:
        """HTTP Basic ``domain:api_key`` with the demo key unless ``token`` is given."""
        return {"auth": (accounts.SYNCHROTEAM_DOMAIN, token or accounts.SYNCHROTEAM_API_KEY)}

    def control_job(self, req: Request, *, id: int) -> Response:
        """``GET /_sandbox/synchroteam/jobs/{id}``: :meth:`job_records` of one job."""
        return json_response(self.job_records(id))

    # --- auth, limits, errors ----------------------------------------------------------------
    def authenticate(self, req: Request) -> tuple[Any, str] | Response:
        """HTTP Basic ``domain:api_key`` (domain case-insensitive); else 401 "Authorization has been denied for this request." (vendor-apis.md §2.1)."""
        header = req.headers.get("authorization", "")
        denied = json_response({"message": "Authorization has been denied for this request."}, 401)
        if not header.lower().startswith("basic "):
            return denied
        try:
            domain, _, key = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return denied
        if domain.lower() != accounts.SYNCHROTEAM_DOMAIN or key != accounts.SYNCHROTEAM_API_KEY:
            return denied
        return key, f"domain:{domain.lower()}"

    def check_limits(
        self, req: Request, principal: Any
    ) -> tuple[Response | None, list[tuple[str, str]]]:
        """Per-token minute window and UTC-day quota (seed 000: ~1000/min, ~15 000/day); ``X-Quota-Remaining`` on every answer, 429 with ``Retry-After``."""
        cfg = self.sandbox.config
        now = self.sandbox.clock.now()
        headers: list[tuple[str, str]] = []
        if cfg.synchroteam_rate_limit_per_minute:
            if self._window is None or self._window.limit != cfg.synchroteam_rate_limit_per_minute:
                self._window = SlidingWindow(cfg.synchroteam_rate_limit_per_minute)
            minute = self._window.hit(principal, now)
            if not minute.allowed:
                resp = json_response(
                    {"message": "Rate limit exceeded. Please retry later."},
                    429,
                    [("Retry-After", str(minute.reset_seconds))],
                )
                resp.headers.extend(self._quota_headers(principal, now))
                return resp, []
        if cfg.synchroteam_daily_quota:
            if self._quota is None or self._quota.limit != cfg.synchroteam_daily_quota:
                self._quota = DailyQuota(cfg.synchroteam_daily_quota)
            day = self._quota.hit(principal, now)
            headers.append(("X-Quota-Remaining", str(day.remaining)))
            if not day.allowed:
                return json_response(
                    {"message": "Daily API quota exceeded."},
                    429,
                    [("Retry-After", str(day.reset_seconds)), *headers],
                ), []
        return None, headers

    def _quota_headers(self, principal: str, now: datetime) -> list[tuple[str, str]]:
        if self._quota is None:
            return []
        used = self._quota._used.get((principal, now.strftime("%Y-%m-%d")), 0)
        return [("X-Quota-Remaining", str(max(self._quota.limit - used, 0)))]

    def too_many_requests(self, req: Request) -> Response:
        """Synchroteam's 429 ``{"message"}`` with ``Retry-After: 60``."""
        return json_response(
            {"message": "Rate limit exceeded. Please retry later."}, 429, [("Retry-After", "60")]
        )

    def reset_limits(self) -> None:
        """Forget the minute window and the daily quota."""
        for limiter in (self._window, self._quota):
            if limiter is not None:
                limiter.clear()

    def not_found(self, req: Request) -> Response:
        """ASP.NET Web API's 404 "No HTTP resource was found that matches the request URI '...'"."""
        return json_response(
            {"message": f"No HTTP resource was found that matches the request URI '{req.path}'."},
            404,
        )

    def method_not_allowed(self, req: Request) -> Response:
        """ASP.NET Web API's 405 "The requested resource does not support http method '...'"."""
        return json_response(
            {"message": f"The requested resource does not support http method '{req.method}'."}, 405
        )

    def unsupported_media_type(self, req: Request, mimetype: str) -> Response:
        """ASP.NET Web API's 415 for a body no media-type formatter reads."""
        return json_response(
            {
                "message": f"The request entity's media type '{mimetype}' is not supported "
                "for this resource."
            },
            415,
        )

    def bad_json(self, req: Request) -> Response:
        """400 ``{"message": "The request is invalid."}``."""
        return json_response({"message": "The request is invalid."}, 400)

    # --- Python inspection API ---------------------------------------------------------------
    def job_records(self, job_id: int) -> dict[str, Any]:
        """``{"job", "activities", "invoices", "quotations"}`` for one job."""
        store = self.sandbox.store
        on_job = [Where("parent_id = ?", (job_id,))]
        return {
            "job": store.get(K["job"], job_id),
            "activities": store.select(K["activity"], on_job),
            "invoices": store.select(K["invoice"], on_job),
            "quotations": store.select(K["quotation"], on_job),
        }

    def find(
        self,
        resource: str,
        *,
        my_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Records of ``resource`` (job, customer, ...) by ``myId`` and/or ``status``."""
        where = []
        if my_id is not None:
            where.append(Where("ext = ?", (my_id,)))
        if status is not None:
            where.append(Where("status = ?", (status,)))
        return self.sandbox.store.select(K[resource], where, limit=limit)

    # --- data --------------------------------------------------------------------------------
    def generate(self, gen: Gen) -> None:
        """See :func:`~.datagen.generate_synchroteam`."""
        generate_synchroteam(self, gen)

    def churn(self, count: int, rng: Any) -> dict[str, Any]:
        """See :func:`~.churn.churn_synchroteam`."""
        return churn_synchroteam(self, count, rng)
