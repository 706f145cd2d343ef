"""Inbound webhooks: authenticate a delivery, store it once, refresh what it names.

Per connection, the endpoint's secret is the tenant's shared vault credential of purpose
``webhook`` for that vendor (``accounts.models.CredentialPurpose.WEBHOOK``). Secrets are compared
with `hmac.compare_digest` and registered for log redaction; they are never logged.

* **FieldCamp** (vendor-apis.md §3.7): ``X-FieldCamp-Signature`` = HMAC-SHA256 of the raw body
  with the secret, hex (a ``sha256=`` prefix is accepted). The exact signing string is not
  documented (§3.7 [NOT FOUND]); we decided on the raw body alone (docs/dispatch.md).
  Deduplicated by ``X-FieldCamp-Delivery-Id`` ("for deduplication"), else the envelope ``id``.
  Envelope ``{"id", "type", "created_at", "api_version", "data": {"object", "previous_attributes"}}``.
* **Synchroteam** publishes no webhook contract (seed 000 only says "event-style callbacks for job
  creation, status change, completion"): the per-connection token comes in ``X-Webhook-Token``
  (preferred) or in the URL path; the delivery id is ``X-Delivery-Id``, else the body's ``id``,
  else the body's SHA-256. The job id is read from ``job.id``, ``data.id``, ``jobId`` or ``id``.

Outcomes: unknown connection → 404 (nothing stored: there is no tenant to store it under); bad
signature or token → 403 and an ``bad_signature`` event without the body; not a JSON object →
400 and a ``malformed`` event; a delivery id already accepted → 200 and ignored (``replays`` + 1);
otherwise 200, the event is stored and a targeted refresh is enqueued on commit.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.logging import register_secret
from accounts.models import Credential, CredentialPurpose, NoCredential, Vendor
from connectors.models import Connection, SyncRun
from connectors.webhooks.models import InboundEvent

log = logging.getLogger(__name__)
Status = InboundEvent.Status


@dataclass(frozen=True)
class Receipt:
    status_code: int
    message: str
    event: InboundEvent | None = None


def webhook_secret(connection: Connection) -> str | None:
    """The connection's inbound webhook secret from the vault, or None when not set."""
    try:
        actor = Credential.objects.for_actor(
            connection.tenant, connection.vendor, None, purpose=CredentialPurpose.WEBHOOK
        )
    except NoCredential:
        return None
    secret = actor.credential.secret
    register_secret(secret)
    return secret


def fieldcamp_signature(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `body` with `secret` (what FieldCamp sends, per our decision)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _signature_ok(vendor: str, secret: str, body: bytes, headers, path_token: str) -> bool:
    if vendor == Vendor.FIELDCAMP:
        given = (headers.get("X-FieldCamp-Signature") or "").strip()
        if given.lower().startswith("sha256="):
            given = given[7:]
        return bool(given) and hmac.compare_digest(given.lower(), fieldcamp_signature(secret, body))
    given = (headers.get("X-Webhook-Token") or path_token or "").strip()
    return bool(given) and hmac.compare_digest(given.encode(), secret.encode())


def _delivery_id(vendor: str, headers, payload: dict, body: bytes) -> str:
    header = "X-FieldCamp-Delivery-Id" if vendor == Vendor.FIELDCAMP else "X-Delivery-Id"
    value = (headers.get(header) or "").strip() or str(payload.get("id") or "")
    return (value or "sha256:" + hashlib.sha256(body).hexdigest())[:120]


def _event_type(payload: dict) -> str:
    return str(payload.get("type") or payload.get("event") or payload.get("eventType") or "")[:80]


def webhook_receive(
    *,
    vendor: str,
    connection_uuid: str,
    body: bytes,
    headers,
    path_token: str = "",
    remote_addr: str | None = None,
) -> Receipt:
    """Authenticate, deduplicate and store one delivery. See the module docstring."""
    connection = (
        Connection.objects.filter(uuid=connection_uuid, vendor=vendor, enabled=True)
        .select_related("tenant")
        .first()
    )
    if connection is None:
        log.warning("webhook: %s delivery for an unknown connection %s", vendor, connection_uuid)
        return Receipt(404, "Unknown connection.")
    base = {
        "tenant_id": connection.tenant_id,
        "connection": connection,
        "vendor": vendor,
        "remote_addr": remote_addr,
    }
    secret = webhook_secret(connection)
    if secret is None or not _signature_ok(vendor, secret, body, headers, path_token):
        reason = (
            "no webhook secret in the vault"
            if secret is None
            else "signature or token does not match"
        )
        event = InboundEvent.objects.create(
            **base,
            status=Status.BAD_SIGNATURE,
            reason=reason,
            delivery_id=(
                headers.get("X-FieldCamp-Delivery-Id") or headers.get("X-Delivery-Id") or ""
            )[:120],
        )
        log.warning(
            "webhook: refused %s delivery on connection %s: %s", vendor, connection.pk, reason
        )
        return Receipt(403, "Signature refused.", event)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict):
        event = InboundEvent.objects.create(
            **base, status=Status.MALFORMED, reason="the body is not a JSON object"
        )
        return Receipt(400, "The body must be a JSON object.", event)
    delivery = _delivery_id(vendor, headers, payload, body)
    existing = InboundEvent.objects.filter(
        connection=connection, delivery_id=delivery, status=Status.ACCEPTED
    ).first()
    if existing is not None:
        return _replayed(existing)
    try:
        with transaction.atomic():
            event = InboundEvent.objects.create(
                **base,
                status=Status.ACCEPTED,
                delivery_id=delivery,
                event_type=_event_type(payload),
                payload=payload,
            )
            transaction.on_commit(lambda: schedule_event_processing(event.pk))
    except IntegrityError:  # the same delivery arrived twice at the same moment
        existing = InboundEvent.objects.get(
            connection=connection, delivery_id=delivery, status=Status.ACCEPTED
        )
        return _replayed(existing)
    return Receipt(200, "Accepted.", event)


def _replayed(event: InboundEvent) -> Receipt:
    InboundEvent.objects.filter(pk=event.pk).update(
        replays=F("replays") + 1, last_replay_at=timezone.now()
    )
    return Receipt(200, "Already received; ignored.", event)


def schedule_event_processing(event_id: int) -> None:
    """Hand the event to the cluster (from ``on_commit``); inline when WEBHOOK_PROCESS_INLINE."""
    if getattr(settings, "WEBHOOK_PROCESS_INLINE", False):
        inbound_event_process(event_id=event_id)
        return
    from django_q.tasks import async_task

    async_task(
        "connectors.webhooks.tasks.process_inbound_event",
        event_id,
        task_name=f"webhook-event-{event_id}",
    )


# --- targeted refresh -------------------------------------------------------------------------

#: FieldCamp event type prefix -> the mirror stream that holds that record
FIELDCAMP_STREAMS = {
    "visit": "visits",
    "schedule": "visits",
    "job": "visits",
    "invoice": "invoices",
    "payment": "invoices",
}


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


def inbound_event_process(*, event_id: int, transport=None) -> str:
    """Refresh what an accepted event names, through the sync engine (trigger ``webhook``).

    Synchroteam job events: ``job/details?id=`` is fetched and that one job upserted with the
    jobs stream's mapping, recorded as a one-record ``webhook`` run. FieldCamp events: a
    ``webhook`` run of the stream holding the record (visits or invoices) is requested; when one
    is already running the event is covered by it. Returns what was done (also stored).
    """
    event = InboundEvent.objects.select_related("connection").filter(pk=event_id).first()
    if event is None or event.status != Status.ACCEPTED or event.processed_at:
        return "nothing to do"
    connection = event.connection
    payload = event.payload or {}
    if event.vendor == Vendor.SYNCHROTEAM:
        job_id = synchroteam_job_id(payload)
        done = (
            _refresh_synchroteam_job(connection, job_id, transport=transport)
            if job_id
            else _request_stream(connection, "jobs")
        )
    else:
        prefix = event.event_type.split(".", 1)[0]
        stream = FIELDCAMP_STREAMS.get(prefix)
        done = (
            _request_stream(connection, stream)
            if stream
            else f"no mirror for {prefix or 'this event'}"
        )
    InboundEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now(), refresh=done[:300])
    return done


def _request_stream(connection: Connection, resource: str) -> str:
    from connectors.services import sync_request

    request = sync_request(connection, trigger=SyncRun.Trigger.WEBHOOK, resources=[resource])
    if request.already_running:
        return f"{resource}: a sync is already running and will pick it up"
    return f"{resource}: webhook run {', '.join(str(r.pk) for r in request.runs)} queued"


def _refresh_synchroteam_job(connection: Connection, job_id: int, *, transport=None) -> str:
    from connectors.errors import VendorError
    from connectors.services import connection_client
    from connectors.sync import MappingError, ensure_streams, stream_spec
    from connectors.synchroteam.writes import job_details

    spec = stream_spec(Vendor.SYNCHROTEAM, "jobs")
    (stream,) = ensure_streams(connection, ["jobs"])
    run = SyncRun.objects.create(
        tenant_id=connection.tenant_id,
        connection=connection,
        stream=stream,
        trigger=SyncRun.Trigger.WEBHOOK,
        mode=SyncRun.Mode.INCREMENTAL,
        status=SyncRun.Status.RUNNING,
        started_at=timezone.now(),
    )
    try:
        client, _ = connection_client(connection, transport=transport)
    except NoCredential as exc:
        _finish(run, SyncRun.Status.FAILED, error=str(exc), error_kind="auth")
        return f"job {job_id}: {exc}"
    try:
        record = job_details(client, job_id=job_id)
    except VendorError as exc:
        _finish(run, SyncRun.Status.FAILED, error=str(exc), error_kind=exc.kind, requests=1)
        return f"job {job_id}: {exc.vendor_message}"
    finally:
        client.close()
    model = spec.model
    if record is None:
        gone = model.objects.filter(
            connection=connection, vendor_id=job_id, is_deleted=False
        ).update(is_deleted=True, deleted_at=timezone.now())
        _finish(run, SyncRun.Status.SUCCEEDED, deleted=gone, requests=1)
        return f"job {job_id}: not found at Synchroteam; marked deleted"
    try:
        values = spec.map(record)
    except MappingError as exc:
        _finish(run, SyncRun.Status.FAILED, error=str(exc), error_kind="mapping", requests=1)
        return f"job {job_id}: {exc}"
    vendor_id = values.pop("vendor_id")
    _, created = model.objects.update_or_create(
        connection=connection,
        vendor_id=vendor_id,
        defaults={
            **values,
            "tenant_id": connection.tenant_id,
            "raw": record,
            "synced_at": timezone.now(),
            "is_deleted": False,
            "deleted_at": None,
        },
    )
    _finish(
        run,
        SyncRun.Status.SUCCEEDED,
        records_seen=1,
        created=int(created),
        updated=int(not created),
        requests=1,
    )
    return f"job {job_id}: {'created' if created else 'updated'} in the mirror (run {run.pk})"


def _finish(run: SyncRun, status: str, **fields) -> None:
    SyncRun.objects.filter(pk=run.pk).update(status=status, finished_at=timezone.now(), **fields)
