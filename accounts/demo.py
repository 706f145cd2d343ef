"""The demo tenant and its staff, created idempotently by `manage.py seed_demo`."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.models import Membership, Role, Tenant, User

DEMO_TENANT = "Demo Field Services"
OTHER_TENANT = "Other Co"
DEFAULT_PASSWORD = "fieldline-demo-2026"  # noqa: S105  (demo logins only)

# (e-mail, first name, last name, role, tenant name, is_staff)
DEMO_STAFF = [
    ("owner@demo.test", "Olivia", "Owens", Role.OWNER, DEMO_TENANT, True),
    ("billing@demo.test", "Bill", "Barnes", Role.BILLING, DEMO_TENANT, False),
    ("dispatch@demo.test", "Dana", "Diaz", Role.DISPATCHER, DEMO_TENANT, False),
    ("tech@demo.test", "Theo", "Tran", Role.TECHNICIAN, DEMO_TENANT, False),
    ("outsider@other.test", "Oscar", "Outis", Role.OWNER, OTHER_TENANT, False),
]


@dataclass
class DemoAccounts:
    tenant: Tenant
    other_tenant: Tenant
    users: dict[str, User]  # by role name for the demo tenant, plus "outsider"


def seed_accounts(password: str = DEFAULT_PASSWORD) -> DemoAccounts:
    """Create (or bring back to the known state) the two demo tenants and their staff.

    Running it again changes nothing but resets the demo passwords to `password`.
    """
    with transaction.atomic():
        tenants = {}
        for name, slug in [(DEMO_TENANT, "demo"), (OTHER_TENANT, "other-co")]:
            tenants[name], _ = Tenant.objects.get_or_create(slug=slug, defaults={"name": name})
        users: dict[str, User] = {}
        for email, first, last, role, tenant_name, is_staff in DEMO_STAFF:
            user = User.objects.filter(email=email).first() or User(email=email)
            user.first_name, user.last_name, user.is_staff, user.is_active = (
                first,
                last,
                is_staff,
                True,
            )
            user.set_password(password)
            user.save()
            Membership.objects.update_or_create(
                user=user, tenant=tenants[tenant_name], defaults={"role": role, "is_active": True}
            )
            users["outsider" if tenant_name == OTHER_TENANT else str(role)] = user
    return DemoAccounts(
        tenant=tenants[DEMO_TENANT], other_tenant=tenants[OTHER_TENANT], users=users
    )
