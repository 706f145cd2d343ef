"""Inbound webhooks: authenticate a delivery, store it once, refresh what it names.

Per connection, the endpoint's secret is the tenant's shared vault credential of purpose
``webhook`` for that vendor (``accounts.models.CredentialPurpose.WEBHOOK``). Secrets are compared
as bytes with `hmac.compare_digest` (any header value, non-ASCII or random bytes, is a plain
mismatch), registered for log redaction, never logged; every function holding one is marked
``sensitive_variables`` so a debug page or error e-mail does not show it.

What differs per vendor (how a delivery is authenticated, its delivery-id header, its event id,
its age check, what an event refreshes) is the vendor descriptor's `WebhookSpec`
(``connectors/<vendor>/webhooks.py``): FieldCamp signs the raw body (HMAC-SHA256,
vendor-apis.md §3.7), Synchroteam sends a per-connection token (no published contract, seed
000). A vendor without a spec has no endpoint.

Outcomes: unknown connection → 404 (nothing stored: there is no tenant to store it under); bad
signature or token → 403, counted in the minute's `WebhookFailureWindow` and, for the first of
that minute only, an ``bad_signature`` event without the body; JSON nested deeper than
``WEBHOOK_MAX_JSON_DEPTH`` or not a JSON object → 400 and a ``malformed`` event; too old
(`WebhookSpec.stale_reason`) → 400 and a ``stale`` event; a delivery id or event id already
accepted → 200 and ignored (``replays`` + 1); otherwise 200, the event is stored and a targeted
refresh is enqueued on commit. Body size is bounded by the view (`connectors.webhooks.guards`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.logging import register_secret
from accounts.models import Credential, CredentialPurpose, NoCredential
from connectors.errors import VendorError
from connectors.mapping import MappingError
from connectors.models import Connection, SyncRun
from connectors.services import connection_client, sync_request
from connectors.signals import mirror_changed
from connectors.sync import ensure_streams
from connectors.webhooks.guards import count_bad_signature, json_depth_exceeds, max_json_depth
from connectors.webhooks.models import InboundEvent

log = logging.getLogger(__name__)
Status = InboundEvent.Status


@dataclass(frozen=True)
class Refresh:
    """What an accepted event asks to refresh.

    Attributes:
        resource: the mirror stream that holds the record, or None when nothing is mirrored.
        record_id: the vendor id of the one record to fetch (with `WebhookSpec.fetch_record`)
            instead of a run of the whole stream; None = request a ``webhook`` run of `resource`.
        noun: what the record is called in the outcome text ("job").
        note: the outcome text when `resource` is None.
    """

    resource: str | None
    record_id: int | None = None
    noun: str = "record"
    note: str = ""


class WebhookSpec(Protocol):
    """A vendor's inbound webhook contract (``connectors/<vendor>/webhooks.py``)."""

    #: the header carrying the vendor's delivery id (deduplication)
    delivery_header: str
    #: ``fetch_record(client, record_id) -> dict | None`` (None: the vendor has no such record);
    #: None when events never name a single record
    fetch_record: Callable[[Any, int], dict | None] | None

    def verify(self, *, secret: str, body: bytes, headers: Mapping, path_token: str) -> bool:
        """True when the delivery is authentic (constant-time comparison of bytes; never raises
        on a header value). Marked ``sensitive_variables``."""
        ...

    def event_id(self, *, payload: dict, body: bytes) -> str:
        """The event's own id (signed, in the body) for deduplication beside the delivery id;
        "" when the vendor's events have none."""
        ...

    def stale_reason(self, *, payload: dict, now: dt.datetime) -> str:
        """Why the event is refused as too old or undated ("" when it is not)."""
        ...

    def refresh_for(self, *, payload: dict, event_type: str) -> Refresh:
        """What the event with this JSON `payload` and type asks to refresh."""
        ...


@dataclass(frozen=True)
class Receipt:
    """The answer to one delivery: HTTP status, a short message, and the stored event."""

    status_code: int
    message: str
    event: InboundEvent | None = None


def header_bytes(value: object) -> bytes:
    """A header value as bytes for a constant-time comparison: a WSGI header is text decoded as
    latin-1, but a test client or ASGI server may hand over any text, so UTF-8 with
    ``surrogatepass`` (encodes every Python string); None -> b""."""
    if value is None:
        return b""
    return str(value).encode("utf-8", "surrogatepass")


@sensitive_variables()
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


def storable(value: object, limit: int) -> str:
    """`value` as text for a CharField: NUL characters dropped (PostgreSQL refuses them in
    text), surrounding space stripped, at most `limit` characters; None -> ""."""
    return str(value if value is not None else "").replace("\x00", "").strip()[:limit]


def holds_nul(payload: object) -> bool:
    """True when a string (key or value) anywhere in the parsed JSON holds a NUL character,
    which PostgreSQL's jsonb cannot store. Iterative (an explicit stack), no recursion."""
    stack = [payload]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def delivery_id(spec: WebhookSpec, headers: Mapping, payload: dict, body: bytes) -> str:
    """The delivery's id: the vendor's delivery-id header, else the body's ``id``, else the
    body's SHA-256 (``sha256:<hex>``); at most 120 characters, no NUL."""
    value = storable(headers.get(spec.delivery_header), 120) or storable(payload.get("id"), 120)
    return value or "sha256:" + hashlib.sha256(body).hexdigest()


def _event_type(payload: dict) -> str:
    value = payload.get("type") or payload.get("event") or payload.get("eventType")
    return storable(value, 80)


@sensitive_variables("secret", "headers", "path_token")
def webhook_receive(
    *,
    vendor: str,
    connection_uuid: str,
    body: bytes,
    headers,
    path_token: str = "",
    remote_addr: str | None = None,
) -> Receipt:
    """Authenticate, deduplicate and store one delivery. See the module docstring.

    Args:
        vendor: the `accounts.models.Vendor` value of the endpoint.
        body: the raw request body, already bounded by the view (signatures cover it).
        headers: the request headers (case-insensitive mapping).
        path_token: a token given in the URL path (Synchroteam), else "".
    """
    connection = (
        Connection.objects.filter(uuid=connection_uuid, vendor=vendor, enabled=True)
        .select_related("tenant")
        .first()
    )
    spec = connection.vendor_descriptor.webhook if connection is not None else None
    if spec is None:
        log.warning("webhook: %s delivery for an unknown connection %s", vendor, connection_uuid)
        return Receipt(404, "Unknown connection.")
    base = {
        "tenant_id": connection.tenant_id,
        "connection": connection,
        "vendor": vendor,
        "remote_addr": remote_addr,
    }
    secret = webhook_secret(connection)
    if secret is None or not spec.verify(
        secret=secret, body=body, headers=headers, path_token=path_token
    ):
        reason = "no webhook secret in the vault" if secret is None else "signature does not match"
        return _bad_signature(connection, base, reason, headers.get(spec.delivery_header))
    del secret
    if json_depth_exceeds(body, max_json_depth()):
        payload = None
    else:
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            payload = None
    if not isinstance(payload, dict) or holds_nul(payload):
        event = InboundEvent.objects.create(
            **base,
            status=Status.MALFORMED,
            reason="the body is not a JSON object (too deep, or holds NUL characters)",
        )
        return Receipt(400, "The body must be a JSON object.", event)
    stale = spec.stale_reason(payload=payload, now=timezone.now())
    if stale:
        event = InboundEvent.objects.create(**base, status=Status.STALE, reason=stale[:300])
        return Receipt(400, f"Refused: {stale}.", event)
    delivery = delivery_id(spec, headers, payload, body)
    event_id = storable(spec.event_id(payload=payload, body=body), 120)
    existing = _accepted(connection, delivery, event_id)
    if existing is not None:
        return _replayed(existing)
    try:
        with transaction.atomic():
            event = InboundEvent.objects.create(
                **base,
                status=Status.ACCEPTED,
                delivery_id=delivery,
                event_id=event_id,
                event_type=_event_type(payload),
                payload=payload,
            )
            transaction.on_commit(lambda: schedule_event_processing(event.pk))
    except IntegrityError:  # the same delivery or event arrived twice at the same moment
        existing = _accepted(connection, delivery, event_id)
        if existing is None:  # not a duplicate (the connection went away meanwhile)
            raise
        return _replayed(existing)
    return Receipt(200, "Accepted.", event)


def _accepted(connection: Connection, delivery: str, event_id: str) -> InboundEvent | None:
    """The accepted event of this delivery id or event id, if any."""
    same = Q(delivery_id=delivery) | (Q(event_id=event_id) if event_id else Q(pk__in=[]))
    return (
        InboundEvent.objects.filter(connection=connection, status=Status.ACCEPTED)
        .filter(same)
        .order_by("id")
        .first()
    )


def _bad_signature(connection: Connection, base: dict, reason: str, delivery) -> Receipt:
    """Count a refused delivery in its minute; only the minute's first is stored (without its
    body), so a flood of forgeries writes one row a minute (`guards.count_bad_signature`)."""
    event = None
    if count_bad_signature(connection):
        event = InboundEvent.objects.create(
            **base,
            status=Status.BAD_SIGNATURE,
            reason=f"{reason} (later refusals this minute are only counted)",
            delivery_id=storable(delivery, 120),
        )
        log.warning(
            "webhook: refused %s delivery on connection %s: %s",
            connection.vendor,
            connection.pk,
            reason,
        )
    return Receipt(403, "Signature refused.", event)


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


def inbound_event_process(*, event_id: int, transport=None) -> str:
    """Refresh what an accepted event names, through the sync engine (trigger ``webhook``).

    The vendor's `WebhookSpec.refresh_for` says what: one record (Synchroteam jobs:
    ``job/details?id=`` fetched and upserted with the stream's mapping, recorded as a one-record
    ``webhook`` run), or a ``webhook`` run of the stream holding the record (FieldCamp visits or
    invoices; when one is already running the event is covered by it). Returns what was done
    (also stored on the event).
    """
    event = InboundEvent.objects.select_related("connection").filter(pk=event_id).first()
    if event is None or event.status != Status.ACCEPTED or event.processed_at:
        return "nothing to do"
    connection = event.connection
    payload = event.payload or {}
    spec = connection.vendor_descriptor.webhook
    refresh = spec.refresh_for(payload=payload, event_type=event.event_type)
    if refresh.resource is None:
        done = refresh.note
    elif refresh.record_id is not None and spec.fetch_record is not None:
        done = _refresh_record(connection, spec, refresh, transport=transport)
    else:
        done = _request_stream(connection, refresh.resource)
    InboundEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now(), refresh=done[:300])
    return done


def _request_stream(connection: Connection, resource: str) -> str:
    """Request a ``webhook`` run of one stream; the outcome sentence."""
    request = sync_request(connection, trigger=SyncRun.Trigger.WEBHOOK, resources=[resource])
    if request.already_running:
        return f"{resource}: a sync is already running and will pick it up"
    return f"{resource}: webhook run {', '.join(str(r.pk) for r in request.runs)} queued"


def _refresh_record(
    connection: Connection, webhook: WebhookSpec, refresh: Refresh, *, transport=None
) -> str:
    """Fetch the one record `refresh` names and upsert it with its stream's mapping."""
    descriptor = connection.vendor_descriptor
    spec = descriptor.stream(refresh.resource)
    (stream,) = ensure_streams(connection, [refresh.resource])
    what = f"{refresh.noun} {refresh.record_id}"
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
        return f"{what}: {exc}"
    try:
        record = webhook.fetch_record(client, refresh.record_id)
    except VendorError as exc:
        _finish(run, SyncRun.Status.FAILED, error=str(exc), error_kind=exc.kind, requests=1)
        return f"{what}: {exc.vendor_message}"
    finally:
        client.close()
    model = spec.model
    if record is None:
        gone = model.objects.filter(
            connection=connection, vendor_id=refresh.record_id, is_deleted=False
        ).update(is_deleted=True, deleted_at=timezone.now())
        _finish(run, SyncRun.Status.SUCCEEDED, deleted=gone, requests=1)
        return f"{what}: not found at {descriptor.label}; marked deleted"
    try:
        values = spec.map(record)
    except MappingError as exc:
        _finish(run, SyncRun.Status.FAILED, error=str(exc), error_kind="mapping", requests=1)
        return f"{what}: {exc}"
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
    mirror_changed.send_robust(Connection, connection_id=connection.pk, resource=refresh.resource)
    _finish(
        run,
        SyncRun.Status.SUCCEEDED,
        records_seen=1,
        created=int(created),
        updated=int(not created),
        requests=1,
    )
    return f"{what}: {'created' if created else 'updated'} in the mirror (run {run.pk})"


def _finish(run: SyncRun, status: str, **fields) -> None:
    SyncRun.objects.filter(pk=run.pk).update(status=status, finished_at=timezone.now(), **fields)
