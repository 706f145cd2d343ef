"""Invitations and the audit trail of membership changes (who invited, promoted, deactivated whom)."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership, Role, Tenant


def new_nonce() -> str:
    """32 hex characters; part of the signed link, replaced on every (re)send."""
    return secrets.token_hex(16)


class InvitationQuerySet(models.QuerySet):
    def open(self) -> InvitationQuerySet:
        """Neither accepted nor revoked (pending or expired)."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)


class Invitation(models.Model):
    """An owner's invitation of an e-mail address into a tenant with a role.

    The link in the e-mail carries a token signed by Django's signing (see
    `accounts.staff.invitations.make_token`) over ``uuid`` and ``nonce``: a resend replaces the
    nonce (older links stop working), accepting or revoking closes the invitation, and the
    signature's age and ``expires_at`` both bound its life. The token itself is never stored.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField("e-mail address")
    role = models.CharField(max_length=20, choices=Role.choices)
    nonce = models.CharField(max_length=32, default=new_nonce, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.tenant} ({self.get_role_display()})"

    @property
    def status(self) -> str:
        """One of `Status`; "expired" is computed from ``expires_at`` and the clock."""
        if self.revoked_at:
            return self.Status.REVOKED
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING

    def get_status_display(self) -> str:
        return self.Status(self.status).label


class MembershipEvent(models.Model):
    """Audit row for a staff change, written in the same transaction as the change.

    ``subject`` is the e-mail address of the person the change is about (kept when the
    membership or invitation is gone). ``detail`` never holds a token, password or TOTP secret.
    """

    class Action(models.TextChoices):
        INVITED = "invited", "Invited"
        INVITATION_RESENT = "invitation_resent", "Invitation re-sent"
        INVITATION_REVOKED = "invitation_revoked", "Invitation revoked"
        JOINED = "joined", "Joined"
        ROLE_CHANGED = "role_changed", "Role changed"
        DEACTIVATED = "deactivated", "Deactivated"
        REACTIVATED = "reactivated", "Reactivated"
        MFA_ENROLLED = "mfa_enrolled", "Two-step sign-in set up"
        MFA_CODES_REGENERATED = "mfa_codes_regenerated", "Recovery codes regenerated"
        MFA_DISABLED = "mfa_disabled", "Two-step sign-in turned off"
        MFA_RESET = "mfa_reset", "Two-step sign-in reset by an owner"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    invitation = models.ForeignKey(
        Invitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    subject = models.CharField(max_length=254)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=30, choices=Action.choices)
    detail = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.subject} at {self.at:%Y-%m-%d %H:%M}"

    @classmethod
    def record(
        cls,
        *,
        tenant: Tenant,
        action: str,
        actor=None,
        subject: str,
        membership: Membership | None = None,
        invitation: Invitation | None = None,
        detail: str = "",
    ) -> MembershipEvent:
        """Write one event row (call it inside the change's transaction)."""
        return cls.objects.create(
            tenant=tenant,
            action=action,
            actor=actor if getattr(actor, "pk", None) else None,
            subject=subject[:254],
            membership=membership,
            invitation=invitation,
            detail=detail[:500],
        )
