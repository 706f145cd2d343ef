"""Sixteen staff approving the same drafts at the same moment: one approval, one write each (PostgreSQL)."""

from __future__ import annotations

import random
import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection as db_connection
from django.db import connections

from accounts.models import Membership, NoCredential, Role, User
from billing.approval import draft_approve
from billing.models import BillingDraft
from billing.services import BillingError, draft_create
from connectors.outbox import executor
from connectors.outbox.models import VendorWrite
from connectors.syncro.models import SyncroTicket

pytestmark = pytest.mark.skipif(
    db_connection.vendor != "postgresql",
    reason="row locks are only real on PostgreSQL; SQLite serialises writers",
)


@pytest.mark.django_db(transaction=True)
def test_sixteen_approvers_at_once_make_one_approval_and_one_vendor_record_per_draft(syncro, world):
    approvers = []
    for i in range(16):
        user = User.objects.create_user(
            f"approver{i}@demo.test", "x" * 12, first_name=f"Approver {i}"
        )
        Membership.objects.create(user=user, tenant=world.tenant, role=Role.BILLING)
        approvers.append(user)
    tickets = list(
        SyncroTicket.objects.filter(tenant=world.tenant)
        .exclude(status="Invoiced")  # an Invoiced ticket's draft needs a second confirmation
        .order_by("vendor_id")[:5]
    )
    drafts = [
        draft_create(
            tenant=world.tenant,
            connection=syncro.connection,
            ticket=t,
            by=world.tech,
            minutes=45,
            labor_type="onsite",
            comment_subject="Resolution",
            comment_body=f"Fixed {t.number}",
            comment_hidden=True,
            comment_do_not_email=True,
            line_description=f"Onsite {t.number}",
        )
        for t in tickets
    ]
    barrier = threading.Barrier(len(approvers))
    wins: list[tuple[int, int]] = []
    refusals: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def approve_all(user: User, seed: int) -> None:
        order = drafts[:]
        random.Random(seed).shuffle(order)
        try:
            barrier.wait()
            for draft in order:
                try:
                    draft_approve(draft=draft, by=user)
                except (BillingError, PermissionDenied, NoCredential) as exc:
                    with lock:
                        refusals.append(str(exc))
                else:
                    with lock:
                        wins.append((draft.pk, user.pk))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve_all, args=(u, i)) for i, u in enumerate(approvers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(d for d, _ in wins) == sorted(
        d.pk for d in drafts
    )  # each draft approved exactly once
    assert len(refusals) == 16 * 5 - 5
    assert VendorWrite.objects.count() == 5 * 4

    executor.run_until_settled()
    for draft in BillingDraft.objects.all():
        records = syncro.sandbox.syncro.ticket_records(draft.ticket_vendor_id)
        writes = {w.operation: w for w in VendorWrite.objects.filter(batch__draft=draft)}
        assert all(w.state == VendorWrite.State.CONFIRMED for w in writes.values())
        comment = writes["syncro.comment.create"]
        assert len([c for c in records["comments"] if comment.marker in c["body"]]) == 1
        line = writes["syncro.line_item.create"]
        assert (
            len([li for li in records["line_items"] if line.marker in (li["description"] or "")])
            == 1
        )
        invoice = writes["syncro.invoice.create"]
        assert (
            len([inv for inv in records["invoices"] if invoice.marker in (inv.get("note") or "")])
            == 1
        )
