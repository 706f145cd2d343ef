"""Synchroteam write operations for the outbox: how each job write is sent once and found again.

Synchroteam has no idempotency key. ``POST job/send`` without ``id`` creates a job; with ``id``
(or a ``myId`` it already knows) it partially updates one (vendor-apis.md §2.3, ief_lib: "without
id = create; with id = PARTIAL update"). ``myId`` is the caller's own key and can only be set at
creation ("IRRÉCUPÉRABLE après clôture du rapport", §2.5), so every job the portal creates
carries the write's marker as its ``myId``:

=========================  ==========================================  ==========================
operation                  body                                        found again through
=========================  ==========================================  ==========================
synchroteam.job.create     ``job/send`` with ``myId`` = marker          ``job/details?myId=``
synchroteam.job.schedule   ``job/schedule`` ``{id|myId, technician,     ``job/details``: technician
                           scheduledStart, scheduledEnd}``              and window already match
=========================  ==========================================  ==========================

``job/schedule`` is "the only reliable assignment endpoint; requires BOTH scheduledStart and
scheduledEnd, format ``YYYY-MM-DD HH:MM:SS``" (ief_lib, §2.3). Setting the same technician and
window twice has no further effect, so it is idempotent and checked before the first send.

Decision (open question, docs/dispatch.md): a job created by the portal is scheduled by its
``myId`` (``job/schedule`` accepts ``id``, ``myId`` or ``num`` like ``job/details``), so the exact
schedule payload can be shown before the job exists; an existing job is scheduled by ``id``.
"""

from __future__ import annotations

from typing import Any

from connectors.errors import AmbiguousError, NotFound
from connectors.outbox.handlers import BaseHandler, SendResult, register

#: Operation names (the outbox's `VendorWrite.operation`); import these, never spell them.
JOB_CREATE = "synchroteam.job.create"
JOB_SCHEDULE = "synchroteam.job.schedule"

DATE_FMT = "%Y-%m-%d %H:%M:%S"


def _job_id(record: Any) -> str:
    """The id of the job in a ``job/send`` / ``job/schedule`` answer (``id`` or ``data.id``,
    ief_lib handles both); a 2xx without one is ambiguous: the job probably exists."""
    if isinstance(record, dict):
        if record.get("id") not in (None, ""):
            return str(record["id"])
        data = record.get("data")
        if isinstance(data, dict) and data.get("id") not in (None, ""):
            return str(data["id"])
    raise AmbiguousError("Synchroteam answered 2xx but the job has no id", vendor="synchroteam")


def job_details(
    client, *, job_id: str | int | None = None, my_id: str | None = None
) -> dict | None:
    """``GET job/details?id=`` (or ``?myId=``) -> the job, or None on 404.

    Raises the client's error family for anything else (TransientError after retries, ...).
    """
    params = {"id": job_id} if job_id not in (None, "") else {"myId": my_id}
    try:
        body = client.get("job/details", params=params, kind="write")
    except NotFound:
        return None
    if isinstance(body, dict) and isinstance(body.get("data"), dict) and "id" not in body:
        body = body["data"]
    return body if isinstance(body, dict) else None


class _Base(BaseHandler):
    vendor = "synchroteam"
    mirrors = "jobs"

    def write_through(self, write) -> None:
        """Upsert the job into the mirror from Synchroteam's answer (``job/send`` and
        ``job/schedule`` return the job, vendor-apis.md §2.3), so the board and the job page
        show it at once instead of after the next sync (`BaseHandler.mirror_answer`)."""
        from connectors.synchroteam.mapping import map_job
        from connectors.synchroteam.models import SynchroteamJob

        self.mirror_answer(write, map_job, SynchroteamJob)


class JobCreate(_Base):
    """``POST job/send`` without ``id``: a new job whose ``myId`` is the write's marker."""

    operation = JOB_CREATE
    method = "POST"
    path = "/job/send"
    label = "New job"

    def apply_marker(self, payload: dict, marker: str) -> dict:
        body = dict(payload)
        body.pop("id", None)  # an id would turn the create into an update of another job
        body["myId"] = marker
        return body

    def describe(self, target: dict, payload: dict) -> str:
        customer = (payload.get("customer") or {}).get("name") or (
            payload.get("customer") or {}
        ).get("id")
        kind = (payload.get("type") or {}).get("name", "job")
        return f"new {kind} job {payload.get('myId', '')} for customer {customer}"

    def send(self, client, write) -> SendResult:
        job = client.send("job", dict(write.payload))
        return SendResult(_job_id(job), job)

    def find(self, client, write) -> list[str]:
        job = job_details(client, my_id=write.payload["myId"])
        return [str(job["id"])] if job and job.get("id") is not None else []


class JobSchedule(_Base):
    """``POST job/schedule``: assign a technician and a window (reschedule and reassign too)."""

    operation = JOB_SCHEDULE
    method = "POST"
    path = "/job/schedule"
    label = "Schedule job"
    idempotent = True

    def describe(self, target: dict, payload: dict) -> str:
        job = payload.get("id") or payload.get("myId")
        tech = (payload.get("technician") or {}).get("id")
        return f"schedule job {job}: technician {tech}, {payload.get('scheduledStart')} – {payload.get('scheduledEnd')}"

    def _matches(self, client, write) -> list[str]:
        p = write.payload
        job = job_details(client, job_id=p.get("id"), my_id=p.get("myId"))
        if not job:
            return []
        tech = (job.get("technician") or {}).get("id")
        same = (
            str(tech) == str((p.get("technician") or {}).get("id"))
            and _same_time(job.get("scheduledStart"), p.get("scheduledStart"))
            and _same_time(job.get("scheduledEnd"), p.get("scheduledEnd"))
        )
        return [str(job["id"])] if same else []

    def precheck(self, client, write) -> str | None:
        found = self._matches(client, write)
        return found[0] if found else None

    def send(self, client, write) -> SendResult:
        job = client.write("POST", "job/schedule", json=dict(write.payload))
        return SendResult(_job_id(job), job)

    def find(self, client, write) -> list[str]:
        return self._matches(client, write)


def _same_time(vendor_value: Any, ours: Any) -> bool:
    """Synchroteam answers ``YYYY-MM-DD HH:MM`` or ``… HH:MM:SS`` (§2.7): compare to the minute."""
    if not vendor_value or not ours:
        return False
    return str(vendor_value).replace("T", " ")[:16] == str(ours).replace("T", " ")[:16]


#: the outbox handlers of Synchroteam writes (exposed on the vendor descriptor)
HANDLERS = (JobCreate(), JobSchedule())
for _handler in HANDLERS:
    register(_handler)
