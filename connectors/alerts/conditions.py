"""The alert conditions: one function per kind that lists a tenant's problems right now.

A condition is ``condition(tenant, now) -> Iterable[Finding]``; it only reads the database
(the sync history, the credential vault, the outbox, the mirror) and never calls a vendor, so an
evaluation is a handful of queries. `register` adds one; shared conditions are registered here,
vendor-specific ones by their vendor's app (``connectors/fieldcamp/alerts.py`` from
``FieldCampConfig.ready``), so this module names no vendor.

Thresholds are settings: ``ALERTS_FAILURES_IN_A_ROW`` (3) and ``ALERTS_NO_SUCCESS_HOURS`` (24);
Airbyte's "repeated failures" warning is the peer (20 in a row and 4 days, reference/peers.md
§1.2): ours fires earlier because the office works from these mirrors every day.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from accounts.localtime import load_zone
from accounts.models import Credential, CredentialStatus, Tenant
from connectors.alerts.models import AlertKind
from connectors.models import Connection, SyncRun, SyncStream
from connectors.outbox.models import VendorWrite

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finding:
    """One problem a condition found.

    Attributes:
        kind: an `AlertKind` value.
        key: the dedup key, made here from server-side ids (``stream:<uuid>:<resource>``).
        message: the plain-language sentence for the portal and the e-mail (no secrets).
        link: a portal path where the problem is fixed ("" when there is none).
        user_id: the person the problem is about (a key's owner, whoever asked for a write).
        resets_at: when a spent quota resets (quota findings only).
    """

    kind: str
    key: str
    message: str
    link: str = ""
    user_id: int | None = None
    resets_at: dt.datetime | None = None


Condition = Callable[[Tenant, dt.datetime], Iterable[Finding]]
#: (kind, condition) in evaluation order
_CONDITIONS: list[tuple[str, Condition]] = []


def register(kind: str, condition: Condition) -> Condition:
    """Add `condition` for alerts of `kind` (idempotent: the same function is added once)."""
    if (kind, condition) not in _CONDITIONS:
        _CONDITIONS.append((kind, condition))
    return condition


def registered() -> list[tuple[str, Condition]]:
    """Every ``(kind, condition)`` registered, in order."""
    return list(_CONDITIONS)


def find_all(tenant: Tenant, now: dt.datetime) -> tuple[dict[str, Finding], set[str]]:
    """Run every condition for `tenant`.

    Returns:
        ``(findings by key, kinds whose condition raised)``. A raising condition is logged and
        its kind reported, so the caller leaves that kind's open alerts as they are instead of
        clearing them.
    """
    findings: dict[str, Finding] = {}
    failed: set[str] = set()
    for kind, condition in _CONDITIONS:
        try:
            for finding in condition(tenant, now):
                findings.setdefault(finding.key, finding)
        except Exception:
            log.exception("alerts: condition %s failed for tenant %s", kind, tenant.pk)
            failed.add(kind)
    return findings, failed


def company_time(tenant: Tenant, when: dt.datetime, fmt: str = "%d %b %H:%M %Z") -> str:
    """`when` in the company's time zone (``Tenant.time_zone``, else UTC), zone named:
    messages are stored, and read by people in that company."""
    return when.astimezone(load_zone(getattr(tenant, "time_zone", "")) or dt.UTC).strftime(fmt)


def portal_path(name: str, *args) -> str:
    """``reverse(name, args)``, or "" when the URL is not installed."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


# --- sync streams ---------------------------------------------------------------------------

_FAILURES = (SyncRun.Status.FAILED, SyncRun.Status.REFUSED, SyncRun.Status.STALE)
#: runs that say something about the stream's health (paused and skipped runs say nothing)
_VERDICTS = (*_FAILURES, SyncRun.Status.SUCCEEDED)


def _stream_label(stream: SyncStream) -> str:
    return f"{stream.connection.get_vendor_display()} · {stream.resource.replace('_', ' ')}"


def stream_failing(tenant: Tenant, now: dt.datetime) -> Iterable[Finding]:
    """Streams of enabled connections whose last ``ALERTS_FAILURES_IN_A_ROW`` finished runs all
    failed (failed, refused or stale), or with no success for ``ALERTS_NO_SUCCESS_HOURS``
    (counted from the first run when there was never one). Key ``stream:<connection
    uuid>:<resource>``."""
    in_a_row = settings.ALERTS_FAILURES_IN_A_ROW
    hours = settings.ALERTS_NO_SUCCESS_HOURS
    link = portal_path("connectors:integrations")
    streams = SyncStream.objects.filter(
        connection__tenant=tenant, connection__enabled=True
    ).select_related("connection")
    for stream in streams:
        runs = SyncRun.objects.filter(stream=stream)
        recent = list(runs.filter(status__in=_VERDICTS).order_by("-created_at", "-id")[:in_a_row])
        failing = len(recent) >= in_a_row and all(r.status in _FAILURES for r in recent)
        since = stream.last_success_at
        if since is None:
            first = runs.order_by("created_at").values_list("created_at", flat=True).first()
            stale = first is not None and first < now - dt.timedelta(hours=hours)
        else:
            stale = since < now - dt.timedelta(hours=hours)
        if not (failing or stale):
            continue
        parts = [_stream_label(stream) + ":"]
        if failing:
            latest = (recent[0].error or recent[0].get_status_display()).strip()
            parts.append(f"the last {in_a_row} syncs failed (latest: {latest[:300]}).")
        if stale and since is not None:
            parts.append(f"no successful sync since {company_time(tenant, since)}.")
        elif stale:
            parts.append(f"no successful sync in the {hours} hours since the first try.")
        yield Finding(
            AlertKind.STREAM_FAILING,
            f"stream:{stream.connection.uuid}:{stream.resource}",
            " ".join(parts),
            link,
        )


# --- daily quota ----------------------------------------------------------------------------


def quota_exhausted(tenant: Tenant, now: dt.datetime) -> Iterable[Finding]:
    """Enabled connections whose latest finished run paused on the vendor's daily quota
    (``error_kind`` "quota", raised by the vendor policy's `QuotaExhausted`; Synchroteam
    ``X-Quota-Remaining``, vendor-apis.md §2.6) and whose reset time is still ahead. Key
    ``quota:<connection uuid>``; `resets_at` is the reset time."""
    link = portal_path("connectors:integrations")
    for connection in Connection.objects.for_tenant(tenant).enabled():
        run = (
            SyncRun.objects.filter(connection=connection, finished_at__isnull=False)
            .exclude(status=SyncRun.Status.SKIPPED)
            .order_by("-finished_at", "-id")
            .first()
        )
        if not (
            run
            and run.status == SyncRun.Status.PAUSED
            and run.error_kind == "quota"
            and run.resume_at
            and run.resume_at > now
        ):
            continue
        left = f" ({run.quota_remaining} requests left)" if run.quota_remaining is not None else ""
        yield Finding(
            AlertKind.QUOTA_EXHAUSTED,
            f"quota:{connection.uuid}",
            f"{connection.get_vendor_display()}: the daily request quota is spent{left}. "
            f"Syncs wait until it resets at {company_time(tenant, run.resume_at, '%H:%M %Z on %d %b')} "
            "and then continue where they stopped.",
            link,
            resets_at=run.resume_at,
        )


# --- credentials ----------------------------------------------------------------------------


def credential_failing(tenant: Tenant, now: dt.datetime) -> Iterable[Finding]:
    """Credentials the vendor refused (status failing: a failed verification, or a 401/403 to a
    sync or a write, `accounts.models.Credential.mark_failed`). Revoked keys are not problems.
    Key ``credential:<credential uuid>``; the alert is about the key's owner. A person's own key
    links to My vendor keys (where its owner rotates it), the shared key to Integrations."""
    company_link = portal_path("connectors:integrations")
    own_link = portal_path("connectors:my_keys")
    creds = Credential.objects.for_tenant(tenant).filter(status=CredentialStatus.FAILING)
    for cred in creds.select_related("owner"):
        vendor = cred.get_vendor_display()
        whose = f"{cred.owner.display_name}'s" if cred.owner else "The shared"
        said = f": {cred.last_error.strip()[:300]}" if cred.last_error.strip() else ""
        yield Finding(
            AlertKind.CREDENTIAL_FAILING,
            f"credential:{cred.uuid}",
            f"{whose} {vendor} key …{cred.fingerprint} was refused by {vendor}{said}. "
            "Replace it with a working key, then verify it.",
            own_link if cred.owner_id else company_link,
            user_id=cred.owner_id,
        )


# --- writes waiting for a person ----------------------------------------------------------


def write_waiting(tenant: Tenant, now: dt.datetime) -> Iterable[Finding]:
    """Vendor writes in a person state (rejected by the vendor, or needs review after the
    outbox gave up; `connectors.outbox.models`). Key ``write:<write uuid>``; the alert is about
    whoever asked for the write."""
    writes = (
        VendorWrite.objects.for_tenant(tenant)
        .waiting_for_person()
        .select_related("batch", "connection")
    )
    for write in writes:
        what = write.batch.label or write.operation
        said = f": {write.vendor_message.strip()[:300]}" if write.vendor_message.strip() else ""
        yield Finding(
            AlertKind.WRITE_WAITING,
            f"write:{write.uuid}",
            f"{write.connection.get_vendor_display()} · {what}: {write.get_state_display()}"
            f"{said}. Nothing more is sent until someone decides.",
            portal_path("billing:write_status", write.uuid),
            user_id=write.batch.requested_by_id or write.acting_user_id,
        )


register(AlertKind.STREAM_FAILING, stream_failing)
register(AlertKind.QUOTA_EXHAUSTED, quota_exhausted)
register(AlertKind.CREDENTIAL_FAILING, credential_failing)
register(AlertKind.WRITE_WAITING, write_waiting)

__all__ = [
    "Condition",
    "Finding",
    "company_time",
    "credential_failing",
    "find_all",
    "portal_path",
    "quota_exhausted",
    "register",
    "registered",
    "stream_failing",
    "write_waiting",
]
