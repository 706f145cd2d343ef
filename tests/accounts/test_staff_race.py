"""Two owners demoting each other at the same instant: one succeeds, the company keeps an owner,
and nobody gets an error page (PostgreSQL, where row locks are real)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection as db_connection
from django.db import connections

from accounts.models import Membership, Role
from accounts.staff import members
from accounts.staff.invitations import StaffError
from accounts.staff.models import MembershipEvent

pytestmark = pytest.mark.skipif(
    db_connection.vendor != "postgresql",
    reason="row locks are only real on PostgreSQL; SQLite serialises writers",
)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["demote", "deactivate"])
def test_two_owners_removing_each_other_at_once_leave_one_owner(world, action):
    first = Membership.objects.get(user=world.owner, tenant=world.tenant)
    second = Membership.objects.get(user=world.billing, tenant=world.tenant)
    second.role = Role.OWNER
    second.save()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def remove(target: Membership, by) -> None:
        try:
            barrier.wait()
            if action == "demote":
                members.change_role(target, role=Role.ADMIN, by=by)
            else:
                members.deactivate(target, by=by)
            outcomes.append("done")
        except StaffError:
            outcomes.append("refused")
        except BaseException as exc:  # a deadlock or any database error would land here
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=remove, args=(first, world.billing)),
        threading.Thread(target=remove, args=(second, world.owner)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(outcomes) == ["done", "refused"]
    owners = Membership.objects.filter(tenant=world.tenant, role=Role.OWNER, is_active=True)
    assert owners.count() == 1
    assert MembershipEvent.objects.filter(tenant=world.tenant).count() == 1
