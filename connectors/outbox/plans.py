"""Planned writes: what a person is shown before confirming, and exactly what is then sent.

A `WritePlan` is built on the server from validated form values and server-made keys. Each
`PlannedWrite` holds the operation (a constant of ``connectors/<vendor>/writes.py``), the HTTP
method and path, the exact JSON body the vendor will receive (marker included), the credential
whose vendor user the write will be attributed to, a human label and the write it waits for.
The preview template renders the plan; `connectors.outbox.services.plan_enqueue` turns the same
plan into `VendorWrite` rows, so the preview is what is sent.

A plan that the browser carries from Preview to Confirm is bound by a signed token
(`plan_token` / `plan_token_check`, django.core.signing): the token names the tenant, the
person, the action and the object, carries a server-made nonce (the batch key) and the plan's
fingerprint. A token that was forged, made for another person, ticket or action, or whose plan
changed since it was shown is refused; the same token confirmed twice finds the same batch.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field

from django.core import signing

from accounts.models import ActorCredential, Credential, NoCredential
from connectors.outbox.handlers import handler_for
from connectors.outbox.models import marker_for

SIGNING_SCOPE = "fieldline.outbox.plan"
#: How long a preview may wait for its Confirm, in seconds.
TOKEN_MAX_AGE = 24 * 3600


class PlanRefused(Exception):
    """The Confirm does not match a preview this server made for this person and object; the
    message is for the person."""


@dataclass(frozen=True)
class PlannedWrite:
    """One vendor write as the person sees it before confirming.

    Attributes:
        operation: an operation constant of ``connectors/<vendor>/writes.py``.
        target: parent ids, e.g. ``{"ticket_id": 123}`` (fills the path).
        payload: the body before the marker is placed (what the form asked for).
        key: the business key, made on the server (unique per tenant).
        depends_on: the `key` of the planned write that must be confirmed first.
    """

    operation: str
    target: dict
    payload: dict
    key: str
    depends_on: str | None = None

    @property
    def handler(self):
        return handler_for(self.operation)

    @property
    def body(self) -> dict:
        """The exact JSON body the vendor receives (marker included)."""
        return self.handler.apply_marker(self.payload, marker_for(self.key))

    @property
    def method(self) -> str:
        return self.handler.method

    @property
    def path(self) -> str:
        return self.handler.request_line(self.target).split(" ", 1)[1]

    @property
    def request_line(self) -> str:
        """``"POST /tickets/123/comment"``."""
        return self.handler.request_line(self.target)

    @property
    def label(self) -> str:
        """The operation's short name ("Comment")."""
        return self.handler.label or self.operation

    @property
    def description(self) -> str:
        """One line on what this write does (the handler's `describe`)."""
        return self.handler.describe(self.target, self.payload)


@dataclass
class WritePlan:
    """The writes one confirmation will create, in order, for one connection.

    Attributes:
        connection: the tenant's `connectors.models.Connection` the writes go to.
        kind: who asks, e.g. ``"billing.draft"``; stored on the `WriteBatch`.
        key: the batch key, made on the server (a draft's UUID, a token's nonce).
        label: what the person asked for, in words ("Comment on #1042").
        subject: what it is about, e.g. ``{"ticket_id": 123}``.
        actor: whose vendor key sends the writes (None: no key at all; enqueue refuses).
        writes: the planned writes, in chain order.
    """

    connection: object
    kind: str
    key: str
    label: str
    subject: dict = field(default_factory=dict)
    actor: ActorCredential | None = None
    writes: list[PlannedWrite] = field(default_factory=list)

    def add(
        self,
        operation: str,
        target: dict,
        payload: dict,
        step: str,
        *,
        after: PlannedWrite | None = None,
    ) -> PlannedWrite:
        """Append a write whose business key is ``<plan key>:<step>``; `after` chains it."""
        planned = PlannedWrite(
            operation, target, payload, f"{self.key}:{step}", after.key if after else None
        )
        self.writes.append(planned)
        return planned

    @property
    def credential(self) -> Credential | None:
        """The credential every write of this plan is sent with."""
        return self.actor.credential if self.actor else None

    @property
    def fingerprint(self) -> str:
        """SHA-256 over every write's operation, request line and exact body, and the
        credential: equal fingerprints mean the person saw exactly what will be sent."""
        shape = [[w.operation, w.request_line, w.body, w.depends_on] for w in self.writes] + [
            self.credential.pk if self.credential else None
        ]
        return hashlib.sha256(json.dumps(shape, sort_keys=True, default=str).encode()).hexdigest()


def plan_actor(connection, user) -> ActorCredential | None:
    """Whose key a write on `connection` made by `user` will use: theirs, else the tenant's
    shared one, else None (seed ``/syncro`` attribution rule)."""
    try:
        return Credential.objects.for_actor(connection.tenant, connection.vendor, user)
    except NoCredential:
        return None


def new_nonce() -> str:
    """A fresh server-made key part (32 hex digits)."""
    return secrets.token_hex(16)


def plan_token(*, tenant, user, action: str, obj: str, nonce: str, fingerprint: str) -> str:
    """A signed token binding a preview to (tenant, person, action, object, nonce, plan)."""
    return signing.dumps(
        {"t": tenant.pk, "u": user.pk, "a": action, "o": obj, "n": nonce, "f": fingerprint},
        salt=SIGNING_SCOPE,
        compress=True,
    )


def token_nonce(token: str, *, tenant, user, action: str, obj: str) -> str:
    """The nonce of a token made by `plan_token` for exactly this tenant, person, action and
    object.

    Raises:
        PlanRefused: the token is missing, forged, expired, or made for anything else.
    """
    return _token(token, tenant=tenant, user=user, action=action, obj=obj)["n"]


def plan_token_check(token: str, *, tenant, user, action: str, obj: str, plan: WritePlan) -> None:
    """Refuse unless `token` was made for this tenant, person, action and object, and `plan`
    (rebuilt at Confirm) is the plan that was shown.

    Raises:
        PlanRefused: with a sentence for the person.
    """
    data = _token(token, tenant=tenant, user=user, action=action, obj=obj)
    if not plan.key.endswith(data["n"]):
        raise PlanRefused("This confirmation does not belong to this preview.")
    if data["f"] != plan.fingerprint:
        raise PlanRefused(
            "What would be sent changed since you saw the preview. Check the new preview and "
            "confirm again."
        )


def _token(token: str, *, tenant, user, action: str, obj: str) -> dict:
    if not token or len(token) > 2000:
        raise PlanRefused("This confirmation has no valid preview token. Preview again.")
    try:
        data = signing.loads(token, salt=SIGNING_SCOPE, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise PlanRefused("This preview is too old. Preview again.") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise PlanRefused(
            "This confirmation was not made by the portal (its token does not verify). "
            "Nothing was sent; preview again."
        ) from None
    if not isinstance(data, dict) or set(data) != {"t", "u", "a", "o", "n", "f"}:
        raise PlanRefused("This confirmation's token is malformed. Preview again.")
    if (data["t"], data["u"], data["a"], str(data["o"])) != (tenant.pk, user.pk, action, str(obj)):
        raise PlanRefused(
            "This confirmation was made for another action, person or record. Nothing was sent."
        )
    return data
