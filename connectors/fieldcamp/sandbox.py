"""FieldCamp API v1 emulator (mounted at ``/fieldcamp/api/v1``).

Sources: ``seeds/002_*.txt`` (integration sync triggers, the job descriptor, 409 while a sync
is in flight, ``INTEGRATION_NOT_CONNECTED``, the Google Calendar status body, incremental
change records with ``next_cursor``) and ``reference/vendor-apis.md`` §3 (``fc_live_`` keys as
Bearer or ``X-Api-Key``, the ``{"success", "data"|"error", "meta"}`` envelope with ``error`` a
string on some routes and an object on others, ``X-RateLimit-*``, visits and invoices with
``since``, invoice statuses, no server-side idempotency).

Decisions where the sources are silent (docs/sandbox.md):

* Every body is enveloped, the integration routes too: ``{"success": true, "data": <the seed's
  body>, "meta": {...}}``.
* ``error`` is a **string** for resource validation and not-found errors (visits, invoices:
  the errors page's ``{"success": false, "error": "jobNumber is required"}``) and an **object**
  ``{"code", "message"}`` on integration, auth and rate-limit errors (the v1 quickstart).
* ``INTEGRATION_NOT_CONNECTED`` is answered with HTTP 400; "sync in flight" with 409 and code
  ``SYNC_IN_PROGRESS``. ``Idempotency-Key`` is accepted and ignored (no server-side
  idempotency, vendor-apis.md §3.2); the 409 guard is the only protection.
* Sync jobs move queued -> running -> succeeded|failed on the sandbox clock
  (``fieldcamp_sync_queued_seconds``, ``fieldcamp_sync_running_seconds``), failing with
  probability ``fieldcamp_sync_failure_rate`` (seeded per job). A status route exists for all
  three integrations (the seed documents Google's and hints at "the analogous status route").
* Lists page with ``limit`` (default 50, max 100) and an opaque ``cursor``;
  ``meta.next_cursor`` is null on the last page. Calendar changes answer
  ``data: {"changes": [...], "next_cursor": ...}`` (the seed names ``next_cursor``).
* Visit statuses (8, only ``scheduled`` is documented): unscheduled, scheduled, dispatched,
  en_route, in_progress, on_hold, completed, cancelled.
* Ids are 24-hex strings (Mongo ObjectId-like); timestamps are UTC ``...Z``.
* Rate limit per key (default 100/min): ``X-RateLimit-Limit``, ``-Remaining``, ``-Reset``
  (epoch seconds) on every answer; 429 adds ``Retry-After``.
"""

from __future__ import annotations

import base64
import random
from datetime import datetime, timedelta
from typing import Any

from connectors.sandbox import accounts
from connectors.sandbox.app import Ctx, Reply, Request, Response, Vendor, json_response, route
from connectors.sandbox.clock import iso_z, parse_instant, sortable, sortable_text
from connectors.sandbox.datagen import Gen
from connectors.sandbox.ratelimit import SlidingWindow
from connectors.sandbox.store import Where, register_kind

K_VISIT = "fieldcamp.visit"
K_INVOICE = "fieldcamp.invoice"
K_SYNC_JOB = "fieldcamp.sync_job"
K_CHANGE = "fieldcamp.calendar_change"

INTEGRATIONS = {
    "google-calendar": "google_calendar",
    "outlook-calendar": "outlook_calendar",
    "quickbooks": "quickbooks",
}
DEFAULT_CONNECTED = {"google-calendar": True, "outlook-calendar": True, "quickbooks": False}
VISIT_STATUSES = [
    "unscheduled",
    "scheduled",
    "dispatched",
    "en_route",
    "in_progress",
    "on_hold",
    "completed",
    "cancelled",
]
INVOICE_STATUSES = ["unpaid", "paid", "partial", "overdue"]
PREFIX = {
    K_VISIT: 0x665F1C0A,
    K_INVOICE: 0x6660AA01,
    "job": 0x665E0B11,
    "client": 0x665D0C22,
    "tech": 0x665C0D33,
}
SCHEDULE_MINUTES = 30


def oid(kind: str, n: int) -> str:
    """24-hex ObjectId-like id for internal integer ``n``."""
    return f"{PREFIX[kind]:08x}{n:016x}"


def from_oid(kind: str, value: str) -> int | None:
    try:
        if len(value) != 24 or int(value[:8], 16) != PREFIX[kind]:
            return None
        return int(value[8:], 16)
    except ValueError:
        return None


def _s(value: str | None) -> str | None:
    return sortable_text(value) if value else None


register_kind(
    K_VISIT,
    lambda d: {
        "id": from_oid(K_VISIT, d["id"]),
        "status": d["visitStatus"],
        "ref": d.get("jobNumber"),
        "created_at": _s(d["createdAt"]),
        "updated_at": _s(d["updatedAt"]),
    },
)
register_kind(
    K_INVOICE,
    lambda d: {
        "id": from_oid(K_INVOICE, d["id"]),
        "status": d["status"],
        "ref": d.get("clientId"),
        "created_at": _s(d["createdAt"]),
        "updated_at": _s(d["updatedAt"]),
    },
)
register_kind(
    K_SYNC_JOB,
    lambda d: {
        "id": d["_seq"],
        "ref": d["job_id"],
        "status": d["_integration"],
        "created_at": _s(d["created_at"]),
    },
)
register_kind(
    K_CHANGE,
    lambda d: {"id": d["_seq"], "updated_at": _s(d["changed_at"]), "ref": d.get("visit_id")},
)


def fc_error(message: str, status: int, code: str | None = None, **extra: Any) -> Reply:
    """String-shaped error, or object-shaped when ``code`` is given."""
    error: Any = {"code": code, "message": message, **extra} if code else message
    return Reply(json_response({"success": False, "error": error}, status))


def encode_cursor(sort_key: str, seq: int) -> str:
    return base64.urlsafe_b64encode(f"{sort_key}|{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    padded = cursor + "=" * (-len(cursor) % 4)
    key, _, seq = base64.urlsafe_b64decode(padded.encode()).decode().partition("|")
    return key, int(seq)


class FieldCampSandbox(Vendor):
    """The FieldCamp emulator. Python API: :meth:`set_connected`, :meth:`integration_states`,
    :meth:`sync_jobs`."""

    name = "fieldcamp"

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._window: SlidingWindow | None = None

    # --- auth, limits, errors ----------------------------------------------------------------
    def authenticate(self, req: Request) -> tuple[Any, str] | Response:
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
        return json_response(
            {"success": False, "error": {"code": "RATE_LIMITED", "message": "Too many requests"}},
            429,
            [("Retry-After", "60")],
        )

    def reset_limits(self) -> None:
        if self._window is not None:
            self._window.clear()

    def not_found(self, req: Request) -> Response:
        return json_response(
            {
                "success": False,
                "error": {"code": "NOT_FOUND", "message": f"Cannot {req.method} {req.full_path}"},
            },
            404,
        )

    def method_not_allowed(self, req: Request) -> Response:
        return self.not_found(req)

    def bad_json(self, req: Request) -> Response:
        return json_response({"success": False, "error": "Request body is not valid JSON"}, 400)

    # --- lists -------------------------------------------------------------------------------
    def _limit(self, ctx: Ctx) -> int:
        cfg = self.sandbox.config
        raw = ctx.req.arg("limit")
        try:
            limit = int(raw) if raw else cfg.fieldcamp_default_page_size
        except ValueError:
            raise fc_error("limit must be an integer", 400) from None
        return min(max(limit, 1), cfg.fieldcamp_max_page_size)

    def _since(self, ctx: Ctx, name: str = "since") -> str | None:
        raw = ctx.req.arg(name)
        if not raw:
            return None
        try:
            return sortable(parse_instant(raw))
        except ValueError:
            raise fc_error(f"{name} must be an ISO-8601 timestamp", 400) from None

    def _cursor_page(
        self, ctx: Ctx, kind: str, where: list[Where], order: str
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Keyset page on (``order`` column, id) ascending; cursor = last row's key."""
        limit = self._limit(ctx)
        cursor = ctx.req.arg("cursor")
        if cursor:
            try:
                key, seq = decode_cursor(cursor)
            except (ValueError, UnicodeDecodeError):
                raise fc_error("cursor is invalid", 400) from None
            where = [*where, Where(f"({order} > ? OR ({order} = ? AND id > ?))", (key, key, seq))]
        rows = ctx.store.select(kind, where, order=order, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = None
        if more and rows:
            last = rows[-1]
            stamp = last.get("updatedAt") or last.get("changed_at")
            next_cursor = encode_cursor(_s(stamp) or "", self._int_id(kind, last))
        return rows, next_cursor

    @staticmethod
    def _int_id(kind: str, row: dict[str, Any]) -> int:
        if kind in (K_VISIT, K_INVOICE):
            return from_oid(kind, row["id"]) or 0
        return row["_seq"]

    def _list(self, ctx: Ctx, kind: str, where: list[Where]) -> Response:
        rows, next_cursor = self._cursor_page(ctx, kind, where, "updated_at")
        return json_response(
            {
                "success": True,
                "data": rows,
                "meta": {
                    "count": len(rows),
                    "limit": self._limit(ctx),
                    "next_cursor": next_cursor,
                    "has_more": next_cursor is not None,
                },
            }
        )

    @route("GET", "/visits")
    def visits(self, ctx: Ctx) -> Response:
        """GET /visits?since=&visitStatus=&jobId=&limit=&cursor= (``visitStatus`` may repeat,
        vendor-apis.md §3.6). Ordered by ``updatedAt`` so ``since`` + cursor is an incremental
        feed."""
        where: list[Where] = []
        if (since := self._since(ctx)) is not None:
            where.append(Where("updated_at > ?", (since,)))
        statuses = [s for v in ctx.req.args("visitStatus") for s in v.split(",") if s]
        if statuses:
            unknown = set(statuses) - set(VISIT_STATUSES)
            if unknown:
                raise fc_error(f"visitStatus must be one of {', '.join(VISIT_STATUSES)}", 400)
            where.append(Where(f"status IN ({','.join('?' * len(statuses))})", tuple(statuses)))
        if ctx.req.arg("jobId"):
            where.append(Where("json_extract(data, '$.jobId') = ?", (ctx.req.arg("jobId"),)))
        return self._list(ctx, K_VISIT, where)

    @route("GET", "/visits/{id}")
    def visit_get(self, ctx: Ctx) -> Response:
        visit = ctx.store.get(K_VISIT, from_oid(K_VISIT, ctx.req.params["id"]) or -1)
        if visit is None:
            raise fc_error("Visit not found", 404)
        return json_response({"success": True, "data": visit})

    @route("GET", "/invoices")
    def invoices(self, ctx: Ctx) -> Response:
        """GET /invoices?since=&status=&clientId= (vendor-apis.md §3.6: filters clientId,
        status, since; statuses unpaid, paid, partial, overdue)."""
        where: list[Where] = []
        if (since := self._since(ctx)) is not None:
            where.append(Where("updated_at > ?", (since,)))
        if ctx.req.arg("status"):
            if ctx.req.arg("status") not in INVOICE_STATUSES:
                raise fc_error(f"status must be one of {', '.join(INVOICE_STATUSES)}", 400)
            where.append(Where("status = ?", (ctx.req.arg("status"),)))
        if ctx.req.arg("clientId"):
            where.append(Where("ref = ?", (ctx.req.arg("clientId"),)))
        return self._list(ctx, K_INVOICE, where)

    @route("GET", "/invoices/{id}")
    def invoice_get(self, ctx: Ctx) -> Response:
        invoice = ctx.store.get(K_INVOICE, from_oid(K_INVOICE, ctx.req.params["id"]) or -1)
        if invoice is None:
            raise fc_error("Invoice not found", 404)
        return json_response({"success": True, "data": invoice})

    # --- integrations ------------------------------------------------------------------------
    def integration_states(self) -> dict[str, Any]:
        """``{"google-calendar": {"connected": bool, "last_synced_at": iso|None}, ...}``."""
        states = self.sandbox.store.meta_get("fieldcamp.integrations") or {}
        return {
            name: {
                "connected": DEFAULT_CONNECTED[name],
                "last_synced_at": None,
                **states.get(name, {}),
            }
            for name in INTEGRATIONS
        }

    def set_connected(self, integration: str, connected: bool) -> None:
        """(Dis)connect an integration (``google-calendar``, ``outlook-calendar``, ``quickbooks``).
        Raises KeyError for another name."""
        if integration not in INTEGRATIONS:
            raise KeyError(integration)
        states = self.integration_states()
        states[integration]["connected"] = connected
        self.sandbox.store.meta_set("fieldcamp.integrations", states)

    def _job_status(self, job: dict[str, Any], now: datetime) -> tuple[str, datetime | None]:
        cfg = self.sandbox.config
        created = parse_instant(job["created_at"])
        queued = timedelta(seconds=cfg.fieldcamp_sync_queued_seconds)
        running = timedelta(seconds=cfg.fieldcamp_sync_running_seconds.get(job["_slug"], 10.0))
        if now < created + queued:
            return "queued", None
        if now < created + queued + running:
            return "running", None
        rng = random.Random(f"{self.sandbox.seed}:{job['job_id']}")
        outcome = "failed" if rng.random() < job["_failure_rate"] else "succeeded"
        return outcome, created + queued + running

    def sync_jobs(self, integration: str | None = None) -> list[dict[str, Any]]:
        """Every sync job (descriptor plus ``finished_at``), oldest first, with its status as of
        the sandbox clock."""
        where = [Where("status = ?", (INTEGRATIONS[integration],))] if integration else []
        now = self.sandbox.clock.now()
        out = []
        for job in self.sandbox.store.select(K_SYNC_JOB, where):
            status, finished = self._job_status(job, now)
            out.append(
                {
                    **self._descriptor(job, status),
                    "finished_at": iso_z(finished) if finished else None,
                }
            )
        return out

    @staticmethod
    def _descriptor(job: dict[str, Any], status: str) -> dict[str, Any]:
        return {k: job[k] for k in ("job_id", "integration", "mode", "created_at")} | {
            "status": status
        }

    def _slug(self, ctx: Ctx) -> str:
        slug = ctx.req.params["integration"]
        if slug not in INTEGRATIONS:
            raise Reply(self.not_found(ctx.req))
        return slug

    @route("POST", "/integrations/{integration}/sync")
    def sync_trigger(self, ctx: Ctx) -> Response:
        """POST /integrations/{google-calendar|outlook-calendar|quickbooks}/sync: answers the
        job descriptor ``{job_id, integration, mode, status: "queued", created_at}`` (seed
        002); 409 ``SYNC_IN_PROGRESS`` while one is queued or running for that integration;
        ``INTEGRATION_NOT_CONNECTED`` when not connected. Body ``{"mode": "incremental"|"full"}``
        (calendars) or ``{"scope": ...}`` (QuickBooks)."""
        slug = self._slug(ctx)
        body = ctx.req.json()
        body = body if isinstance(body, dict) else {}
        if not self.integration_states()[slug]["connected"]:
            raise fc_error(
                f"The {INTEGRATIONS[slug]} integration is not connected",
                400,
                "INTEGRATION_NOT_CONNECTED",
                integration=INTEGRATIONS[slug],
            )
        mode = body.get("mode", "incremental")
        if slug != "quickbooks" and mode not in ("incremental", "full"):
            raise fc_error("mode must be one of incremental, full", 400)
        now = ctx.now()
        for job in ctx.store.select(
            K_SYNC_JOB, [Where("status = ?", (INTEGRATIONS[slug],))], desc=True, limit=1
        ):
            status, _ = self._job_status(job, now)
            if status in ("queued", "running"):
                raise fc_error(
                    "A sync is already in progress for this integration",
                    409,
                    "SYNC_IN_PROGRESS",
                    active_job_id=job["job_id"],
                )
        seq = ctx.store.next_id(K_SYNC_JOB)
        rng = random.Random(f"{self.sandbox.seed}:syncjob:{seq}")
        job_id = "syn_" + "".join(rng.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(26))
        job = {
            "_seq": seq,
            "_slug": slug,
            "_integration": INTEGRATIONS[slug],
            "_failure_rate": self.sandbox.config.fieldcamp_sync_failure_rate,
            "job_id": job_id,
            "integration": INTEGRATIONS[slug],
            "mode": mode if slug != "quickbooks" else "incremental",
            "scope": body.get("scope", "all") if slug == "quickbooks" else None,
            "status": "queued",
            "created_at": iso_z(now),
        }
        ctx.store.put(K_SYNC_JOB, job)
        ctx.touch(K_SYNC_JOB, seq, "created")
        return json_response(
            {"success": True, "data": self._descriptor(job, "queued"), "meta": {}}, 202
        )

    @route("GET", "/integrations/{integration}/status")
    def sync_status(self, ctx: Ctx) -> Response:
        """GET /integrations/{integration}/status: ``{integration, connected, last_synced_at,
        next_scheduled_sync_at, active_job_id, errors}`` (seed 002, Google's; the same shape for
        the other two). ``errors`` lists the latest job's failure, if it failed."""
        slug = self._slug(ctx)
        state = self.integration_states()[slug]
        now = ctx.now()
        last_synced = (
            parse_instant(state["last_synced_at"]) if state.get("last_synced_at") else None
        )
        active = None
        errors: list[dict[str, Any]] = []
        jobs = ctx.store.select(K_SYNC_JOB, [Where("status = ?", (INTEGRATIONS[slug],))])
        for job in jobs:
            status, finished = self._job_status(job, now)
            if (
                status == "succeeded"
                and finished
                and (last_synced is None or finished > last_synced)
            ):
                last_synced = finished
            if status in ("queued", "running"):
                active = job["job_id"]
        if jobs:
            status, finished = self._job_status(jobs[-1], now)
            if status == "failed":
                errors.append(
                    {
                        "code": "SYNC_FAILED",
                        "message": f"{INTEGRATIONS[slug]} sync failed: upstream API error",
                        "job_id": jobs[-1]["job_id"],
                        "at": iso_z(finished) if finished else None,
                    }
                )
        next_at = (
            last_synced + timedelta(minutes=SCHEDULE_MINUTES)
            if last_synced and state["connected"]
            else None
        )
        return json_response(
            {
                "success": True,
                "data": {
                    "integration": INTEGRATIONS[slug],
                    "connected": state["connected"],
                    "last_synced_at": iso_z(last_synced) if last_synced else None,
                    "next_scheduled_sync_at": iso_z(next_at) if next_at else None,
                    "active_job_id": active,
                    "errors": errors,
                },
                "meta": {},
            }
        )

    @route("GET", "/integrations/google-calendar/sync")
    def calendar_changes(self, ctx: Ctx) -> Response:
        """GET /integrations/google-calendar/sync?since=&cursor=&limit=: change records
        ``{action: created|updated|deleted, visit_id, google_event_id, changed_at}`` after
        ``since`` (default: the last successful sync), with ``next_cursor`` (seed 002)."""
        if not self.integration_states()["google-calendar"]["connected"]:
            raise fc_error(
                "The google_calendar integration is not connected",
                400,
                "INTEGRATION_NOT_CONNECTED",
                integration="google_calendar",
            )
        since = self._since(ctx)
        if since is None and not ctx.req.arg("cursor"):
            last = self._last_success("google-calendar", ctx.now())
            since = sortable(last) if last else None
        where = [Where("updated_at > ?", (since,))] if since else []
        where.append(Where("updated_at <= ?", (sortable(ctx.now()),)))
        rows, next_cursor = self._cursor_page(ctx, K_CHANGE, where, "updated_at")
        changes = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
        return json_response(
            {
                "success": True,
                "data": {"changes": changes, "next_cursor": next_cursor},
                "meta": {"count": len(changes)},
            }
        )

    def _last_success(self, slug: str, now: datetime) -> datetime | None:
        state = self.integration_states()[slug]
        best = parse_instant(state["last_synced_at"]) if state.get("last_synced_at") else None
        for job in self.sandbox.store.select(
            K_SYNC_JOB, [Where("status = ?", (INTEGRATIONS[slug],))]
        ):
            status, finished = self._job_status(job, now)
            if status == "succeeded" and finished and (best is None or finished > best):
                best = finished
        return best

    # --- data --------------------------------------------------------------------------------
    def generate(self, gen: Gen) -> None:
        generate_fieldcamp(self, gen)

    def churn(self, count: int, rng: Any) -> dict[str, Any]:
        return churn_fieldcamp(self, count, rng)


def visit_record(
    n: int,
    *,
    job_n: int,
    job_number: str,
    client_n: int,
    tech_n: int | None,
    title: str,
    start: datetime | None,
    minutes: int,
    status: str,
    created: datetime,
    updated: datetime,
    address: str,
    event: str | None,
) -> dict[str, Any]:
    return {
        "id": oid(K_VISIT, n),
        "jobId": oid("job", job_n),
        "jobNumber": job_number,
        "clientId": oid("client", client_n),
        "title": title,
        "scheduledStart": iso_z(start) if start else None,
        "scheduledEnd": iso_z(start + timedelta(minutes=minutes)) if start else None,
        "serviceDuration": minutes,
        "technicianId": oid("tech", tech_n) if tech_n else None,
        "visitStatus": status,
        "address": address,
        "googleEventId": event,
        "createdAt": iso_z(created),
        "updatedAt": iso_z(updated),
    }


def change_record(seq: int, action: str, visit: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {
        "_seq": seq,
        "id": f"chg_{seq:010d}",
        "action": action,
        "visit_id": visit["id"],
        "google_event_id": visit.get("googleEventId"),
        "changed_at": iso_z(at),
    }


def _event_id(rng: Any) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuv0123456789") for _ in range(26))


TITLES = [
    "Lawn mowing",
    "Gutter cleaning",
    "AC maintenance",
    "Pest control treatment",
    "Window cleaning",
    "Pool service",
    "Carpet cleaning",
    "Irrigation repair",
    "Pressure washing",
    "Appliance repair",
]


def generate_fieldcamp(v: FieldCampSandbox, gen: Gen) -> None:
    store = v.sandbox.store
    rng, fake = gen.rng, gen.fake
    n_visits = max(20, gen.n // 2)
    n_clients = max(10, gen.n // 25)
    techs = list(range(1, 11))
    addresses = [fake.address().replace("\n", ", ") for _ in range(min(n_clients, 2000))]
    visits, changes, invoices = [], [], []
    change_seq = 1
    recent = gen.anchor - timedelta(days=30)
    job_n = 0
    starts = sorted(gen.past(240, -21) for _ in range(n_visits))
    for i, start in enumerate(starts, 1):
        if i == 1 or rng.random() < 0.75:
            job_n += 1
        client = (job_n * 7919) % n_clients + 1
        start = start.replace(minute=rng.choice([0, 15, 30, 45]), second=0, microsecond=0)
        created = min(start - timedelta(days=rng.uniform(0.5, 20)), gen.anchor)
        ahead = (start - gen.anchor).total_seconds() / 3600
        if ahead > 24:
            status = rng.choices(
                ["scheduled", "unscheduled", "dispatched", "cancelled"], [70, 10, 15, 5]
            )[0]
        elif ahead > -3:
            status = rng.choice(["dispatched", "en_route", "in_progress", "on_hold", "scheduled"])
        else:
            status = rng.choices(["completed", "cancelled", "on_hold"], [88, 9, 3])[0]
        minutes = rng.choice([30, 45, 60, 90, 120])
        updated = min(created + timedelta(minutes=rng.randint(1, 600)), gen.anchor)
        if status in ("completed", "on_hold"):
            updated = min(start + timedelta(minutes=minutes + rng.randint(0, 120)), gen.anchor)
        visit = visit_record(
            i,
            job_n=job_n,
            job_number=f"JOB-{1000 + job_n}",
            client_n=client,
            tech_n=None if status == "unscheduled" else rng.choice(techs),
            title=rng.choice(TITLES),
            start=None if status == "unscheduled" else start,
            minutes=minutes,
            status=status,
            created=created,
            updated=updated,
            address=addresses[client % len(addresses)],
            event=None if status == "unscheduled" else _event_id(rng),
        )
        visits.append(visit)
        if visit["googleEventId"] and updated > recent:
            if created > recent:
                changes.append(change_record(change_seq, "created", visit, created))
                change_seq += 1
            action = "deleted" if status == "cancelled" else "updated"
            if updated > created:
                changes.append(change_record(change_seq, action, visit, updated))
                change_seq += 1
        if status == "completed" and rng.random() < 0.6:
            issue = min(updated + timedelta(hours=rng.randint(1, 48)), gen.anchor)
            invoices.append(
                invoice_record(len(invoices) + 1, visit, client, issue, gen.anchor, rng)
            )
    changes.sort(key=lambda c: (c["changed_at"], c["_seq"]))
    for seq, change in enumerate(changes, 1):
        change["_seq"] = seq
        change["id"] = f"chg_{seq:010d}"
    store.put_many(K_VISIT, visits)
    store.put_many(K_CHANGE, changes)
    store.put_many(K_INVOICE, invoices)
    store.set_sequence(K_VISIT, len(visits) + 1)
    store.set_sequence(K_CHANGE, len(changes) + 1)
    store.set_sequence(K_INVOICE, len(invoices) + 1)
    store.set_sequence("fieldcamp.job", job_n + 1)
    store.set_sequence("fieldcamp.client", n_clients + 1)
    last = gen.anchor - timedelta(minutes=25)
    store.meta_set(
        "fieldcamp.integrations",
        {
            "google-calendar": {"connected": True, "last_synced_at": iso_z(last)},
            "outlook-calendar": {
                "connected": True,
                "last_synced_at": iso_z(last - timedelta(minutes=3)),
            },
            "quickbooks": {"connected": False, "last_synced_at": None},
        },
    )


def invoice_record(
    n: int, visit: dict[str, Any], client: int, issued: datetime, anchor: datetime, rng: Any
) -> dict[str, Any]:
    items = []
    for _ in range(rng.randint(1, 3)):
        qty = rng.choice([1, 1, 2, 3])
        price = rng.choice([45.0, 60.0, 85.0, 120.0, 150.0, 19.99])
        items.append(
            {
                "name": rng.choice(TITLES),
                "quantity": qty,
                "unitPrice": price,
                "discount": 0,
                "markup": 0,
                "total": round(qty * price, 2),
            }
        )
    subtotal = round(sum(i["total"] for i in items), 2)
    discount = round(subtotal * 0.05, 2) if rng.random() < 0.1 else 0.0
    tax = round((subtotal - discount) * 0.06, 2)
    total = round(subtotal - discount + tax, 2)
    due = issued + timedelta(days=15)
    age = (anchor - issued).days
    status = (
        rng.choices(["paid", "unpaid", "partial"], [70, 20, 10])[0]
        if age > 10
        else rng.choice(["unpaid", "unpaid", "paid"])
    )
    if status == "unpaid" and anchor > due:
        status = "overdue"
    paid = total if status == "paid" else round(total / 2, 2) if status == "partial" else 0.0
    return {
        "id": oid(K_INVOICE, n),
        "invoiceNumber": f"INV-{10000 + n}",
        "clientId": oid("client", client),
        "jobId": visit["jobId"],
        "visitId": visit["id"],
        "status": status,
        "issueDate": issued.strftime("%Y-%m-%d"),
        "dueDate": due.strftime("%Y-%m-%d"),
        "lineItems": items,
        "discount": discount,
        "markup": 0.0,
        "subtotal": subtotal,
        "tax": tax,
        "total": total,
        "amountPaid": paid,
        "balance": round(total - paid, 2),
        "currency": "USD",
        "createdAt": iso_z(issued),
        "updatedAt": iso_z(
            min(issued + timedelta(days=rng.randint(0, 30)), anchor)
            if status != "unpaid"
            else issued
        ),
    }


def churn_fieldcamp(v: FieldCampSandbox, count: int, rng: Any) -> dict[str, Any]:
    """Reschedule some visits, add new ones, cancel one (each with a calendar change record),
    and settle an invoice; stamped with the sandbox's now."""
    sb = v.sandbox
    store = sb.store
    now = sb.clock.now()
    out: dict[str, list[str]] = {"updated": [], "created": [], "deleted": []}
    if count <= 0:
        return out

    def change(action: str, visit: dict[str, Any]) -> None:
        seq = store.next_id(K_CHANGE)
        store.put(K_CHANGE, change_record(seq, action, visit, now))

    upcoming = store.ids(K_VISIT, [Where("status IN ('scheduled', 'dispatched')")])
    for n in rng.sample(upcoming, min(len(upcoming), max(count // 2, 1))):
        visit = store.get(K_VISIT, n)
        shift = timedelta(hours=rng.choice([-2, -1, 1, 2, 24, 48]))
        start = parse_instant(visit["scheduledStart"]) + shift
        visit.update(
            scheduledStart=iso_z(start),
            scheduledEnd=iso_z(start + timedelta(minutes=visit["serviceDuration"])),
            updatedAt=iso_z(now),
        )
        store.put(K_VISIT, visit)
        change("updated", visit)
        out["updated"].append(visit["id"])
    for _ in range(max(count // 4, 1)):
        n = store.next_id(K_VISIT)
        job_n = store.next_id("fieldcamp.job")
        start = (now + timedelta(days=rng.randint(1, 14))).replace(
            hour=rng.randint(8, 16), minute=0, second=0, microsecond=0
        )
        visit = visit_record(
            n,
            job_n=job_n,
            job_number=f"JOB-{1000 + job_n}",
            client_n=rng.randint(1, 10),
            tech_n=rng.randint(1, 10),
            title=rng.choice(TITLES),
            start=start,
            minutes=60,
            status="scheduled",
            created=now,
            updated=now,
            address="To be confirmed",
            event=_event_id(rng),
        )
        store.put(K_VISIT, visit)
        change("created", visit)
        out["created"].append(visit["id"])
    cancellable = sorted(set(upcoming) - {from_oid(K_VISIT, i) for i in out["updated"]})
    if count >= 10 and cancellable:
        visit = store.get(K_VISIT, rng.choice(cancellable))
        visit.update(visitStatus="cancelled", updatedAt=iso_z(now))
        store.put(K_VISIT, visit)
        change("deleted", visit)
        out["deleted"].append(visit["id"])
    open_invoices = store.ids(K_INVOICE, [Where("status IN ('unpaid', 'overdue', 'partial')")])
    for n in rng.sample(open_invoices, min(len(open_invoices), max(count // 10, 1))):
        invoice = store.get(K_INVOICE, n)
        invoice.update(
            status="paid", amountPaid=invoice["total"], balance=0.0, updatedAt=iso_z(now)
        )
        store.put(K_INVOICE, invoice)
    return out
