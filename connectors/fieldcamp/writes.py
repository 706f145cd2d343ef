"""FieldCamp write operations for the outbox: the integration sync trigger.

``POST /api/v1/integrations/{google-calendar|outlook-calendar|quickbooks}/sync`` (seed 002,
vendor-apis.md §3.5) starts a sync job and answers its descriptor ``{"job_id", "integration",
"mode", "status", "created_at"}``. The body is ``{"mode": "incremental"|"full"}`` for the
calendars and ``{"scope": "all"}`` for QuickBooks. The handler sends ``Idempotency-Key: <the
write's uuid>`` as the seed asks ("Wrap sync triggers in idempotency keys so retries never
duplicate work"), although §3.2 says v1 does not implement server-side keys yet; so after an
ambiguous answer it also looks for the job itself (`find`).

Two answers are not failures for the person (seed 002 "Error handling"):

* **409 Conflict**: "a sync is already in flight for that integration" → the write is
  confirmed with the running job's id (read from the status route's ``active_job_id``) and
  ``response["followed"] = True``: the panel follows that job instead of starting another.
* **INTEGRATION_NOT_CONNECTED** → the write is rejected (never retried) with the vendor's message,
  whatever HTTP status carries it (a 401/403 would otherwise mark the API key failing, but the
  key is fine: the OAuth grant behind the integration is what is missing).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.utils.dateparse import parse_datetime

from connectors.errors import ConflictError, NotFound, ValidationError, VendorError
from connectors.outbox.handlers import BaseHandler, SendResult, register

#: Operation names (the outbox's `VendorWrite.operation`); import these, never spell them.
SYNC_TRIGGER = "fieldcamp.sync.trigger"

NOT_CONNECTED = "INTEGRATION_NOT_CONNECTED"

#: URL slug -> the ``integration`` value FieldCamp puts in job descriptors
INTEGRATION_KEYS = {
    "google-calendar": "google_calendar",
    "outlook-calendar": "outlook_calendar",
    "quickbooks": "quickbooks",
}


def is_not_connected(exc: VendorError) -> bool:
    """True when the vendor's error says the integration is not connected (code or message)."""
    if NOT_CONNECTED in exc.vendor_message:
        return True
    try:
        return NOT_CONNECTED in json.dumps(exc.body, default=str)
    except (TypeError, ValueError):
        return False


def sync_body(integration: str, mode: str) -> dict:
    """The trigger body of seed 002: QuickBooks ``{"scope": "all"}``, calendars ``{"mode"}``."""
    if integration == "quickbooks":
        return {"scope": "all"}
    if mode not in ("incremental", "full"):
        raise ValueError(f"mode must be incremental or full, not {mode!r}")
    return {"mode": mode}


def integration_status(client, integration: str) -> dict:
    """``GET /integrations/{integration}/status`` -> ``{"connected", "last_synced_at",
    "next_scheduled_sync_at", "active_job_id", "errors"}``; ``{}`` when the route does not exist
    for that integration (the seed documents it for Google Calendar and "the analogous status
    route for accounting")."""
    try:
        return client.integration_status(integration)
    except NotFound:
        return {}


def recent_jobs(client, integration: str) -> list[dict]:
    """The first page of sync jobs (``GET /integrations/sync-jobs``, the connectors' stream; not
    in the seed, so a 404 or a refusal means "no list": callers fall back to the status route)."""
    try:
        page = client.list_page("sync_jobs")
    except (NotFound, ValidationError, KeyError):  # KeyError: the client has no such list
        return []
    key = INTEGRATION_KEYS.get(integration, integration)
    return [
        j
        for j in page.records
        if isinstance(j, dict) and j.get("integration") in (key, integration)
    ]


def _error_field(body: Any, name: str) -> str:
    """A field of the error object (``{"success": false, "error": {"code", ..., name}}``)."""
    error = body.get("error") if isinstance(body, dict) else None
    value = error.get(name) if isinstance(error, dict) else None
    return str(value) if value not in (None, "") else ""


def _job_id(record: Any) -> str:
    if isinstance(record, dict):
        for key in ("job_id", "id"):
            if record.get(key) not in (None, ""):
                return str(record[key])
    return ""


class SyncTrigger(BaseHandler):
    """``POST /integrations/{integration}/sync``; target ``{"integration": "<slug>"}``.

    The body is sent as given: this write's reference travels as the ``Idempotency-Key`` header
    (the write's uuid), not in the body."""

    operation = SYNC_TRIGGER
    method = "POST"
    path = "/integrations/{integration}/sync"
    label = "Refresh now"
    vendor = "fieldcamp"

    def describe(self, target: dict, payload: dict) -> str:
        what = ", ".join(f"{k} {v}" for k, v in payload.items())
        return f"{target.get('integration')} sync ({what})"

    def send(self, client, write) -> SendResult:
        """Trigger the sync once (`FieldCampClient.trigger_sync`, the write's uuid as the
        ``Idempotency-Key``); a 409 follows the job already running; "not connected" is a
        validation error for a person."""
        integration = write.target["integration"]
        try:
            job = client.trigger_sync(integration, body=dict(write.payload), key=str(write.uuid))
        except ConflictError as exc:
            status = integration_status(client, integration)
            running = (
                _error_field(exc.body, "active_job_id")
                or status.get("active_job_id")
                or next(
                    (
                        _job_id(j)
                        for j in recent_jobs(client, integration)
                        if j.get("status") in ("queued", "running")
                    ),
                    "",
                )
            )
            return SendResult(
                str(running or ""), {"followed": True, "active_job_id": running, "status": status}
            )
        except VendorError as exc:
            if is_not_connected(exc) and not isinstance(exc, ValidationError):
                raise ValidationError(
                    str(exc),
                    vendor="fieldcamp",
                    status=exc.status,
                    messages=exc.messages,
                    body=exc.body,
                ) from exc
            raise
        job_id = _job_id(job)
        return SendResult(job_id, job if isinstance(job, dict) else {"raw": job})

    def find(self, client, write) -> list[str]:
        """After an ambiguous answer: the running job (status route), else a job of this
        integration created since our first send."""
        integration = write.target["integration"]
        status = integration_status(client, integration)
        if status.get("active_job_id"):
            return [str(status["active_job_id"])]
        since = (write.first_sent_at or write.created_at) - dt.timedelta(minutes=1)
        found = []
        for job in recent_jobs(client, integration):
            created = parse_datetime(str(job.get("created_at") or ""))
            if created and created >= since:
                found.append(_job_id(job))
        return [f for f in found if f]


#: the outbox handlers of FieldCamp writes (exposed on the vendor descriptor)
HANDLERS = (SyncTrigger(),)
for _handler in HANDLERS:
    register(_handler)
