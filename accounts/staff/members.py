"""Membership changes by an owner: change a role, deactivate, reactivate; each one audited.

A company always keeps at least one active owner: every change first locks the tenant's active
owner rows in id order (``select_for_update``), then the member's row, so two owners demoting or
deactivating each other at the same moment cannot both succeed and never deadlock on PostgreSQL
(tests/accounts/test_staff_race.py); on SQLite the IMMEDIATE transaction mode serialises writers.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import Membership, Role, User
from accounts.staff.invitations import StaffError
from accounts.staff.models import MembershipEvent

Action = MembershipEvent.Action


def _locked(membership: Membership) -> tuple[Membership, list[int]]:
    """Lock the company's active owner rows (by id, always in that order, so two changes never
    deadlock), then the member's own row; returns the fresh member and the owners' ids."""
    owners = list(
        Membership.objects.select_for_update()
        .filter(tenant_id=membership.tenant_id, role=Role.OWNER, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    fresh = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "tenant")
        .get(pk=membership.pk)
    )
    return fresh, owners


def _ensure_another_owner(membership: Membership, owners: list[int]) -> None:
    others = [pk for pk in owners if pk != membership.pk]
    if membership.role == Role.OWNER and membership.is_active and not others:
        raise StaffError(
            f"{membership.user.email} is the last owner of {membership.tenant}: "
            "make someone else an owner first."
        )


def change_role(membership: Membership, *, role: str, by: User) -> Membership:
    """Give the member another role (``role_changed`` event, "billing → admin").

    Raises:
        StaffError: unknown role, or it would leave the company without an active owner.
    """
    if role not in Role.values:
        raise StaffError("Choose one of the roles.")
    with transaction.atomic():
        locked, owners = _locked(membership)
        if locked.role == role:
            return locked
        _ensure_another_owner(locked, owners)
        before = locked.get_role_display()
        locked.role = role
        locked.save(update_fields=["role"])
        MembershipEvent.record(
            tenant=locked.tenant,
            action=Action.ROLE_CHANGED,
            actor=by,
            subject=locked.user.email,
            membership=locked,
            detail=f"{before} → {locked.get_role_display()}",
        )
    return locked


def deactivate(membership: Membership, *, by: User) -> Membership:
    """Take the member's access to this company away at their next request (kept for the record).

    Raises:
        StaffError: the member is the person acting, or the company's last active owner.
    """
    if membership.user_id == by.pk:
        raise StaffError("You cannot deactivate yourself: ask another owner.")
    with transaction.atomic():
        locked, owners = _locked(membership)
        if not locked.is_active:
            return locked
        _ensure_another_owner(locked, owners)
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        MembershipEvent.record(
            tenant=locked.tenant,
            action=Action.DEACTIVATED,
            actor=by,
            subject=locked.user.email,
            membership=locked,
            detail=locked.get_role_display(),
        )
    return locked


def reactivate(membership: Membership, *, by: User) -> Membership:
    """Give a deactivated member their access back, with the role they had."""
    with transaction.atomic():
        locked, _ = _locked(membership)
        if locked.is_active:
            return locked
        locked.is_active = True
        locked.save(update_fields=["is_active"])
        MembershipEvent.record(
            tenant=locked.tenant,
            action=Action.REACTIVATED,
            actor=by,
            subject=locked.user.email,
            membership=locked,
            detail=locked.get_role_display(),
        )
    return locked
