"""Tenants, staff, roles and the vendor credential vault."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.debug import sensitive_variables

from accounts.fields import EncryptedTextField
from accounts.localtime import validate_time_zone


class UserManager(BaseUserManager):
    """Users are identified by e-mail address (case-insensitive, stored lower-case)."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str):
        return self.get(email__iexact=username)


class User(AbstractUser):
    """A staff member. Logs in with an e-mail address; `username` is not used."""

    username = None
    email = models.EmailField("e-mail address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email


class BillingAttribution(models.TextChoices):
    """Whose Syncro key sends an approved draft's writes (seed /syncro "Attribution rule": the
    person who did the work; the approver is the alternative some offices want)."""

    DRAFTER = "drafter", "The person who did the work (who drafted it)"
    APPROVER = "approver", "The person who approves it"


class InvoiceMode(models.TextChoices):
    """How approved billable time becomes a Syncro invoice."""

    PER_DRAFT = "per_draft", "Invoice each draft at once (the runbook's flow)"
    PER_TICKET = "per_ticket", "Invoice per ticket: approve line items, then the invoice"


#: the timesheet's weekly overtime threshold is hours of one week: at least 1, at most 7 x 24
OVERTIME_BOUNDS = "Use a number of hours between 1 and 168 (the hours of a week)."


class Tenant(models.Model):
    """A company using the portal: every vendor connection, mirror row and draft belongs to one."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    four_eyes_approval = models.BooleanField(
        default=False,
        help_text="Billing drafts must be approved by someone other than the person who drafted them.",
    )
    overtime_hours_per_week = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=40,
        validators=[
            MinValueValidator(1, message=OVERTIME_BOUNDS),
            MaxValueValidator(168, message=OVERTIME_BOUNDS),
        ],
        help_text="Hours a technician works in a week before the timesheet counts overtime "
        "(between 1 and 168, the hours of a week).",
    )
    currency = models.CharField(
        max_length=3,
        default="USD",
        help_text="ISO 4217 code of the Syncro account's prices (Syncro's API does not say it).",
    )
    billing_attribution = models.CharField(
        max_length=20,
        choices=BillingAttribution.choices,
        default=BillingAttribution.DRAFTER,
        help_text="Whose Syncro key makes a draft's billing writes once it is approved.",
    )
    invoice_mode = models.CharField(
        max_length=20,
        choices=InvoiceMode.choices,
        default=InvoiceMode.PER_DRAFT,
        help_text="Invoice each draft as soon as it is approved, or gather a ticket's approved "
        "line items on an invoice that is approved on its own.",
    )
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="The IANA time zone the company's pages show times in and forms read them in.",
    )
    require_mfa = models.BooleanField(
        "require two-step sign-in",
        default=False,
        help_text="Owners, admins and billing approvers must sign in with an authenticator app "
        "code; those without one are sent to set it up after their password.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)[:80] or uuid.uuid4().hex[:12]
        super().save(*args, **kwargs)


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    DISPATCHER = "dispatcher", "Dispatcher"
    BILLING = "billing", "Billing"
    TECHNICIAN = "technician", "Technician"


# Role groups used by views' `@tenant_member_required(roles=...)`.
MANAGER_ROLES = (Role.OWNER, Role.ADMIN)
APPROVER_ROLES = (Role.OWNER, Role.ADMIN, Role.BILLING)
DISPATCH_ROLES = (Role.OWNER, Role.ADMIN, Role.DISPATCHER)


class MembershipQuerySet(models.QuerySet):
    def for_user(self, user) -> MembershipQuerySet:
        return self.filter(user=user, is_active=True).select_related("tenant")


class Membership(models.Model):
    """A user's role in a tenant. A person may belong to several tenants."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="This person's own IANA time zone; blank uses the company's.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_user_tenant_unique")
        ]
        ordering = ["tenant__name"]

    def __str__(self) -> str:
        return f"{self.user} — {self.tenant} ({self.get_role_display()})"

    @property
    def is_manager(self) -> bool:
        return self.role in MANAGER_ROLES

    @property
    def can_approve(self) -> bool:
        return self.role in APPROVER_ROLES


class Vendor(models.TextChoices):
    SYNCRO = "syncro", "Syncro"
    SYNCHROTEAM = "synchroteam", "Synchroteam"
    FIELDCAMP = "fieldcamp", "FieldCamp"


class CredentialStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    FAILING = "failing", "Failing"
    REVOKED = "revoked", "Revoked"


class CredentialPurpose(models.TextChoices):
    API = "api", "API key or token"
    WEBHOOK = "webhook", "Inbound webhook secret"


class NoCredential(Exception):
    """The tenant has no usable credential for this vendor (neither the user's own nor a shared one)."""


@dataclass(frozen=True)
class ActorCredential:
    """The credential an action will use, and whether it is the tenant's shared one.

    When `is_shared` is true the vendor attributes the action to the shared key's owner, not to
    the person acting: callers must show a warning (seed `/syncro` "Attribution rule").
    """

    credential: Credential
    is_shared: bool


class CredentialQuerySet(models.QuerySet):
    def usable(self) -> CredentialQuerySet:
        return self.exclude(status=CredentialStatus.REVOKED)

    def for_tenant(self, tenant: Tenant) -> CredentialQuerySet:
        return self.filter(tenant=tenant)

    def for_actor(
        self, tenant: Tenant, vendor: str, user, purpose: str = CredentialPurpose.API
    ) -> ActorCredential:
        """The user's own credential for `vendor`, else the tenant's shared one.

        Returns:
            ActorCredential with ``is_shared`` telling which one was found.
        Raises:
            NoCredential: neither exists (revoked credentials are never returned).
        """
        whose = Q(owner__isnull=True)
        if user is not None and getattr(user, "pk", None):
            whose |= Q(owner=user)
        # one query: the person's own key first (owner set sorts before the shared key's
        # NULL), each kind by label as the admin lists them
        found = (
            self.usable()
            .filter(whose, tenant=tenant, vendor=vendor, purpose=purpose)
            .order_by(F("owner_id").asc(nulls_last=True), "label", "pk")
            .first()
        )
        if found is not None:
            return ActorCredential(found, is_shared=found.owner_id is None)
        raise NoCredential(f"No {Vendor(vendor).label} credential for {tenant}.")


class Credential(models.Model):
    """A vendor secret (API token, key or webhook secret) kept encrypted at rest.

    `owner` empty means the tenant's shared credential. The secret is write-only everywhere in the
    UI: only `fingerprint` (its last 4 characters) is ever shown. Change it with `rotate`, which
    records a `CredentialEvent` in the same transaction.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="credentials")
    vendor = models.CharField(max_length=20, choices=Vendor.choices)
    purpose = models.CharField(
        max_length=20, choices=CredentialPurpose.choices, default=CredentialPurpose.API
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="vendor_credentials",
        help_text="Empty = the tenant's shared credential (actions are attributed to its vendor user).",
    )
    label = models.CharField(max_length=120)
    secret = EncryptedTextField()
    fingerprint = models.CharField(max_length=8, editable=False)
    status = models.CharField(
        max_length=20, choices=CredentialStatus.choices, default=CredentialStatus.ACTIVE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    rotated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rotated_at = models.DateTimeField(null=True, blank=True)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    verified_identity = models.CharField(
        max_length=200,
        blank=True,
        help_text="Who the vendor says this key belongs to (Syncro GET /me user_name).",
    )
    verified_vendor_user_id = models.CharField(max_length=64, blank=True)
    last_error = models.TextField(blank=True)

    objects = CredentialQuerySet.as_manager()

    class Meta:
        ordering = ["tenant__name", "vendor", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "vendor", "purpose", "owner"],
                condition=Q(owner__isnull=False) & ~Q(status="revoked"),
                name="credential_one_live_per_owner",
            ),
            models.UniqueConstraint(
                fields=["tenant", "vendor", "purpose"],
                condition=Q(owner__isnull=True) & ~Q(status="revoked"),
                name="credential_one_live_shared",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} (…{self.fingerprint})"

    @property
    def is_shared(self) -> bool:
        return self.owner_id is None

    @staticmethod
    def fingerprint_of(secret: str) -> str:
        return secret[-4:] if len(secret) >= 8 else "****"

    @sensitive_variables("secret")
    def set_secret(self, secret: str) -> None:
        """Replace the in-memory secret and its fingerprint (not saved)."""
        secret = secret.strip()
        if not secret:
            raise ValueError("A credential secret cannot be empty.")
        self.secret = secret
        self.fingerprint = self.fingerprint_of(secret)

    @classmethod
    @sensitive_variables("secret")
    def create(
        cls,
        *,
        tenant: Tenant,
        vendor: str,
        label: str,
        secret: str,
        owner=None,
        by=None,
        purpose: str = CredentialPurpose.API,
    ) -> Credential:
        """Create a credential and its `created` event in one transaction."""
        with transaction.atomic():
            cred = cls(
                tenant=tenant,
                vendor=vendor,
                label=label,
                owner=owner,
                created_by=by,
                purpose=purpose,
            )
            cred.set_secret(secret)
            cred.save()
            CredentialEvent.record(
                cred, CredentialEvent.Action.CREATED, by, f"fingerprint …{cred.fingerprint}"
            )
        return cred

    @sensitive_variables("new_secret")
    def rotate(self, new_secret: str, *, by) -> None:
        """Replace the secret; saves and writes a `rotated` CredentialEvent in one transaction.

        Verification state is cleared: the new key has not been checked against the vendor yet.
        """
        old = self.fingerprint
        with transaction.atomic():
            self.set_secret(new_secret)
            self.rotated_by = by
            self.rotated_at = timezone.now()
            self.status = CredentialStatus.ACTIVE
            self.last_verified_at = None
            self.verified_identity = ""
            self.verified_vendor_user_id = ""
            self.last_error = ""
            self.save()
            CredentialEvent.record(
                self, CredentialEvent.Action.ROTATED, by, f"…{old} → …{self.fingerprint}"
            )

    def revoke(self, *, by) -> None:
        """Mark revoked (never used again); writes a `revoked` event in the same transaction."""
        with transaction.atomic():
            self.status = CredentialStatus.REVOKED
            self.save(update_fields=["status"])
            CredentialEvent.record(self, CredentialEvent.Action.REVOKED, by, "")

    def mark_verified(self, *, identity: str, vendor_user_id: str = "", by=None) -> None:
        """Record a successful vendor check (e.g. Syncro GET /me) and its reported identity."""
        with transaction.atomic():
            self.status = CredentialStatus.ACTIVE
            self.last_verified_at = timezone.now()
            self.verified_identity = identity[:200]
            self.verified_vendor_user_id = str(vendor_user_id)[:64]
            self.last_error = ""
            self.save(
                update_fields=[
                    "status",
                    "last_verified_at",
                    "verified_identity",
                    "verified_vendor_user_id",
                    "last_error",
                ]
            )
            CredentialEvent.record(self, CredentialEvent.Action.VERIFIED, by, identity[:200])

    def mark_failed(self, *, error: str, by=None) -> None:
        """Record a failed vendor check (401/403); the credential shows as failing until rotated."""
        with transaction.atomic():
            self.status = CredentialStatus.FAILING
            self.last_error = error[:1000]
            self.save(update_fields=["status", "last_error"])
            CredentialEvent.record(self, CredentialEvent.Action.FAILED, by, error[:500])


class CredentialEvent(models.Model):
    """Audit row for a credential change, written in the same transaction as the change.

    Never holds the secret: `detail` carries fingerprints and vendor messages only.
    """

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        ROTATED = "rotated", "Rotated"
        REVOKED = "revoked", "Revoked"
        VERIFIED = "verified", "Verified"
        FAILED = "failed", "Verification failed"

    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="events")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    detail = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.credential} at {self.at:%Y-%m-%d %H:%M}"

    @classmethod
    def record(cls, credential: Credential, action: str, actor, detail: str) -> CredentialEvent:
        return cls.objects.create(
            credential=credential,
            tenant_id=credential.tenant_id,
            actor=actor,
            action=action,
            detail=detail,
        )
