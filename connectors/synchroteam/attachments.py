"""Job reports and photos on demand: fetched through the shared budget, cached with a TTL.

`job_attachment(job, kind)` answers from `SynchroteamJobFetch` when the copy is younger than
``SYNCHROTEAM_JOB_REPORT_TTL_SECONDS`` (or when ``refresh`` is False and Synchroteam cannot be
asked), else makes one request through the connection's client and `ConnectionGate` (the
per-minute budget and the daily quota every worker shares; kind "read", so the writes' quota
reserve is left alone) and stores the answer. It never raises for the vendor's answers: a 404
of ``jobReport/details`` is "no report yet" (synchroteam-py ``reports_api.py`` treats 404 as no
report; vendor-apis.md §2.3), a spent quota or budget says when to try again and shows the
cached copy if there is one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.utils import timezone

from accounts.models import NoCredential
from connectors.errors import AuthError, NotFound, QuotaExhausted, RateLimited, VendorError
from connectors.ratelimit import ConnectionGate
from connectors.services import client_for_secret, connection_credential
from connectors.synchroteam.models import SynchroteamJob, SynchroteamJobFetch

Kind = SynchroteamJobFetch.Kind
PATHS = {Kind.REPORT: "jobReport/details", Kind.PHOTOS: "job/photos"}
#: seconds an interactive fetch may wait for room in the budget before saying "try later"
MAX_WAIT_SECONDS = 2.0


@dataclass
class Attachment:
    """What the page shows: the cached copy (None when never fetched), a sentence when the
    copy could not be fetched or there is nothing (`message`, with a badge `tone`), and how
    many vendor requests this call made (`requests`, 0 when served from the cache)."""

    kind: str
    fetch: SynchroteamJobFetch | None
    message: str = ""
    tone: str = "info"
    requests: int = 0

    @property
    def label(self) -> str:
        return Kind(self.kind).label


def _fetched_within(row: SynchroteamJobFetch | None, now: dt.datetime, seconds: int) -> bool:
    """True when `row` was fetched less than `seconds` before `now` (None: never fetched)."""
    return row is not None and row.fetched_at > now - dt.timedelta(seconds=seconds)


def _store(job: SynchroteamJob, kind: str, *, found: bool, data: dict, now) -> SynchroteamJobFetch:
    row, _ = SynchroteamJobFetch.objects.update_or_create(
        connection_id=job.connection_id,
        job_vendor_id=job.vendor_id,
        kind=kind,
        defaults={"tenant_id": job.tenant_id, "found": found, "data": data, "fetched_at": now},
    )
    return row


def _data(kind: str, body) -> dict:
    if kind == Kind.PHOTOS:
        photos = body.get("jobPhoto") if isinstance(body, dict) else body
        return {"photos": photos if isinstance(photos, list) else []}
    if isinstance(body, dict) and isinstance(body.get("data"), dict) and "items" not in body:
        body = body["data"]
    return body if isinstance(body, dict) else {}


def job_attachment(
    job: SynchroteamJob,
    kind: str,
    *,
    user=None,
    refresh: bool = False,
    transport: httpx.BaseTransport | None = None,
    now: dt.datetime | None = None,
) -> Attachment:
    """The job's report or photo list (`kind`: "report" | "photos"), from the cache when it is
    fresh and `refresh` is False, else fetched (one GET with ``?id=<job id>``).

    Args:
        user: whose key is used (their own Synchroteam key, else the company's shared one).
        refresh: fetch even when the cached copy is fresh ("Fetch again"), unless it was
            fetched less than ``SYNCHROTEAM_JOB_REFRESH_MIN_SECONDS`` (60) ago: then the copy
            is served with a sentence saying so (no request).
    """
    now = now or timezone.now()
    kind = Kind(kind)
    row = SynchroteamJobFetch.objects.filter(
        connection_id=job.connection_id, job_vendor_id=job.vendor_id, kind=kind
    ).first()
    if not refresh and _fetched_within(row, now, settings.SYNCHROTEAM_JOB_REPORT_TTL_SECONDS):
        return Attachment(kind, row)
    wait = settings.SYNCHROTEAM_JOB_REFRESH_MIN_SECONDS
    if refresh and _fetched_within(row, now, wait):  # repeated clicks cannot drain the budget
        return Attachment(
            kind,
            row,
            f"Fetched from Synchroteam less than {wait} s ago; the copy below is current. "
            "Ask again in a minute.",
        )
    try:
        secret = connection_credential(job.connection, user=user).credential.secret
    except NoCredential as exc:
        return Attachment(kind, row, f"Cannot ask Synchroteam: {exc}", "warning")
    gate = ConnectionGate(job.connection, secret, max_wait=MAX_WAIT_SECONDS)
    client = client_for_secret(job.connection, secret, gate=gate, transport=transport)
    try:
        body = client.get(PATHS[kind], params={"id": job.vendor_id}, kind="read")
    except NotFound:
        row = _store(job, kind, found=False, data={}, now=now)
        return Attachment(kind, row, requests=gate.requests)
    except QuotaExhausted as exc:
        when = timezone.localtime(exc.resume_at).strftime("%H:%M %Z")
        return Attachment(
            kind,
            row,
            _later(f"Synchroteam's daily quota is spent until {when}", row),
            "warning",
            gate.requests,
        )
    except RateLimited as exc:
        return Attachment(
            kind,
            row,
            _later(
                f"The Synchroteam budget is busy; try again in {max(1, int(exc.retry_after))} s",
                row,
            ),
            "warning",
            gate.requests,
        )
    except AuthError as exc:
        return Attachment(
            kind,
            row,
            _later(f"Synchroteam refused the key: {exc.vendor_message}", row),
            "danger",
            gate.requests,
        )
    except VendorError as exc:
        return Attachment(
            kind,
            row,
            _later(f"Synchroteam did not answer: {exc.vendor_message}", row),
            "warning",
            gate.requests,
        )
    finally:
        client.close()
    row = _store(job, kind, found=True, data=_data(kind, body), now=now)
    return Attachment(kind, row, requests=gate.requests)


def _later(sentence: str, row: SynchroteamJobFetch | None) -> str:
    if row is None:
        return f"{sentence}. Nothing is cached yet."
    fetched = timezone.localtime(row.fetched_at).strftime("%b %-d, %H:%M")
    return f"{sentence}. Showing the copy fetched {fetched}."
