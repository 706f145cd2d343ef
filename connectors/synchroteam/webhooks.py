"""Synchroteam's inbound webhook contract.

Synchroteam publishes no webhook contract (seed 000 only says "event-style callbacks for job
creation, status change, completion"): the per-connection token comes in ``X-Webhook-Token``
(preferred) or in the URL path; the delivery id is ``X-Delivery-Id``, else the body's ``id``,
else the body's SHA-256. The job id is read from ``job.id``, ``data.object.id``, ``data.id``,
``jobId`` or ``id``; that one job is fetched (``job/details``) and upserted.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from django.views.decorators.debug import sensitive_variables

from connectors.synchroteam.writes import job_details
from connectors.webhooks.services import Refresh, header_bytes


def synchroteam_job_id(payload: dict) -> int | None:
    """The job id of a Synchroteam event: ``job.id``, ``data.object.id``, ``data.id``, ``jobId``,
    or a numeric top-level ``id``; None when there is none."""
    candidates = []
    job, data = payload.get("job"), payload.get("data")
    if isinstance(job, dict):
        candidates.append(job.get("id"))
    if isinstance(data, dict):
        obj = data.get("object") if isinstance(data.get("object"), dict) else data
        candidates.append(obj.get("id"))
    candidates += [payload.get("jobId"), payload.get("id")]
    for value in candidates:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None


def fetch_job(client, job_id: int) -> dict | None:
    """``GET job/details?id=`` -> the job, or None when Synchroteam has no such job."""
    return job_details(client, job_id=job_id)


class SynchroteamWebhook:
    """`connectors.webhooks.services.WebhookSpec` for Synchroteam: a shared token, one job."""

    delivery_header = "X-Delivery-Id"
    fetch_record = staticmethod(fetch_job)

    @sensitive_variables()
    def verify(self, *, secret: str, body: bytes, headers: Mapping, path_token: str) -> bool:
        """The ``X-Webhook-Token`` header (or the path token) equals the secret; compared as
        bytes in constant time, so any header value is just "no match"."""
        given = header_bytes(headers.get("X-Webhook-Token") or path_token).strip()
        return bool(given) and hmac.compare_digest(given, secret.encode())

    def event_id(self, *, payload: dict, body: bytes) -> str:
        """ "" : Synchroteam has no envelope (a top-level ``id`` may be the job's), so only the
        delivery id deduplicates."""
        return ""

    def stale_reason(self, *, payload: dict, now) -> str:
        """ "" : no published timestamp field to check."""
        return ""

    def refresh_for(self, *, payload: dict, event_type: str) -> Refresh:
        """The job the event names, else a ``webhook`` run of the jobs stream."""
        job_id = synchroteam_job_id(payload)
        return Refresh("jobs", record_id=job_id or None, noun="job")
