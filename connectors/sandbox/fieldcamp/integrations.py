"""FieldCamp integration routes (seed 002): sync triggers and their job descriptors, the
status route, Google Calendar change records; and the inspection helpers the control plane
and tests use."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from connectors.sandbox.clock import iso_z, parse_instant, sortable
from connectors.sandbox.store import Where
from connectors.sandbox.vendor import Ctx, route
from connectors.sandbox.web import Reply, Response, json_response

from .paging import CursorPaging
from .records import (
    DEFAULT_CONNECTED,
    INTEGRATIONS,
    K_CHANGE,
    K_SYNC_JOB,
    SCHEDULE_MINUTES,
    fc_error,
)


class IntegrationRoutes(CursorPaging):
    """Mixin of :class:`~.emulator.FieldCampSandbox`: ``/integrations/...``, sync jobs on the
    sandbox clock."""

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
        slug = ctx.req.view_args["integration"]
        if slug not in INTEGRATIONS:
            raise Reply(self.unknown_route(ctx.req))
        return slug

    @route("POST", "/integrations/{integration}/sync")
    def sync_trigger(self, ctx: Ctx) -> Response:
        """POST /integrations/{google-calendar|outlook-calendar|quickbooks}/sync: answers the
        job descriptor ``{job_id, integration, mode, status: "queued", created_at}`` (seed
        002); 409 ``SYNC_IN_PROGRESS`` while one is queued or running for that integration;
        ``INTEGRATION_NOT_CONNECTED`` when not connected. Body ``{"mode": "incremental"|"full"}``
        (calendars) or ``{"scope": ...}`` (QuickBooks)."""
        slug = self._slug(ctx)
        body = ctx.req.json_body()
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
        if since is None and not ctx.req.args.get("cursor"):
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
