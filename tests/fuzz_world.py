"""The world the URLconf fuzz test (tests/test_fuzz_urls.py) runs in, and how it fills a URL.

Two companies on one in-process vendor sandbox: Demo Field Services with all three connections
synced (tickets, timers, invoices, jobs, activities, calendars), a pending and an approved
billing draft (so drafts, writes, batches and a ticket invoice exist), an alert, an invitation,
personal keys; Other Co with its own Syncro connection, draft, alert, invitation and keys, whose
ids are the "foreign" values every URL is also tried with. Every credential made here for the
fuzz carries a canary secret (`CANARIES`); `secrets_in_db()` lists every stored secret, none of
which may ever appear in a response.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from accounts.models import (
    Credential,
    CredentialPurpose,
    Membership,
    Role,
    Tenant,
    User,
    Vendor,
)
from accounts.staff import invitations
from billing import services as billing_services
from billing.demo import map_labor_types
from billing.models import BillingDraft, TicketInvoice
from connectors.alerts.models import Alert, AlertKind
from connectors.demo import seed_connections
from connectors.fieldcamp.services import INTEGRATIONS
from connectors.models import Connection
from connectors.outbox.models import VendorWrite, WriteBatch
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.core import IN_PROCESS_BASE, Sandbox
from connectors.services import connection_sync_now
from connectors.synchroteam.models import SynchroteamEquipment, SynchroteamJob
from connectors.syncro.models import SyncroInvoice, SyncroTicket, SyncroTimerEntry
from tests.conftest import PASSWORD

CANARY = "CANARY-7f3a9c1e5b2d4f60a8e1"
CANARIES = {
    "personal": f"sk-{CANARY}-personal",
    "webhook": f"whsec-{CANARY}-webhook",
    "other": f"sk-{CANARY}-other-co",
}
#: ints no tenant has: zero, past 32 and 64 bits, and far past
HUGE_INTS = [0, 2**31, 2**63, 10**30]


@dataclass
class FuzzWorld:
    """The two companies, the people who sign in, and the values path converters take."""

    tenant: Tenant
    other_tenant: Tenant
    users: dict[str, User]  # owner, admin, billing, dispatcher, technician, outsider, superuser
    sandbox: Sandbox
    own: dict[str, list] = field(default_factory=dict)  # kwarg name -> this tenant's values
    foreign: dict[str, list] = field(default_factory=dict)  # kwarg name -> Other Co's values


def _draft(tenant, connection, ticket, by) -> BillingDraft:
    return billing_services.draft_create(
        tenant=tenant,
        connection=connection,
        ticket=ticket,
        by=by,
        minutes=30,
        labor_type="remote",
        comment_subject="Fuzz",
        comment_body="Checked the backups.",
        comment_hidden=True,
        comment_do_not_email=True,
        line_description="Backup check",
    )


def _approve(draft: BillingDraft, by: User) -> None:
    from billing import approval

    review = approval.draft_review(draft, by, role=Role.OWNER)
    approval.draft_approve(draft=draft, by=by, fingerprint=review.fingerprint)


def _company(tenant: Tenant, users: dict[str, User], *, full: bool) -> dict:
    """Connections synced from the sandbox, labor types, a pending draft and (with `full`) an
    approved one; returns the Syncro connection and the first draft."""
    by_email = {u.email: u for u in users.values()}
    connections = {c.vendor: c for c in seed_connections(tenant, by_email, root=IN_PROCESS_BASE)}
    wanted = [Vendor.SYNCRO, Vendor.SYNCHROTEAM, Vendor.FIELDCAMP] if full else [Vendor.SYNCRO]
    for vendor in wanted:
        runs = connection_sync_now(connections[vendor], mode="full")
        assert all(r.status == "succeeded" for r in runs), [
            (r.stream.resource, r.error) for r in runs
        ]
    map_labor_types(tenant)
    syncro = connections[Vendor.SYNCRO]
    tickets = SyncroTicket.objects.filter(tenant=tenant, is_deleted=False).order_by("vendor_id")
    author = next(u for u in users.values() if Membership.objects.filter(user=u, tenant=tenant))
    drafts = [_draft(tenant, syncro, tickets[0], author)]
    if full:
        approver = users["owner"]
        second = _draft(tenant, syncro, tickets[1], users["technician"])
        _approve(second, approver)
        drafts.append(second)
    return {"connections": connections, "drafts": drafts}


def _people(tenant: Tenant, base: dict[str, User]) -> dict[str, User]:
    admin = User.objects.create_user("admin@demo.test", PASSWORD, first_name="Ada")
    Membership.objects.create(user=admin, tenant=tenant, role=Role.ADMIN)
    root = User.objects.create_superuser("root@demo.test", PASSWORD)
    return {
        "owner": base["owner"],
        "admin": admin,
        "billing": base["billing"],
        "dispatcher": base["dispatcher"],
        "technician": base["tech"],
        "outsider": base["outsider"],
        "superuser": root,
    }


def _canaries(world_tenant, other, users) -> None:
    """Credentials whose secret is a canary: the dispatcher's own Syncro key, the FieldCamp
    webhook secret (rotated), and Other Co's owner's own FieldCamp key."""
    Credential.create(
        tenant=world_tenant,
        vendor=Vendor.SYNCRO,
        label="Dana's key",
        secret=CANARIES["personal"],
        owner=users["dispatcher"],
    )
    hook = Credential.objects.get(
        tenant=world_tenant, vendor=Vendor.FIELDCAMP, purpose=CredentialPurpose.WEBHOOK
    )
    hook.rotate(CANARIES["webhook"], by=users["owner"])
    Credential.create(
        tenant=other,
        vendor=Vendor.FIELDCAMP,
        label="Oscar's key",
        secret=CANARIES["other"],
        owner=users["outsider"],
    )


def _ids(tenant: Tenant, company: dict) -> dict[str, list]:
    """kwarg name -> values of `tenant`'s rows, for every converter of the URLconf."""
    ticket_ids = list(
        SyncroTicket.objects.filter(tenant=tenant).values_list("vendor_id", flat=True)[:2]
    )
    timers = SyncroTimerEntry.objects.filter(connection__tenant=tenant)
    jobs = SynchroteamJob.objects.filter(tenant=tenant).order_by("-status")
    alert = Alert.objects.create(
        tenant=tenant,
        kind=AlertKind.STREAM_FAILING,
        key=f"fuzz:{tenant.pk}",
        message="Syncro · tickets: the last 3 syncs failed.",
        link="/integrations/",
    )
    return {
        "ticket_id": ticket_ids,
        "timer_id": list(timers.values_list("vendor_id", flat=True)[:1]),
        "draft_uuid": [d.uuid for d in company["drafts"]],
        "invoice_uuid": list(
            TicketInvoice.objects.filter(tenant=tenant).values_list("uuid", flat=True)[:1]
        ),
        "invoice_id": list(
            SyncroInvoice.objects.filter(tenant=tenant).values_list("vendor_id", flat=True)[:1]
        ),
        "write_uuid": list(
            VendorWrite.objects.filter(tenant=tenant).values_list("uuid", flat=True)[:2]
        ),
        "batch_uuid": list(
            WriteBatch.objects.filter(tenant=tenant).values_list("uuid", flat=True)[:1]
        ),
        "job_id": list(jobs.values_list("vendor_id", flat=True)[:2]),
        "integration": list(INTEGRATIONS)[:1] + ["not-an-integration"],
        "connection_uuid": list(
            Connection.objects.filter(tenant=tenant).values_list("uuid", flat=True)
        ),
        "vendor": [v.value for v in Vendor] + ["halopsa"],
        "key_uuid": list(Credential.objects.filter(tenant=tenant).values_list("uuid", flat=True)),
        "alert_uuid": [alert.uuid],
        "tenant_uuid": [tenant.uuid],
        "member_uuid": list(
            Membership.objects.filter(tenant=tenant).values_list("uuid", flat=True)[:3]
        ),
        "equipment_id": list(
            SynchroteamEquipment.objects.filter(tenant=tenant).values_list("vendor_id", flat=True)[
                :1
            ]
        ),
        "name": ["jobs", "time", "not-an-export"],
        **_webhook_ids(tenant),
    }


def _webhook_ids(tenant: Tenant) -> dict[str, list]:
    """An outbound webhook endpoint (its secret is a stored secret the pages must never show)
    with one failed delivery."""
    from connectors.events.models import OutboundEvent, WebhookDelivery, WebhookEndpoint

    secret = f"whsec_fuzz_{tenant.slug}_0123456789abcdef"
    endpoint = WebhookEndpoint.objects.create(
        tenant=tenant,
        url="https://bi.example.com/hook",
        event_types=["job.completed"],
        secret=secret,
        secret_fingerprint=secret[-4:],
    )
    event = OutboundEvent.objects.create(
        tenant=tenant, event_type="job.completed", payload={"job_id": 1}
    )
    delivery = WebhookDelivery.objects.create(
        tenant=tenant, event=event, endpoint=endpoint, state="failed", next_attempt_at=None
    )
    return {"endpoint_uuid": [endpoint.uuid], "delivery_uuid": [delivery.uuid]}


def _invitation_ids(tenant: Tenant, by: User) -> dict[str, list]:
    invitation = invitations.invite(
        tenant=tenant, email=f"new@{tenant.slug}.test", role=Role.TECHNICIAN, by=by
    )
    return {
        "invitation_uuid": [invitation.uuid],
        "token": [invitations.make_token(invitation)],
    }


def build_world(world) -> FuzzWorld:
    """Everything above, on `world` (tests/conftest.py). The caller closes ``.sandbox``."""
    from django.conf import settings

    users = _people(world.tenant, vars(world))
    sandbox = Sandbox.create(
        seed=11, scale="small", clock_start="2026-11-02T09:00:00Z", config=SandboxConfig.unlimited()
    )
    settings.CONNECTORS_TRANSPORT = sandbox.transport()
    own_company = _company(world.tenant, users, full=True)
    other_users = {"owner": users["outsider"]}
    other_company = _company(world.other_tenant, other_users, full=False)
    _canaries(world.tenant, world.other_tenant, users)
    fuzz = FuzzWorld(
        tenant=world.tenant, other_tenant=world.other_tenant, users=users, sandbox=sandbox
    )
    fuzz.own = {**_ids(world.tenant, own_company), **_invitation_ids(world.tenant, users["owner"])}
    fuzz.foreign = {
        **_ids(world.other_tenant, other_company),
        **_invitation_ids(world.other_tenant, users["outsider"]),
    }
    return fuzz


def secrets_in_db() -> list[str]:
    """Every stored credential secret (decrypted), the canaries included."""
    from connectors.events.models import WebhookEndpoint

    hooks = {e.secret for e in WebhookEndpoint.objects.all()}
    return sorted({c.secret for c in Credential.objects.all()} | hooks | set(CANARIES.values()))


def admin_object_ids() -> dict[str, list[str]]:
    """``"<app_label>_<model_name>"`` -> the first row's pk (as text) of every model the admin
    registers, for its change/delete/history URLs."""
    from django.contrib import admin

    out = {}
    for model in admin.site._registry:
        key = f"{model._meta.app_label}_{model._meta.model_name}"
        pk = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        out[key] = [str(pk)] if pk is not None else []
    return out


def random_uuid() -> str:
    return str(uuid.uuid4())
