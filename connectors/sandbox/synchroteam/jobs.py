"""Synchroteam job scheduling routes (``job/schedule``, ``job/unschedule``) and the
catalogue lists (``customfield/list``, ``jobtype/list``)."""

from __future__ import annotations

from datetime import datetime

from connectors.sandbox.vendor import Ctx, route
from connectors.sandbox.web import Response, json_response

from .records import (
    CUSTOM_FIELDS,
    DATE_FMT,
    JOB_TYPES,
    SCHEDULABLE,
    K,
    st_date,
    st_error,
)
from .resources import RESOURCES, ResourceRoutes


class JobRoutes(ResourceRoutes):
    """Mixin of :class:`~.emulator.SynchroteamSandbox`: scheduling and catalogue routes."""

    # --- job scheduling ----------------------------------------------------------------------
    @route("POST", "/job/schedule")
    def job_schedule(self, ctx: Ctx) -> Response:
        """``POST job/schedule {"id"|"myId"|"num", "technician": {"id"}, "scheduledStart",
        "scheduledEnd"}``: both datetimes required, as ``YYYY-MM-DD HH:MM:SS`` (ief_lib).
        Sets status ``scheduled``; jobs already started or later cannot be rescheduled."""
        body = ctx.req.json_body()
        if not isinstance(body, dict):
            raise st_error("The request is invalid.", 400)
        job = self._lookup(ctx, RESOURCES["job"], body)
        tech = self._resolve(ctx, "user", body.get("technician"), required=True)
        start, end = body.get("scheduledStart"), body.get("scheduledEnd")
        if not start or not end:
            raise st_error("scheduledStart and scheduledEnd are required.", 400)
        try:
            start_dt = datetime.strptime(str(start), DATE_FMT)
            end_dt = datetime.strptime(str(end), DATE_FMT)
        except ValueError:
            raise st_error("Dates must be formatted as yyyy-MM-dd HH:mm:ss.", 400) from None
        if end_dt <= start_dt:
            raise st_error("scheduledEnd must be after scheduledStart.", 400)
        if job["status"] not in SCHEDULABLE:
            raise st_error(f"A job in status '{job['status']}' cannot be scheduled.", 400)
        job.update(
            status="scheduled",
            technician={"id": tech["id"], "login": tech["login"], "name": tech["name"]},
            scheduledStart=st_date(start_dt),
            scheduledEnd=st_date(end_dt),
            dateModified=st_date(ctx.now()),
        )
        ctx.store.put(K["job"], job)
        ctx.touch(K["job"], job["id"], "updated")
        return json_response(job)

    @route("POST", "/job/unschedule")
    def job_unschedule(self, ctx: Ctx) -> Response:
        """``POST job/unschedule {"id"|"myId"|"num"}``: back to ``created`` without technician or times; 400 unless the job is schedulable."""
        body = ctx.req.json_body()
        job = self._lookup(ctx, RESOURCES["job"], body if isinstance(body, dict) else {})
        if job["status"] not in SCHEDULABLE:
            raise st_error(f"A job in status '{job['status']}' cannot be unscheduled.", 400)
        job.update(
            status="created",
            technician=None,
            scheduledStart=None,
            scheduledEnd=None,
            dateModified=st_date(ctx.now()),
        )
        ctx.store.put(K["job"], job)
        ctx.touch(K["job"], job["id"], "updated")
        return json_response(job)

    @route("POST", "/customfield/list")
    def customfield_list(self, ctx: Ctx) -> Response:
        """``POST customfield/list {"type": "job"|"customer"|"site"|"equipment"|"user"}``; GET
        answers 405 (TS client: "customfield/list answers 405 on GET — use POST")."""
        body = ctx.req.json_body()
        body = body if isinstance(body, dict) else {}
        kinds = [body["type"]] if body.get("type") in CUSTOM_FIELDS else list(CUSTOM_FIELDS)
        rows = [{**f, "type": f["type"], "objectType": k} for k in kinds for f in CUSTOM_FIELDS[k]]
        page, size = self._paging(ctx, body)
        return json_response(
            {
                "page": page,
                "pageSize": size,
                "recordsTotal": len(rows),
                "data": rows[(page - 1) * size : page * size],
            }
        )

    @route("GET", "/jobtype/list")
    def jobtype_list(self, ctx: Ctx) -> Response:
        """``GET jobtype/list``: every job type on one page."""
        rows = [{"id": i, "name": n, "category": c} for i, n, c in JOB_TYPES]
        return json_response(
            {"page": 1, "pageSize": len(rows), "recordsTotal": len(rows), "data": rows}
        )
