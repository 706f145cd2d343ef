"""Outbound webhook services: raise events, manage endpoints, re-send deliveries.

Public API:

* `emit_event(company, event_type, payload) -> OutboundEvent | None`: record one event of a
  `registry` type for `company` (a `Tenant` or its id) and queue one delivery per active
  endpoint subscribed to it; None (nothing stored) when no endpoint wants the type. Deliveries
  are handed to django-q2 when the caller's transaction commits.
* `endpoint_create(tenant, *, url, event_types, description, by) -> (endpoint, secret)`: the
  secret is made here and returned once; afterwards only its fingerprint is shown.
* `endpoint_update(endpoint, *, url, event_types, description, is_active)`.
* `endpoint_rotate_secret(endpoint) -> secret`.
* `resend_token(delivery, user)` / `delivery_resend(delivery, *, token, by)`: a new delivery of
  the same event (same event id, so receivers deduplicate) to the same endpoint.

Sending is in `connectors.events.delivery`.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.views.decorators.debug import sensitive_variables

from accounts.models import Tenant
from connectors.events.models import OutboundEvent, WebhookDelivery, WebhookEndpoint
from connectors.events.registry import EVENT_TYPES
from connectors.events.registry import event_type as lookup_event_type
from connectors.events.urlcheck import check_url

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
RESEND_SALT = "events.delivery.resend"


class ResendRefused(ValueError):
    """The re-send token is missing, forged, expired or not this person's."""


def _tenant_id(company: Tenant | int) -> int:
    return company.pk if isinstance(company, Tenant) else int(company)


def _json_safe(payload: Any) -> Any:
    """`payload` as plain JSON types (dates, decimals and UUIDs become strings)."""
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


def emit_event(company: Tenant | int, event_type: str, payload: dict) -> OutboundEvent | None:
    """Raise `event_type` for `company` with `payload` as the envelope's ``data``.

    Args:
        company: the tenant (or its primary key) whose endpoints receive the event.
        event_type: a name of `connectors.events.registry.EVENT_TYPES`.
        payload: JSON-serialisable dict (dates, decimals and UUIDs are written as strings);
            the keys each type carries are listed in the registry and docs/webhooks.md.
    Returns:
        The stored event, or None when no active endpoint of the company wants this type.
    Raises:
        UnknownEventType: `event_type` is not registered.
        TypeError: `payload` is not JSON-serialisable.
    """
    lookup_event_type(event_type)
    tenant_id = _tenant_id(company)
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(tenant_id=tenant_id, is_active=True).only(
            "id", "event_types"
        )  # not the secret: it is decrypted only when a delivery is signed
        if event_type in (e.event_types or [])
    ]
    if not endpoints:
        return None
    with transaction.atomic():
        event = OutboundEvent.objects.create(
            tenant_id=tenant_id, event_type=event_type, payload=_json_safe(payload)
        )
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(tenant_id=tenant_id, event=event, endpoint=e) for e in endpoints
        )
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: enqueue(ids))
    return event


def enqueue(delivery_ids: list[int]) -> None:
    """Hand deliveries to django-q2 (``connectors.events.tasks.deliver``, ids only, never a
    secret); nothing when ``OUTBOUND_WEBHOOK_ENQUEUE`` is off (the sweep sends them)."""
    if not settings.OUTBOUND_WEBHOOK_ENQUEUE:
        return
    from django_q.tasks import async_task

    for delivery_id in delivery_ids:
        async_task(
            "connectors.events.tasks.deliver", delivery_id, task_name=f"webhook-out-{delivery_id}"
        )


# --- endpoints ------------------------------------------------------------------------------


def new_secret() -> str:
    """A signing secret: ``whsec_`` + 32 random bytes, URL-safe base64."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _clean_types(event_types) -> list[str]:
    return [t for t in EVENT_TYPES if t in set(event_types or [])]


@sensitive_variables("secret")
def endpoint_create(
    tenant: Tenant, *, url: str, event_types, description: str = "", by=None
) -> tuple[WebhookEndpoint, str]:
    """A new active endpoint and its secret (shown to the person once, never again).

    Raises:
        RefusedURL: the URL may not receive webhooks (`connectors.events.urlcheck`).
    """
    url = check_url(url)
    secret = new_secret()
    endpoint = WebhookEndpoint.objects.create(
        tenant=tenant,
        url=url,
        description=description[:200],
        event_types=_clean_types(event_types),
        secret=secret,
        secret_fingerprint=secret[-4:],
        created_by=by if getattr(by, "pk", None) else None,
    )
    return endpoint, secret


def endpoint_update(
    endpoint: WebhookEndpoint, *, url: str, event_types, description: str, is_active: bool
) -> WebhookEndpoint:
    """Save the endpoint's URL, types, description and whether it receives events.

    Raises:
        RefusedURL: the URL may not receive webhooks.
    """
    endpoint.url = check_url(url)
    endpoint.event_types = _clean_types(event_types)
    endpoint.description = description[:200]
    endpoint.is_active = is_active
    endpoint.save(update_fields=["url", "event_types", "description", "is_active", "updated_at"])
    return endpoint


@sensitive_variables("secret")
def endpoint_rotate_secret(endpoint: WebhookEndpoint) -> str:
    """Replace the endpoint's secret; the new one is returned (shown once). Attempts from now
    on are signed with it."""
    secret = new_secret()
    endpoint.secret = secret
    endpoint.secret_fingerprint = secret[-4:]
    endpoint.save(update_fields=["secret", "secret_fingerprint", "updated_at"])
    return secret


# --- re-send --------------------------------------------------------------------------------


def resend_token(delivery: WebhookDelivery, user) -> str:
    """The re-send form's token: signed by the server for this delivery and person, with a
    random part so each page view allows one re-send."""
    return signing.dumps(
        {"d": str(delivery.uuid), "u": user.pk, "n": secrets.token_hex(8)}, salt=RESEND_SALT
    )


def delivery_resend(delivery: WebhookDelivery, *, token: str, by) -> WebhookDelivery:
    """A new delivery of `delivery`'s event to its endpoint, queued now. The same token twice
    (a double click) gives the delivery made the first time.

    Raises:
        ResendRefused: the token is not one `resend_token` made for this delivery and person
            in the last ``OUTBOUND_WEBHOOK_RESEND_TOKEN_SECONDS``.
    """
    try:
        data = signing.loads(
            token or "", salt=RESEND_SALT, max_age=settings.OUTBOUND_WEBHOOK_RESEND_TOKEN_SECONDS
        )
    except signing.BadSignature:
        raise ResendRefused("This re-send form has expired; open the delivery again.") from None
    if not isinstance(data, dict) or data.get("d") != str(delivery.uuid) or data.get("u") != by.pk:
        raise ResendRefused("This re-send form is not for this delivery.")
    key = hashlib.sha256(token.encode()).hexdigest()
    existing = WebhookDelivery.objects.filter(resend_key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            new = WebhookDelivery.objects.create(
                tenant_id=delivery.tenant_id,
                event_id=delivery.event_id,
                endpoint_id=delivery.endpoint_id,
                resent_from=delivery,
                resent_by=by,
                resend_key=key,
            )
            transaction.on_commit(lambda: enqueue([new.pk]))
    except IntegrityError:
        return WebhookDelivery.objects.get(resend_key=key)
    return new
