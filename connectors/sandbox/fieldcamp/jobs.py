"""FieldCamp jobs (``POST /jobs`` with ``jobNumber`` idempotency, ``GET /jobs``, ``GET
/jobs/{id}``) and ``GET /invoices/{id}/payment-link`` (vendor-apis.md §3.2, §3.3, §3.6)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from connectors.sandbox.clock import iso_z, parse_instant
from connectors.sandbox.store import Where
from connectors.sandbox.vendor import Ctx, route
from connectors.sandbox.web import Response, json_response

from .paging import CursorPaging
from .records import (
    K_INVOICE,
    K_JOB,
    K_VISIT,
    fc_error,
    from_oid,
    oid,
    visit_record,
)

#: Job statuses the sandbox accepts on create (``completed``/``cancelled`` are the legacy
#: docs' only named ones; the rest mirror the visit lifecycle).
JOB_STATUSES = ("unscheduled", "scheduled", "in_progress", "on_hold", "completed", "cancelled")

#: Longest ``jobNumber`` accepted (docs silent; keeps a pasted document out of an index).
MAX_JOB_NUMBER = 100

#: A visit to create: ``(scheduledStart, scheduledEnd, technicianId)``, times None if unscheduled.
Window = tuple[datetime | None, datetime | None, str | None]

#: A Stripe Checkout Session expires 24 hours after creation by default.
PAYMENT_LINK_TTL = timedelta(hours=24)


def _instant(body: dict[str, Any], key: str) -> datetime | None:
    raw = body.get(key)
    if raw in (None, ""):
        return None
    try:
        return parse_instant(str(raw))
    except (ValueError, OverflowError):
        raise fc_error(f"{key} must be an ISO-8601 UTC timestamp", 400) from None


class JobRoutes(CursorPaging):
    """Mixin of :class:`~.emulator.FieldCampSandbox`: jobs and invoice payment links."""

    # --- lookups -----------------------------------------------------------------------------
    def _client_n(self, ctx: Ctx, raw: Any) -> int:
        """The client number behind ``clientId`` (a client is known through its visits or
        jobs; the data set has no client records); 400 when blank, 404 when unknown."""
        if raw in (None, ""):
            raise fc_error("clientId is required", 400)
        n = from_oid("client", str(raw))
        known = (
            n is not None
            and n < 2**63
            and (
                ctx.store.count(K_JOB, [Where("customer_id = ?", (n,))])
                or ctx.store.select_raw(
                    K_VISIT, [Where("json_extract(data, '$.clientId') = ?", (str(raw),))], limit=1
                )
            )
        )
        if not known:
            raise fc_error("Client not found", 404)
        return n

    def _existing_job_id(self, ctx: Ctx, job_number: str) -> str | None:
        """The id of the job holding ``job_number``: a job created through the API, or a
        generated job (the data set stores generated jobs only through their visits)."""
        for kind in (K_JOB, K_VISIT):
            found = ctx.store.select(kind, [Where("ref = ?", (job_number,))], limit=1)
            if found:
                return found[0]["id"] if kind == K_JOB else found[0]["jobId"]
        return None

    def _job_summary(self, ctx: Ctx, job_number: str) -> dict[str, Any] | None:
        """A stored job, or one rebuilt from a generated job's visits (``visitIds`` in order)."""
        found = ctx.store.select(K_JOB, [Where("ref = ?", (job_number,))], limit=1)
        if found:
            return found[0]
        visits = ctx.store.select(K_VISIT, [Where("ref = ?", (job_number,))])
        if not visits:
            return None
        first, last = visits[0], visits[-1]
        return {
            "id": first["jobId"],
            "jobNumber": job_number,
            "clientId": first["clientId"],
            "title": first["title"],
            "description": None,
            "jobStatus": last["visitStatus"]
            if last["visitStatus"] in JOB_STATUSES
            else "scheduled",
            "startDateTime": first["scheduledStart"],
            "endDateTime": last["scheduledEnd"],
            "timezone": "UTC",
            "assignedToTeams": sorted({v["technicianId"] for v in visits if v["technicianId"]}),
            "address": first["address"],
            "visitIds": [v["id"] for v in visits],
            "createdAt": first["createdAt"],
            "updatedAt": max(v["updatedAt"] for v in visits),
        }

    # --- jobs --------------------------------------------------------------------------------
    @route("POST", "/jobs")
    def job_create(self, ctx: Ctx) -> Response:
        """POST /jobs (JSON): ``jobNumber`` and ``clientId`` required; ``title``,
        ``description``, ``startDateTime``/``endDateTime`` (UTC ISO-8601, both or neither),
        ``timezone`` (display hint only), ``assignedToTeams`` (technician *user* ids),
        ``jobStatus``, ``address``, ``visits``. Answers 200 ``{"success": true, "data": job}``
        with ``data.visits``; with a window and ``visits`` empty or absent FieldCamp
        auto-generates one visit from the job window (§3.6), each entry of a non-empty
        ``visits`` (``scheduledStart``, ``scheduledEnd``, ``technicianId``) becomes a visit.

        Idempotency (§3.2): no ``Idempotency-Key`` support (the header is ignored); a second
        create with a ``jobNumber`` already used -> **409** ``{"success": false, "error":
        {"code": "DUPLICATE_JOB_NUMBER", "message", "jobId"}}`` and nothing is written (§3.3:
        "409 Conflict (e.g. duplicate jobNumber): handle idempotently"). The docs name the
        status, not the body: the object-shaped error and ``jobId`` (the existing job, so a
        client can adopt it) are the sandbox's decision. Other errors are 400 with a string
        ``error``, the errors page's shape (``"jobNumber is required"``); an unknown client ->
        404 ``"Client not found"``."""
        body = ctx.req.json_body()
        if not isinstance(body, dict):
            raise fc_error("Request body must be a JSON object", 400)
        job, windows, client_n = self._validated_job(ctx, body)
        existing = self._existing_job_id(ctx, job["jobNumber"])
        if existing is not None:
            raise fc_error(
                f"A job with jobNumber '{job['jobNumber']}' already exists",
                409,
                "DUPLICATE_JOB_NUMBER",
                jobId=existing,
            )
        now = ctx.now()
        job_n = ctx.store.next_id("fieldcamp.job")
        job.update(id=oid("job", job_n), createdAt=iso_z(now), updatedAt=iso_z(now))
        visits = [self._new_visit(ctx, job, job_n, client_n, window, now) for window in windows]
        job["visitIds"] = [v["id"] for v in visits]
        ctx.store.put(K_JOB, job)
        ctx.touch(K_JOB, job_n, "created")
        return json_response({"success": True, "data": {**job, "visits": visits}})

    def _validated_job(
        self, ctx: Ctx, body: dict[str, Any]
    ) -> tuple[dict[str, Any], list[Window], int]:
        """The job's fields (without id and times), its visit windows and client number from
        a POST /jobs body; 400/404 :func:`fc_error` on the first invalid field."""
        number = body.get("jobNumber")
        if not isinstance(number, str) or not number.strip():
            raise fc_error("jobNumber is required", 400)
        number = number.strip()
        if len(number) > MAX_JOB_NUMBER:
            raise fc_error(f"jobNumber must be at most {MAX_JOB_NUMBER} characters", 400)
        client_n = self._client_n(ctx, body.get("clientId"))
        start, end = _instant(body, "startDateTime"), _instant(body, "endDateTime")
        if (start is None) != (end is None):
            raise fc_error("startDateTime and endDateTime must be given together", 400)
        if start and end and end <= start:
            raise fc_error("endDateTime must be after startDateTime", 400)
        teams = body.get("assignedToTeams") or []
        if not isinstance(teams, list) or not all(isinstance(t, str) for t in teams):
            raise fc_error("assignedToTeams must be a list of user ids", 400)
        visits_in = body.get("visits") or []
        if not isinstance(visits_in, list) or not all(isinstance(v, dict) for v in visits_in):
            raise fc_error("visits must be a list of objects", 400)
        status = body.get("jobStatus") or ("scheduled" if start else "unscheduled")
        if status not in JOB_STATUSES:
            raise fc_error(f"jobStatus must be one of {', '.join(JOB_STATUSES)}", 400)
        windows: list[Window] = (
            [(start, end, teams[0] if teams else None)] if start and not visits_in else []
        )
        for v in visits_in:
            v_start, v_end = _instant(v, "scheduledStart"), _instant(v, "scheduledEnd")
            if v_start and v_end and v_end <= v_start:
                raise fc_error("visit scheduledEnd must be after scheduledStart", 400)
            tech = v.get("technicianId")
            windows.append((v_start, v_end, tech if isinstance(tech, str) else None))
        job = {
            "id": None,
            "jobNumber": number,
            "clientId": oid("client", client_n),
            "title": str(body.get("title") or ""),
            "description": body.get("description"),
            "jobStatus": status,
            "startDateTime": iso_z(start) if start else None,
            "endDateTime": iso_z(end) if end else None,
            "timezone": str(body.get("timezone") or "UTC"),
            "assignedToTeams": teams,
            "address": str(body.get("address") or ""),
            "visitIds": [],
            "createdAt": None,
            "updatedAt": None,
        }
        return job, windows, client_n

    @staticmethod
    def _new_visit(
        ctx: Ctx,
        job: dict[str, Any],
        job_n: int,
        client_n: int,
        window: Window,
        now: datetime,
    ) -> dict[str, Any]:
        """Store and report one visit of ``job`` for ``window`` (start, end, technician id)."""
        v_start, v_end, tech = window
        n = ctx.store.next_id(K_VISIT)
        minutes = int((v_end - v_start).total_seconds() // 60) if v_start and v_end else 60
        visit = visit_record(
            n,
            job_n=job_n,
            job_number=job["jobNumber"],
            client_n=client_n,
            tech_n=None,
            title=job["title"],
            start=v_start,
            minutes=minutes,
            status="scheduled" if v_start else "unscheduled",
            created=now,
            updated=now,
            address=job["address"],
            event=None,
        )
        visit["technicianId"] = tech
        ctx.store.put(K_VISIT, visit)
        ctx.touch(K_VISIT, n, "created")
        return visit

    @route("GET", "/jobs")
    def jobs(self, ctx: Ctx) -> Response:
        """GET /jobs?jobNumber=&clientId=&since=&limit=&cursor= (§3.6: server-side filters,
        including by ``jobNumber``, for the look-up before a create). With ``jobNumber`` the
        answer holds that job (also a generated one, rebuilt from its visits) or nothing;
        otherwise the jobs created through the API, ordered by ``updatedAt``, cursor-paged as
        ``/visits``."""
        number = (ctx.req.args.get("jobNumber") or "").strip()
        if number:
            job = self._job_summary(ctx, number)
            client = ctx.req.args.get("clientId")
            rows = [job] if job and (not client or job["clientId"] == client) else []
            meta = {"count": len(rows), "limit": self._limit(ctx), "next_cursor": None}
            return json_response(
                {"success": True, "data": rows, "meta": {**meta, "has_more": False}}
            )
        where: list[Where] = []
        if (since := self._since(ctx)) is not None:
            where.append(Where("updated_at > ?", (since,)))
        if ctx.req.args.get("clientId"):
            n = from_oid("client", ctx.req.args.get("clientId", ""))
            where.append(Where("customer_id = ?", (n if n is not None and n < 2**63 else -1,)))
        return self._list(ctx, K_JOB, where)

    @route("GET", "/jobs/{id}")
    def job_get(self, ctx: Ctx) -> Response:
        """GET /jobs/{id}: a job created through the API; 404 ``"Job not found"`` (string error)."""
        n = from_oid("job", ctx.req.view_args["id"])
        job = ctx.store.get(K_JOB, n) if n is not None and n < 2**63 else None
        if job is None:
            raise fc_error("Job not found", 404)
        return json_response({"success": True, "data": job})

    # --- invoices ----------------------------------------------------------------------------
    @route("GET", "/invoices/{id}/payment-link")
    def invoice_payment_link(self, ctx: Ctx) -> Response:
        """GET /invoices/{id}/payment-link: "returns a hosted Stripe checkout URL" (§3.6) ->
        ``{"success": true, "data": {"invoiceId", "url", "amount", "currency", "expiresAt"}}``.
        The docs give no body: the keys are the sandbox's reading. ``url`` is a Stripe Checkout
        address (``https://checkout.stripe.com/c/pay/cs_live_...``; never fetched by the
        sandbox), the same for the same invoice and balance during the sandbox's UTC day;
        ``amount`` is the invoice's ``balance``; ``expiresAt`` 24 h later (Stripe's default
        session lifetime). A paid invoice -> 400 ``"Invoice is already paid"`` (docs silent);
        unknown -> 404 ``"Invoice not found"``."""
        n = from_oid(K_INVOICE, ctx.req.view_args["id"])
        invoice = ctx.store.get(K_INVOICE, n) if n is not None and n < 2**63 else None
        if invoice is None:
            raise fc_error("Invoice not found", 404)
        if invoice["status"] == "paid" or invoice["balance"] <= 0:
            raise fc_error("Invoice is already paid", 400)
        now = ctx.now()
        day = now.strftime("%Y-%m-%d")
        digest = hashlib.sha256(
            f"{self.sandbox.seed}:{invoice['id']}:{invoice['balance']}:{day}".encode()
        ).hexdigest()
        return json_response(
            {
                "success": True,
                "data": {
                    "invoiceId": invoice["id"],
                    "url": f"https://checkout.stripe.com/c/pay/cs_live_{digest[:40]}",
                    "amount": invoice["balance"],
                    "currency": invoice["currency"],
                    "expiresAt": iso_z(now + PAYMENT_LINK_TTL),
                },
            }
        )
