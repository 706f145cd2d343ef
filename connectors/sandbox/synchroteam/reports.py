"""Synchroteam job photos and job reports: ``GET job/photos``, ``GET jobReport/details``."""

from __future__ import annotations

from connectors.sandbox.vendor import Ctx, route
from connectors.sandbox.web import Response, json_response

from .datagen_reports import PHOTO_ID_FACTOR, job_photos, job_report, photo_png
from .records import K, st_error
from .resources import RESOURCES, ResourceRoutes


class ReportRoutes(ResourceRoutes):
    """Mixin of :class:`~.emulator.SynchroteamSandbox`: photos and reports of a job. Routes are
    registered lower-case: Synchroteam paths are matched on the lowercased path
    (``case_insensitive``), and static segments win over the generic ``<resource>/details``."""

    def _job_from_args(self, ctx: Ctx) -> dict:
        return self._lookup(ctx, RESOURCES["job"], {k: v for k, v in ctx.req.args.items()})

    @route("GET", "/job/photos")
    def job_photos(self, ctx: Ctx) -> Response:
        """``GET job/photos?id=`` (or ``num``, ``myId``) -> ``{"jobPhoto": [{id, jobId, name,
        comment, dateTaken, width, height, user, url}]}`` (the ``jobPhoto`` wrapper and
        ``comment`` from synchroteam-py, vendor-apis.md §2.3; the other keys are the sandbox's
        reading, no vendor sample exists). ``url`` is a sandbox route serving the photo's
        generated 16x16 PNG (synchroteam-py downloads photo files through the web UI, which the
        sandbox does not emulate). Jobs not yet started answer an empty list; 404
        ``{"message": "Job not found."}``, 400 without an identifier (as ``job/details``)."""
        job = self._job_from_args(ctx)
        base = f"{ctx.req.host_url.rstrip('/')}{self.base_path()}/job/photos/file?id="
        photos = [{**p, "url": f"{base}{p['id']}"} for p in job_photos(self.sandbox.seed, job)]
        return json_response({"jobPhoto": photos})

    @route("GET", "/job/photos/file")
    def job_photo_file(self, ctx: Ctx) -> Response:
        """``GET job/photos/file?id=<photo id>``: the photo as ``image/png`` (sandbox-only route
        behind each photo's ``url``); 404 ``{"message": "Photo not found."}``."""
        try:
            photo_id = int(ctx.req.args.get("id", ""))
        except ValueError:
            raise st_error("Photo not found.", 404) from None
        job = ctx.store.get(K["job"], photo_id // PHOTO_ID_FACTOR) if 0 < photo_id < 2**63 else None
        ids = {p["id"] for p in job_photos(self.sandbox.seed, job)} if job else set()
        if photo_id not in ids:
            raise st_error("Photo not found.", 404)
        return Response(photo_png(self.sandbox.seed, photo_id), mimetype="image/png")

    @route("GET", "/jobreport/details")
    def job_report_details(self, ctx: Ctx) -> Response:
        """``GET jobReport/details?id=`` (or ``num``, ``myId``): the job's report, unwrapped,
        with ``items`` ``[{name, type, value}]`` (synchroteam-py ``reports_api.py`` reads
        ``report["items"]`` by ``name``; vendor-apis.md §2.3). Items depend on the job's trade
        (HVAC, plumbing, electrical). 404 ``{"message": "Job report not found."}`` when the job
        has no report (not started or cancelled; synchroteam-py treats 404 as "no report"),
        404 ``{"message": "Job not found."}`` for an unknown job, 400 without an identifier."""
        report = job_report(self.sandbox.seed, self._job_from_args(ctx))
        if report is None:
            raise st_error("Job report not found.", 404)
        return json_response(report)
