"""The inbound webhook endpoints (the only csrf-exempt views: the signature or token is the
authentication). Bodies are read raw, before any parsing, because the signature covers them,
and bounded first (`connectors.webhooks.guards.read_body`: a ``Content-Length`` that is not a
number is a 400, one above ``WEBHOOK_MAX_BODY_BYTES`` a 413, and at most that many bytes + 1 are
read)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_POST

from accounts.models import Vendor
from connectors.webhooks.guards import BodyRefused, read_body
from connectors.webhooks.services import webhook_receive


@sensitive_variables("token")
def _receive(request: HttpRequest, vendor: str, connection_uuid, token: str = "") -> JsonResponse:
    try:
        body = read_body(request, settings.WEBHOOK_MAX_BODY_BYTES)
    except BodyRefused as refused:
        return JsonResponse({"detail": str(refused)}, status=refused.status)
    receipt = webhook_receive(
        vendor=vendor,
        connection_uuid=str(connection_uuid),
        body=body,
        headers=request.headers,
        path_token=token,
        remote_addr=request.META.get("REMOTE_ADDR"),
    )
    return JsonResponse({"detail": receipt.message}, status=receipt.status_code)


@csrf_exempt
@require_POST
def fieldcamp_webhook(request: HttpRequest, connection_uuid) -> JsonResponse:
    """``POST /webhooks/fieldcamp/<connection uuid>/`` signed with ``X-FieldCamp-Signature``."""
    return _receive(request, Vendor.FIELDCAMP, connection_uuid)


@csrf_exempt
@require_POST
@sensitive_variables("token")
def synchroteam_webhook(request: HttpRequest, connection_uuid, token: str = "") -> JsonResponse:
    """``POST /webhooks/synchroteam/<connection uuid>/`` with ``X-Webhook-Token``, or the token
    as the last path segment for senders that can only be given a URL."""
    return _receive(request, Vendor.SYNCHROTEAM, connection_uuid, token)
