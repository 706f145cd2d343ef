"""Invitations: create, (re)send by e-mail, revoke, and accept through a signed, expiring link.

The link is ``/invite/<token>/`` where the token is ``django.core.signing.dumps`` of the
invitation's uuid and nonce under a dedicated salt (HMAC with ``SECRET_KEY``, timestamped). It is
made here, on the server, and checked by `invitation_from_token`, which says in one word why a
link does not work: ``invalid`` (tampered, truncated, random), ``expired``, ``replaced`` (a newer
e-mail was sent), ``used`` or ``revoked``. Nothing in this module raises for bad input.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role, Tenant, User
from accounts.staff.models import Invitation, MembershipEvent, new_nonce

SALT = "fieldline.accounts.staff.invitation"
Action = MembershipEvent.Action


class StaffError(Exception):
    """A staff change refused for a reason the person can act on (the message says it)."""


class InvitationInvalid(Exception):
    """The link cannot be used; ``reason`` is one of the words in the module docstring."""

    def __init__(self, reason: str, invitation: Invitation | None = None):
        super().__init__(reason)
        self.reason = reason
        self.invitation = invitation


def max_age() -> timedelta:
    """How long a link works after it was (re)sent (``INVITATION_MAX_AGE_HOURS``)."""
    return timedelta(hours=settings.INVITATION_MAX_AGE_HOURS)


def make_token(invitation: Invitation) -> str:
    """The signed token for the invitation's current nonce (URL-safe, about 100 characters)."""
    return signing.dumps({"i": invitation.uuid.hex, "n": invitation.nonce}, salt=SALT)


def invitation_from_token(token: str) -> Invitation:
    """The open invitation the token names.

    Raises:
        InvitationInvalid: with ``reason`` invalid, expired, replaced, used or revoked.
    """
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age())
    except signing.SignatureExpired:
        raise InvitationInvalid("expired") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise InvitationInvalid("invalid") from None
    try:
        wanted = uuid.UUID(hex=data["i"])
    except (TypeError, KeyError, ValueError, AttributeError):
        raise InvitationInvalid("invalid") from None
    invitation = (
        Invitation.objects.select_related("tenant", "invited_by").filter(uuid=wanted).first()
    )
    if invitation is None:
        raise InvitationInvalid("invalid")
    status = invitation.status
    if status == Invitation.Status.REVOKED:
        raise InvitationInvalid("revoked", invitation)
    if status == Invitation.Status.ACCEPTED:
        raise InvitationInvalid("used", invitation)
    if data.get("n") != invitation.nonce:
        raise InvitationInvalid("replaced", invitation)
    if status == Invitation.Status.EXPIRED:
        raise InvitationInvalid("expired", invitation)
    return invitation


def invitation_url(invitation: Invitation, base_url: str) -> str:
    """Absolute link for the e-mail; `base_url` is e.g. ``request.build_absolute_uri("/")``."""
    path = reverse("invitation_accept", args=[make_token(invitation)])
    return base_url.rstrip("/") + path


def send_invitation(invitation: Invitation, *, base_url: str) -> None:
    """Send the invitation e-mail through Django's e-mail backend (EMAIL_URL).

    Raises whatever the backend raises (e.g. ``smtplib.SMTPException``, ``OSError``); the
    caller tells the person the e-mail could not be sent. The token is only in the e-mail.
    """
    context = {
        "invitation": invitation,
        "url": invitation_url(invitation, base_url),
        "hours": settings.INVITATION_MAX_AGE_HOURS,
    }
    subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
    body = render_to_string("accounts/email/invitation.txt", context)
    send_mail(subject, body, None, [invitation.email])


def invite(*, tenant: Tenant, email: str, role: str, by: User) -> Invitation:
    """Create an invitation and its ``invited`` event (the caller sends the e-mail after commit).

    Raises:
        StaffError: the address is already a member (active or deactivated) or has an open
            invitation, or the role is unknown.
    """
    email = email.strip().lower()
    if role not in Role.values:
        raise StaffError("Choose one of the roles.")
    member = Membership.objects.filter(tenant=tenant, user__email__iexact=email).first()
    if member is not None:
        if member.is_active:
            raise StaffError(f"{email} is already a member of {tenant}.")
        raise StaffError(f"{email} is a deactivated member: reactivate them in the staff list.")
    if Invitation.objects.open().filter(tenant=tenant, email__iexact=email).exists():
        raise StaffError(f"{email} already has an open invitation: resend it from the list.")
    now = timezone.now()
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                tenant=tenant,
                email=email,
                role=role,
                invited_by=by,
                sent_at=now,
                expires_at=now + max_age(),
            )
            MembershipEvent.record(
                tenant=tenant,
                action=Action.INVITED,
                actor=by,
                subject=email,
                invitation=invitation,
                detail=f"as {invitation.get_role_display()}",
            )
    except IntegrityError:  # a concurrent invitation of the same address won the race
        raise StaffError(f"{email} already has an open invitation: resend it.") from None
    return invitation


def refresh_for_resend(invitation: Invitation, *, by: User) -> Invitation:
    """New nonce and expiry (older links stop working) and an ``invitation_resent`` event."""
    if invitation.status in (Invitation.Status.ACCEPTED, Invitation.Status.REVOKED):
        raise StaffError("This invitation is closed: invite the address again.")
    now = timezone.now()
    with transaction.atomic():
        invitation.nonce = new_nonce()
        invitation.sent_at = now
        invitation.expires_at = now + max_age()
        invitation.save(update_fields=["nonce", "sent_at", "expires_at"])
        MembershipEvent.record(
            tenant=invitation.tenant,
            action=Action.INVITATION_RESENT,
            actor=by,
            subject=invitation.email,
            invitation=invitation,
        )
    return invitation


def revoke(invitation: Invitation, *, by: User) -> None:
    """Close an open invitation (its link shows "revoked") with an ``invitation_revoked`` event."""
    if invitation.status in (Invitation.Status.ACCEPTED, Invitation.Status.REVOKED):
        raise StaffError("This invitation is already closed.")
    with transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        MembershipEvent.record(
            tenant=invitation.tenant,
            action=Action.INVITATION_REVOKED,
            actor=by,
            subject=invitation.email,
            invitation=invitation,
        )


def existing_account(invitation: Invitation) -> User | None:
    """The account of the invited address if it already has a password (it joins by signing in)."""
    user = User.objects.filter(email__iexact=invitation.email).first()
    return user if user is not None and user.has_usable_password() else None


def accept(
    invitation: Invitation, *, user: User | None = None, password: str = "", **names
) -> Membership:
    """Close the invitation and make the person an active member with the invited role.

    Args:
        user: an existing account (signed in as the invited address); else a new account is
            made (or an account without a password completed) with `password` and `names`
            (``first_name``, ``last_name``).
    Raises:
        InvitationInvalid: the invitation was used, revoked or expired meanwhile.
    """
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.status != Invitation.Status.PENDING or locked.nonce != invitation.nonce:
            reasons = {"accepted": "used", "revoked": "revoked", "expired": "expired"}
            raise InvitationInvalid(reasons.get(locked.status, "replaced"), locked)
        if user is None:
            user = User.objects.filter(email__iexact=locked.email).first() or User(
                email=locked.email
            )
            user.first_name = names.get("first_name", "")[:150]
            user.last_name = names.get("last_name", "")[:150]
            user.is_active = True
            user.set_password(password)
            user.save()
        membership, _ = Membership.objects.update_or_create(
            user=user, tenant=locked.tenant, defaults={"role": locked.role, "is_active": True}
        )
        locked.accepted_at = timezone.now()
        locked.accepted_by = user
        locked.save(update_fields=["accepted_at", "accepted_by"])
        MembershipEvent.record(
            tenant=locked.tenant,
            action=Action.JOINED,
            actor=user,
            subject=user.email,
            membership=membership,
            invitation=locked,
            detail=f"as {membership.get_role_display()}",
        )
    return membership
