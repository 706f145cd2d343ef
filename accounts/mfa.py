"""Two-step sign-in: TOTP authenticator apps and recovery codes through django-otp.

* Devices: one confirmed ``TOTPDevice`` (RFC 6238, 30 s steps, 6 digits, ±1 step, each code
  accepted once: django-otp's ``last_t``) and one ``StaticDevice`` holding 10 single-use
  recovery codes, per person.
* Sign-in: after the password, a person with a confirmed authenticator is *not* signed in; the
  session holds only who passed the password (`begin_second_step`, for ``MFA_PENDING_SECONDS``).
  The code completes the sign-in (`complete_second_step`: ``auth.login`` + ``django_otp.login``).
* Lockout: a wrong code is reported to django-axes as a failed sign-in of that e-mail address
  (``user_login_failed``), so 5 wrong codes lock the (e-mail, IP) pair exactly as 5 wrong
  passwords do; a lock from either step blocks both.
* Policy: a company with ``Tenant.require_mfa`` requires it of `MFA_ROLES`; `MfaRequiredMiddleware`
  sends such a member without a verified session to enrol or to the second step.

The TOTP secret is shown once on the enrolment page and is registered with the log redactor; it
never goes into an audit row, a message or a log line.
"""

from __future__ import annotations

import time
from base64 import b32encode
from collections.abc import Callable

import django_otp
import segno
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django_htmx.http import HttpResponseClientRedirect
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.logging import register_secret
from accounts.models import APPROVER_ROLES, Membership, User
from accounts.staff.models import MembershipEvent

#: Roles that must use two-step sign-in when their company requires it.
MFA_ROLES = APPROVER_ROLES
RECOVERY_CODE_COUNT = 10
PENDING_KEY = "mfa_pending"
ENROL_KEY = "mfa_enrol_device"
Action = MembershipEvent.Action


def is_required(membership: Membership | None) -> bool:
    """Whether the member's company requires two-step sign-in of their role (no query)."""
    return bool(membership and membership.tenant.require_mfa and membership.role in MFA_ROLES)


def has_authenticator(user: User) -> bool:
    """Whether the person has a confirmed authenticator app (one query)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: User) -> int:
    """How many unused recovery codes the person has (one query)."""
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def mfa_exempt(view: Callable) -> Callable:
    """Mark a view as reachable before the second step (sign-in, enrolment, sign-out)."""
    view.mfa_exempt = True
    return view


def _audit(tenant, *, user: User, action: str, by: User, membership=None, detail: str = ""):
    if tenant is not None:
        MembershipEvent.record(
            tenant=tenant,
            action=action,
            actor=by,
            subject=user.email,
            membership=membership,
            detail=detail,
        )


# --- enrolment ----------------------------------------------------------------------------


def start_enrolment(request: HttpRequest) -> TOTPDevice:
    """A new, unconfirmed authenticator for the signed-in person (earlier unconfirmed ones go).

    Its persistent id is kept in the session, so the confirming POST names it server-side.
    """
    user = request.user
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    request.session[ENROL_KEY] = device.persistent_id
    return device


def enrolling_device(request: HttpRequest) -> TOTPDevice | None:
    """The unconfirmed device this session started, if it still exists."""
    pid = request.session.get(ENROL_KEY)
    device = TOTPDevice.from_persistent_id(pid) if isinstance(pid, str) else None
    if device is None or device.user_id != request.user.pk or device.confirmed:
        return None
    return device


def secret_text(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for typing into an app (shown once)."""
    key = b32encode(device.bin_key).decode()
    register_secret(key)
    register_secret(device.key)
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def qr_svg(device: TOTPDevice) -> SafeString:
    """The device's ``otpauth://`` URI as an inline SVG QR code (segno; no network, no image)."""
    svg = segno.make(device.config_url, error="m").svg_inline(
        scale=4, dark="#111827", light="#ffffff", title="Scan with your authenticator app"
    )
    return mark_safe(svg)  # noqa: S308 (segno's own markup; the URI is ours)


def confirm_enrolment(request: HttpRequest, device: TOTPDevice, code: str) -> list[str] | None:
    """Check the first code; on success the device replaces any earlier one and new recovery
    codes are made. Returns the codes (to show once), or None for a wrong code."""
    if not _verify(device, code):
        return None
    user = request.user
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = _new_recovery_codes(user)
        _audit(
            getattr(request, "tenant", None),
            user=user,
            action=Action.MFA_ENROLLED,
            by=user,
            membership=getattr(request, "membership", None),
            detail="authenticator app and recovery codes",
        )
    request.session.pop(ENROL_KEY, None)
    django_otp.login(request, device)
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=c) for c in codes)
    return codes


def regenerate_recovery_codes(request: HttpRequest) -> list[str]:
    """Replace the person's recovery codes (the old ones stop working); returns the new ones."""
    with transaction.atomic():
        codes = _new_recovery_codes(request.user)
        _audit(
            getattr(request, "tenant", None),
            user=request.user,
            action=Action.MFA_CODES_REGENERATED,
            by=request.user,
            membership=getattr(request, "membership", None),
        )
    return codes


def remove_devices(user: User, *, by: User, tenant=None, membership=None, reset: bool = False):
    """Delete every device of `user` (turn off, or an owner's reset for a lost phone)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        action = Action.MFA_RESET if reset else Action.MFA_DISABLED
        _audit(tenant, user=user, action=action, by=by, membership=membership)


# --- verification and the second sign-in step ----------------------------------------------


def _verify(device, code: str) -> bool:
    with transaction.atomic():
        locked = type(device).objects.select_for_update().get(pk=device.pk)
        ok = locked.verify_token(code)
    if ok:
        device.refresh_from_db()
    return ok


def normalise_code(code: str) -> str:
    """`code` as typed, without spaces and dashes, lower-case ("123 456" -> "123456")."""
    return "".join(code.split()).replace("-", "").lower()


def verify_code(user: User, code: str):
    """The device that accepts `code` (6 digits: the authenticator; else a recovery code, used
    up), or None. Each device is locked while it checks (django-otp's replay and throttling)."""
    code = normalise_code(code)
    if code.isdigit() and len(code) == 6:
        devices = TOTPDevice.objects.filter(user=user, confirmed=True)
    else:
        devices = StaticDevice.objects.filter(user=user, confirmed=True)
    for device in devices:
        if _verify(device, code):
            return device
    return None


def axes_credentials(user: User) -> dict:
    """The credentials django-axes keys its lockout on (``{"username": e-mail}``)."""
    return {settings.AXES_USERNAME_FORM_FIELD: user.email}


def record_failed_code(request: HttpRequest, user: User) -> bool:
    """Count a wrong code as a failed sign-in of the address (django-axes' lockout).

    Returns True when this failure locked the address out.
    """
    user_login_failed.send(sender=__name__, credentials=axes_credentials(user), request=request)
    return bool(getattr(request, "axes_locked_out", False))


def begin_second_step(request: HttpRequest, user: User, redirect_to: str) -> None:
    """Remember that `user` passed the password; nobody is signed in yet."""
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[-1]),
        "next": redirect_to,
        "at": time.time(),
    }


def pending_sign_in(request: HttpRequest) -> tuple[User, dict] | None:
    """The person between password and code, with the pending data, or None (expired: cleared)."""
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    fresh = time.time() - float(data.get("at", 0)) <= settings.MFA_PENDING_SECONDS
    user = User.objects.filter(pk=data.get("user"), is_active=True).first() if fresh else None
    if user is None or data.get("backend") not in settings.AUTHENTICATION_BACKENDS:
        request.session.pop(PENDING_KEY, None)
        return None
    return user, data


def cancel_second_step(request: HttpRequest) -> None:
    """Forget the pending sign-in (the password must be given again)."""
    request.session.pop(PENDING_KEY, None)


def complete_second_step(request: HttpRequest, user: User, device, data: dict | None) -> None:
    """Sign the person in (a new session key) and mark the session verified by `device`."""
    if data is not None:
        request.session.pop(PENDING_KEY, None)
        auth.login(request, user, backend=data["backend"])
    django_otp.login(request, device)


class MfaRequiredMiddleware:
    """Members whose company requires two-step sign-in reach no page until it is done.

    Costs no query for everyone else; for them, one (has an authenticator?) per refused request.
    Views marked `mfa_exempt` (sign-in, second step, enrolment, sign-out, invitations) pass.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "mfa_exempt", False):
            return None
        user = request.user
        if not user.is_authenticated or not is_required(getattr(request, "membership", None)):
            return None
        is_verified = getattr(user, "is_verified", None)
        if is_verified is not None and is_verified():
            return None
        target = "login_verify" if has_authenticator(user) else "mfa_enrol"
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(reverse(target))
        return redirect(target)
