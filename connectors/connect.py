"""Connect a vendor from the portal, and each person's own vendor keys.

Public API (keyword-only; the views in `connectors.connect_views` and `connectors.key_views`
call these, nothing else writes connections or keys from the portal):

* `secret_check(connection, secret, *, transport=None) -> Check`: the vendor's cheapest
  authenticated call with `secret`, through the shared rate limiter; saves nothing. The
  connection may be unsaved (the form's candidate).
* `vendor_connect(*, tenant, vendor, account_text, secret, webhook_secret="", by) -> Connected`:
  read the account field by the descriptor's rule, check the key, and only then save the
  connection, the company key (created or rotated, then verified), the optional webhook secret,
  the schedules, and queue the first sync (enqueued on commit).
* `personal_key_save(*, connection, user, secret, by, credential=None) -> Check`: add or rotate a
  person's own key once the vendor accepts it.
* `credential_verify(*, connection, credential, by) -> Check`: check a stored key again and record
  the answer (`Credential.mark_verified` / `mark_failed`).
* `key_overview(tenant, vendors) -> list[dict]`: who has their own key, for owners.

Every change goes through the `Credential` model methods, so each writes its `CredentialEvent`
in the same transaction. A secret is never put in a message, a log line or an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.views.decorators.debug import sensitive_variables

from accounts.models import Credential, CredentialPurpose, Membership, Tenant
from connectors.errors import AuthError, NotFound, RateLimited, VendorError, parse_retry_after
from connectors.models import Connection, SyncRun, SyncStream
from connectors.ratelimit import ConnectionGate
from connectors.schedules import connection_schedules_ensure
from connectors.services import client_for_secret, sync_request
from connectors.vendors import Vendor, vendor_for


@dataclass(frozen=True)
class Check:
    """A vendor's answer to a key: ``ok``; ``message`` (the sentence shown: the identity when
    ok, else what the vendor answered); ``field`` the form field it concerns ("secret",
    "account" or ""); ``rejected`` true for a 401/403; ``identity`` and ``vendor_user_id``
    as `Credential.mark_verified` stores them."""

    ok: bool
    message: str
    field: str = ""
    rejected: bool = False
    identity: str = ""
    vendor_user_id: str = ""


@dataclass(frozen=True)
class Connected:
    """The outcome of `vendor_connect`: the `Check`, and when it passed the saved connection,
    its company key and how many first-sync runs were queued (0 when a sync was running)."""

    check: Check
    connection: Connection | None = None
    credential: Credential | None = None
    runs: int = 0


class BudgetBusy(VendorError):
    """The shared rate limiter has no room within ``CONNECTORS_VERIFY_MAX_WAIT_SECONDS``, or
    the vendor answered 429: a person is waiting, so this is reported at once instead of
    being retried (the client's retry loop only retries `RateLimited` and `TransientError`)."""

    permanent = False
    kind = "busy"

    def __init__(self, message: str, *, retry_after: float, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = float(retry_after)


class InteractiveGate(ConnectionGate):
    """`ConnectionGate` for a request a person waits on: a short wait for room, then
    `BudgetBusy`; a vendor 429 is recorded (it pauses the scope for every worker) and
    becomes `BudgetBusy` instead of a sleep in the web request."""

    @sensitive_variables("secret")
    def __init__(self, connection: Connection, secret: str) -> None:
        super().__init__(connection, secret, max_wait=settings.CONNECTORS_VERIFY_MAX_WAIT_SECONDS)

    def before(self, *, method: str, path: str, kind: str) -> None:
        """Wait briefly for room in the budgets; raises `BudgetBusy` instead of waiting long."""
        try:
            super().before(method=method, path=path, kind=kind)
        except RateLimited as exc:
            raise BudgetBusy(str(exc), retry_after=exc.retry_after, vendor=exc.vendor) from exc

    def after(self, response: httpx.Response | None, *, method: str, kind: str) -> None:
        """Record the answer like every request; a 429 then raises `BudgetBusy`."""
        super().after(response, method=method, kind=kind)
        if response is not None and response.status_code == 429:
            wait = parse_retry_after(
                response.headers.get("Retry-After"), default=self.policy.retry_after_default
            )
            raise BudgetBusy("429", retry_after=wait, vendor=self.connection.vendor, status=429)


def _answer(exc: VendorError) -> str:
    """The vendor's own words, short; an HTML page (a wrong host) is named, not pasted."""
    text = exc.vendor_message.strip()
    if text.startswith("<") or "<html" in text[:200].lower():
        text = "an HTML page, not the API"
    status = f"HTTP {exc.status}: " if exc.status else ""
    return f"{status}{text[:300]}"


@sensitive_variables("secret")
def secret_check(
    connection: Connection, secret: str, *, transport: httpx.BaseTransport | None = None
) -> Check:
    """Ask the vendor who `secret` belongs to: the descriptor's client ``verify()`` (Syncro
    ``GET /me`` -> "NAME (user_id=N)", seed ``/syncro`` "Verify attribution"; Synchroteam one
    ``user/list`` record; FieldCamp the Google Calendar status route, vendor-apis.md §3.5).

    The request goes through the shared rate limiter (`InteractiveGate`: waiting at most
    ``CONNECTORS_VERIFY_MAX_WAIT_SECONDS``, a 429 reported at once, never slept on). Nothing is saved. Never raises for what the vendor
    (or a wrong host) answers: a vendor error or an answer of the wrong shape becomes a `Check`.
    """
    label = connection.vendor_descriptor.label
    gate = InteractiveGate(connection, secret)
    client = client_for_secret(connection, secret, gate=gate, transport=transport)
    try:
        identity, vendor_user_id = client.verify()
    except AuthError as exc:
        return Check(False, f"{label} refused this key — {_answer(exc)}", "secret", True)
    except NotFound as exc:
        return Check(
            False,
            f"{label} has no API at {connection.api_base_url} — {_answer(exc)}. Check the account.",
            "account",
        )
    except (BudgetBusy, RateLimited) as exc:
        return Check(
            False,
            f"{label}'s request budget is in use right now (a sync or the vendor's limit); "
            f"try again in {max(1, round(exc.retry_after))} s.",
        )
    except VendorError as exc:
        return Check(False, f"Could not reach {label}: {_answer(exc)}")
    except (AttributeError, KeyError, TypeError, ValueError):
        # a 2xx whose body is not the vendor's identity shape: not this vendor's API
        return Check(
            False,
            f"{connection.api_base_url} answered, but not as the {label} API does. "
            "Check the account.",
            "account",
        )
    finally:
        client.close()
    return Check(True, identity, identity=identity, vendor_user_id=vendor_user_id)


def base_url_allowed(url: str) -> bool:
    """True when `url` lies under one of ``CONNECTORS_ALLOWED_BASE_URLS`` (same scheme, host
    and port, path below the prefix's). Vendors' own hosts never reach this check: their
    `ConnectSpec.parse_account` turns them into an account."""
    try:
        want = urlsplit(url)
        want_port = want.port
    except ValueError:
        return False
    for prefix in settings.CONNECTORS_ALLOWED_BASE_URLS:
        allowed = urlsplit(prefix.rstrip("/"))
        if (
            (want.scheme, want.hostname, want_port)
            == (allowed.scheme, allowed.hostname, allowed.port)
            and not want.username
            and (want.path + "/").startswith(allowed.path + "/")
        ):
            return True
    return False


def _candidate(tenant: Tenant, descriptor: Vendor, account_text: str):
    """``(connection, existing, Check | None)``: the unsaved connection the form describes (on
    the existing one's id), or the reason the account field is refused."""
    try:
        account, base_url = descriptor.connect.parse_account(account_text)
    except ValueError as exc:
        return None, None, Check(False, str(exc), "account")
    if base_url and not base_url_allowed(base_url):
        return (
            None,
            None,
            Check(
                False,
                f"The portal only calls {descriptor.label}'s own servers; {base_url} is not one "
                "(an operator can allow it with CONNECTORS_ALLOWED_BASE_URLS).",
                "account",
            ),
        )
    existing = Connection.objects.for_tenant(tenant).of(descriptor.name).first()
    if existing and existing.account != account and _has_mirror(existing):
        return (
            None,
            None,
            Check(
                False,
                f"This company's {descriptor.label} mirror is of account “{existing.account}”; "
                "connecting another account would mix two accounts' records.",
                "account",
            ),
        )
    candidate = Connection(
        pk=existing.pk if existing else None,
        tenant=tenant,
        vendor=descriptor.name,
        account=account,
        base_url=base_url,
    )
    if existing:
        candidate.syncro_auth_mode = existing.syncro_auth_mode
    return candidate, existing, None


def _has_mirror(connection: Connection) -> bool:
    return SyncStream.objects.filter(connection=connection, last_success_at__isnull=False).exists()


@sensitive_variables("secret")
def _store_secret(connection, *, purpose, label, secret, by) -> Credential:
    """Create the company credential of `purpose`, or rotate the live one (events by the
    model methods)."""
    live = (
        Credential.objects.usable()
        .select_for_update()
        .filter(tenant=connection.tenant, vendor=connection.vendor, purpose=purpose)
        .filter(owner__isnull=True)
        .order_by("pk")  # the model's ordering joins the tenant, which would lock it too
        .first()
    )
    if live is None:
        return Credential.create(
            tenant=connection.tenant,
            vendor=connection.vendor,
            label=label,
            secret=secret,
            by=by,
            purpose=purpose,
        )
    live.rotate(secret, by=by)
    return live


@sensitive_variables("secret", "webhook_secret")
def vendor_connect(
    *,
    tenant: Tenant,
    vendor: str,
    account_text: str,
    secret: str,
    webhook_secret: str = "",
    by,
    transport: httpx.BaseTransport | None = None,
) -> Connected:
    """Connect (or re-key) `tenant`'s `vendor` account; see the module docstring.

    Returns `Connected` whose ``check`` says why nothing was saved when it is not ok (the
    account field refused, the vendor's answer to the key, a concurrent connect).

    Raises:
        connectors.vendors.UnknownVendor: `vendor` is not registered.
        ValueError: the vendor has no portal connect form (``descriptor.connect`` is None).
    """
    descriptor = vendor_for(vendor)
    if descriptor.connect is None:
        raise ValueError(f"{descriptor.label} cannot be connected from the portal.")
    candidate, existing, refused = _candidate(tenant, descriptor, account_text)
    if refused:
        return Connected(refused)
    check = secret_check(candidate, secret, transport=transport)
    if not check.ok:
        return Connected(check)
    try:
        with transaction.atomic():
            connection, credential = _save(candidate, existing, check, secret, webhook_secret, by)
            connection_schedules_ensure(connection)
            first = sync_request(
                connection,
                trigger=SyncRun.Trigger.MANUAL,
                mode=SyncRun.Mode.INCREMENTAL if existing else SyncRun.Mode.FULL,
                user=by,
            )
    except IntegrityError:
        return Connected(
            Check(False, f"Someone else connected {descriptor.label} a moment ago; reload.")
        )
    return Connected(check, connection, credential, len(first.runs))


@sensitive_variables("secret", "webhook_secret")
def _save(candidate, existing, check: Check, secret: str, webhook_secret: str, by):
    if existing is None:
        connection = candidate
        connection.save()
    else:
        connection = Connection.objects.select_for_update().get(pk=existing.pk)
        connection.account, connection.base_url = candidate.account, candidate.base_url
        connection.enabled = True
        connection.save(update_fields=["account", "base_url", "enabled"])
    label = connection.vendor_descriptor.label
    credential = _store_secret(
        connection,
        purpose=CredentialPurpose.API,
        label=f"{label} company key",
        secret=secret,
        by=by,
    )
    credential.mark_verified(identity=check.identity, vendor_user_id=check.vendor_user_id, by=by)
    if webhook_secret:
        _store_secret(
            connection,
            purpose=CredentialPurpose.WEBHOOK,
            label=f"{label} webhook secret",
            secret=webhook_secret,
            by=by,
        )
    return connection, credential


# --- a person's own keys ---------------------------------------------------------------------


@sensitive_variables("secret")
def personal_key_save(
    *,
    connection: Connection,
    user,
    secret: str,
    by,
    credential: Credential | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Check:
    """Add `user`'s own key for the connection's vendor (or rotate `credential`, which must be
    theirs) once the vendor accepts `secret`; a refused key changes nothing. A key of the same
    vendor user as the company key is saved, and the message says writes stay attributed to
    that user."""
    check = secret_check(connection, secret, transport=transport)
    if not check.ok:
        return check
    label = connection.vendor_descriptor.label
    try:
        with transaction.atomic():
            if credential is None:
                credential = Credential.create(
                    tenant=connection.tenant,
                    vendor=connection.vendor,
                    label=f"{label} key of {user.display_name}"[:120],
                    secret=secret,
                    owner=user,
                    by=by,
                )
            else:
                credential.rotate(secret, by=by)
            credential.mark_verified(
                identity=check.identity, vendor_user_id=check.vendor_user_id, by=by
            )
    except IntegrityError:
        return Check(False, f"You already have a {label} key; rotate it instead.")
    shared = _shared(connection)
    if shared and check.vendor_user_id and shared.verified_vendor_user_id == check.vendor_user_id:
        return Check(
            True,
            f"{check.identity} — the same {label} user as the company key, so your writes are "
            "still credited to that user.",
            identity=check.identity,
            vendor_user_id=check.vendor_user_id,
        )
    return check


def _shared(connection: Connection) -> Credential | None:
    return (
        Credential.objects.usable()
        .filter(
            tenant_id=connection.tenant_id,
            vendor=connection.vendor,
            purpose=CredentialPurpose.API,
            owner__isnull=True,
        )
        .first()
    )


def credential_verify(
    *,
    connection: Connection,
    credential: Credential,
    by,
    transport: httpx.BaseTransport | None = None,
) -> Check:
    """Check a stored key again: verified -> `mark_verified`; refused (401/403) ->
    `mark_failed` with the vendor's answer; anything else (unreachable, rate limited) changes
    nothing and is reported."""
    check = secret_check(connection, credential.secret, transport=transport)
    if check.ok:
        credential.mark_verified(
            identity=check.identity, vendor_user_id=check.vendor_user_id, by=by
        )
    elif check.rejected:
        credential.mark_failed(error=check.message, by=by)
    return check


def key_overview(tenant: Tenant, vendors: list[str]) -> list[dict]:
    """One row per active member of `tenant`: ``{"membership", "keys": [Credential | None, …]}``
    with one entry per vendor of `vendors` (their live own API key, or None: their writes use
    the company key). Two queries."""
    keys = {
        (c.owner_id, c.vendor): c
        for c in Credential.objects.usable().filter(
            tenant=tenant, vendor__in=vendors, purpose=CredentialPurpose.API, owner__isnull=False
        )
    }
    members = (
        Membership.objects.filter(tenant=tenant, is_active=True)
        .select_related("user")
        .order_by("user__first_name", "user__email")
    )
    return [{"membership": m, "keys": [keys.get((m.user_id, v)) for v in vendors]} for m in members]


__all__ = [
    "BudgetBusy",
    "Check",
    "Connected",
    "InteractiveGate",
    "base_url_allowed",
    "credential_verify",
    "key_overview",
    "personal_key_save",
    "secret_check",
    "vendor_connect",
]
