"""Sending one delivery: the signed POST, its recorded answer, and the retry schedule.

`deliver(delivery_id)` claims the delivery (a lease, so two workers never send it at once),
POSTs the event's envelope with httpx (explicit timeout, no redirects), records a
`DeliveryAttempt` (status, the first ``OUTBOUND_WEBHOOK_RESPONSE_CHARS`` characters of the
answer, duration in ms) and settles it: 2xx delivered; anything else (a non-2xx answer, a
timeout, a refused connection) is retried after `backoff_seconds` until
``OUTBOUND_WEBHOOK_MAX_ATTEMPTS`` attempts, then failed. `deliver_due` (the sweep schedule,
every minute) sends what is due and what a dead worker left behind.

Envelope (the body, JSON, the same bytes on every attempt)::

    {"id": "<event uuid>", "type": "job.completed", "created": "<ISO 8601 UTC>",
     "company": "<tenant uuid>", "data": {...}}

Headers: ``Fieldline-Signature`` (`connectors.events.signing`), ``Fieldline-Event-Id``,
``Fieldline-Event-Type``, ``Fieldline-Delivery-Id`` (the delivery's uuid; a re-send has a new
one and the same event id), ``User-Agent: Fieldline-Webhooks/1``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import time

import httpx
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from connectors.events import signing
from connectors.events.models import DeliveryAttempt, OutboundEvent, WebhookDelivery
from connectors.events.urlcheck import RefusedURL, check_url

log = logging.getLogger(__name__)
State = WebhookDelivery.State
USER_AGENT = "Fieldline-Webhooks/1"


def envelope_bytes(event: OutboundEvent) -> bytes:
    """The event's body as sent (compact JSON, keys sorted: identical on every attempt)."""
    envelope = {
        "id": str(event.uuid),
        "type": event.event_type,
        "created": event.created_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "company": str(event.tenant.uuid),
        "data": event.payload,
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()


def backoff_seconds(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): exponential,
    ``OUTBOUND_WEBHOOK_RETRY_BASE_SECONDS * 4 ** (attempt - 1)`` plus up to 10 % jitter, at
    most ``OUTBOUND_WEBHOOK_RETRY_MAX_SECONDS``. With the defaults (60 s, 6 attempts):
    1, 4, 16, 64 and 256 minutes after attempts 1 to 5."""
    base = settings.OUTBOUND_WEBHOOK_RETRY_BASE_SECONDS * 4 ** max(0, attempt - 1)
    wait = min(base, settings.OUTBOUND_WEBHOOK_RETRY_MAX_SECONDS)
    return wait + random.uniform(0, wait * 0.1)  # noqa: S311 - jitter, not a secret


def _claim(delivery_id: int, *, now: dt.datetime) -> bool:
    lease = now + dt.timedelta(seconds=settings.OUTBOUND_WEBHOOK_TIMEOUT_SECONDS + 60)
    due = Q(state__in=WebhookDelivery.DUE_STATES, next_attempt_at__lte=now) | Q(
        state=State.SENDING, lease_until__lt=now
    )
    return bool(
        WebhookDelivery.objects.filter(due, pk=delivery_id).update(
            state=State.SENDING, lease_until=lease
        )
    )


def _post(url: str, body: bytes, headers: dict, transport) -> httpx.Response:
    timeout = httpx.Timeout(settings.OUTBOUND_WEBHOOK_TIMEOUT_SECONDS)
    with httpx.Client(timeout=timeout, transport=transport, follow_redirects=False) as client:
        return client.post(url, content=body, headers=headers)


def deliver(delivery_id: int, *, transport: httpx.BaseTransport | None = None) -> str:
    """One attempt of delivery `delivery_id` if it is due (else nothing). Returns its state
    after the attempt, or "not due". Never raises for the receiver's failures."""
    now = timezone.now()
    if not _claim(delivery_id, now=now):
        return "not due"
    delivery = WebhookDelivery.objects.select_related("endpoint", "event__tenant").get(
        pk=delivery_id
    )
    endpoint, event = delivery.endpoint, delivery.event
    number = delivery.attempts + 1
    if not endpoint.is_active:
        return _settle(delivery, number, None, "", 0, "The endpoint is disabled.", final=True)
    body = envelope_bytes(event)
    try:
        url = check_url(endpoint.url)
    except RefusedURL as exc:
        return _settle(delivery, number, None, "", 0, str(exc), final=True)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.HEADER: signing.signature_header(endpoint.secret, body),
        "Fieldline-Event-Id": str(event.uuid),
        "Fieldline-Event-Type": event.event_type,
        "Fieldline-Delivery-Id": str(delivery.uuid),
    }
    started = time.monotonic()
    try:
        response = _post(url, body, headers, transport)
    except httpx.HTTPError as exc:
        ms = int((time.monotonic() - started) * 1000)
        return _settle(delivery, number, None, "", ms, f"{exc.__class__.__name__}: {exc}")
    ms = int((time.monotonic() - started) * 1000)
    text = response.content[: settings.OUTBOUND_WEBHOOK_RESPONSE_CHARS * 4].decode(
        "utf-8", "replace"
    )[: settings.OUTBOUND_WEBHOOK_RESPONSE_CHARS]
    return _settle(delivery, number, response.status_code, text, ms, "")


def _settle(
    delivery: WebhookDelivery,
    number: int,
    status: int | None,
    text: str,
    ms: int,
    error: str,
    *,
    final: bool = False,
) -> str:
    now = timezone.now()
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=number,
        started_at=now - dt.timedelta(milliseconds=ms),
        duration_ms=ms,
        status_code=status,
        response_body=text.replace("\x00", ""),
        error=error[:300],
    )
    ok = status is not None and 200 <= status < 300
    fields = {"attempts": number, "last_status": status, "last_error": error[:300]}
    if ok:
        fields.update(state=State.SUCCEEDED, completed_at=now, next_attempt_at=None)
    elif final or number >= settings.OUTBOUND_WEBHOOK_MAX_ATTEMPTS:
        fields.update(state=State.FAILED, completed_at=now, next_attempt_at=None)
    else:
        later = now + dt.timedelta(seconds=backoff_seconds(number))
        fields.update(state=State.RETRYING, next_attempt_at=later)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(lease_until=None, **fields)
    log.info("webhook delivery %s attempt %s: %s", delivery.uuid, number, status or error or "sent")
    return fields["state"]


def due_ids(*, now: dt.datetime | None = None, limit: int | None = None) -> list[int]:
    """Ids of deliveries due now (pending or retrying whose time has come, or sending with an
    expired lease), oldest first."""
    now = now or timezone.now()
    due = Q(state__in=WebhookDelivery.DUE_STATES, next_attempt_at__lte=now) | Q(
        state=State.SENDING, lease_until__lt=now
    )
    qs = WebhookDelivery.objects.filter(due).order_by("next_attempt_at", "pk")
    return list(qs.values_list("pk", flat=True)[: limit or settings.OUTBOUND_WEBHOOK_SWEEP_BATCH])


def deliver_due(*, transport: httpx.BaseTransport | None = None) -> int:
    """The sweep: with ``OUTBOUND_WEBHOOK_ENQUEUE`` each due delivery is handed to a worker,
    else sent here, one after the other. Returns how many were due."""
    from connectors.events.services import enqueue

    ids = due_ids()
    if settings.OUTBOUND_WEBHOOK_ENQUEUE:
        enqueue(ids)
    else:
        for delivery_id in ids:
            deliver(delivery_id, transport=transport)
    return len(ids)
