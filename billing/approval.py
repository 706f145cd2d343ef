"""Approving billing drafts: the plan a draft's approval sends, the review a person sees, and
the approval itself, bound to that review.

A draft's approval is planned on the server (`billing.draft_plan`: comment → line item →
invoice → status Invoiced, or only comment → line item when the company invoices per ticket,
`billing.invoicing`). `draft_review` is what the draft page and
the queue show: the exact JSON, whose Syncro key and which Syncro user each write is attributed
to, hours × rate = amount, who may not approve and why. Its `Review.fingerprint` covers the
payloads, the credential and the amount; the approve form carries it, and `draft_approve`
refuses when the review now differs (someone edited the draft, the key or the product price
changed), naming what changed (`shown_token` / `changes_since`).

Seed /syncro hard rules kept here:

* "show the full payload before any POST": the review is what is queued (`plan_enqueue`).
* attribution: the company setting `Tenant.billing_attribution` says whose key sends the writes
  (the drafter's, the runbook's rule, or the approver's); the shared key is warned about.
* four-eyes (`Tenant.four_eyes_approval`): neither the drafter nor anyone who edited the draft
  may approve it.
"""

from __future__ import annotations

import hashlib
import uuid as uuid_module
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts.models import APPROVER_ROLES, ActorCredential, Membership, NoCredential, Tenant
from billing import money
from billing.draft_plan import draft_plan_for
from billing.models import ApprovalEvent, BillingDraft, Decision, LaborKind
from billing.services import BillingError, PlanChanged, draft_event
from connectors.outbox.models import VendorWrite
from connectors.outbox.plans import WritePlan
from connectors.outbox.services import plan_enqueue
from connectors.syncro.writes import INVOICE_CREATE

SHOWN_SALT = "fieldline.billing.review"


class DuplicateNotConfirmed(BillingError):
    """The draft may bill work already billed; approving it needs an explicit confirmation."""


# --- the review ------------------------------------------------------------------------------
@dataclass
class Review:
    """What a person is shown before approving a draft, and what approving will do.

    Attributes:
        plan: the writes, exact JSON, whose key (`plan.actor`).
        per_hour / amount: the product's rate and hours × rate (None: product not priced).
        blocked: names of the people four-eyes approval keeps from approving (drafter, editors).
        refusal: why `user` may not approve now ("" when they may).

    `fingerprint`, `choice` and `shown` are computed once per review: its plan and amount are
    fixed when it is made (a page showing a draft's choice twice hashes it once).
    """

    draft: BillingDraft
    plan: WritePlan
    per_hour: Decimal | None
    amount: Decimal | None
    currency: str
    blocked: list[str] = field(default_factory=list)
    refusal: str = ""

    @property
    def actor(self) -> ActorCredential | None:
        return self.plan.actor

    @property
    def attributed_to(self) -> str:
        """The Syncro user the writes will show (``GET /me`` of the key), or the key's label."""
        if self.actor is None:
            return ""
        credential = self.actor.credential
        if credential.verified_identity:
            return credential.verified_identity  # "NAME (user_id=N)", GET /me
        return f"the owner of “{credential.label}” (not verified with GET /me yet)"

    @property
    def key_owner(self) -> str:
        """Whose key it is in the portal: a person, or "the company's shared key"."""
        if self.actor is None:
            return ""
        owner = self.actor.credential.owner
        return "the company's shared key" if owner is None else f"{owner}'s own key"

    @cached_property
    def fingerprint(self) -> str:
        """`review_fingerprint` of this review."""
        return review_fingerprint(self.plan, self.amount)

    @cached_property
    def choice(self) -> str:
        """The approve form's value: ``<draft uuid>:<fingerprint>``."""
        return f"{self.draft.uuid}:{self.fingerprint}"

    @cached_property
    def shown(self) -> str:
        """`shown_token` of this review (lets a refusal say what changed)."""
        return shown_token(self)


def identify_key(review: Review) -> None:
    """Ask Syncro who the review's key belongs to (``GET /me``, seed /syncro "Verify
    attribution") when that was never recorded, so the page can name the Syncro user the
    writes will be attributed to. At most one try per key every 5 minutes; a failure leaves
    the key unverified (the page says so) and never raises."""
    from django.core.cache import cache

    from connectors.services import connection_verify

    actor = review.actor
    if actor is None or actor.credential.verified_identity:
        return
    if not cache.add(f"billing:identify-key:{actor.credential.pk}", 1, 300):
        return
    owner = actor.credential.owner
    result = connection_verify(review.draft.connection, user=owner)
    if result.ok and result.credential is not None and result.credential.pk == actor.credential.pk:
        actor.credential.refresh_from_db()


def review_fingerprint(plan: WritePlan, amount: Decimal | None) -> str:
    """SHA-256 over the plan's fingerprint (operations, request lines, exact bodies, credential)
    and the amount: equal fingerprints mean the person saw exactly what will be sent and
    charged."""
    return hashlib.sha256(f"{plan.fingerprint}|{amount}".encode()).hexdigest()


def draft_editors(draft: BillingDraft) -> set[int]:
    """Ids of the people who edited `draft` (its EDITED and CORRECTED audit rows)."""
    kinds = (ApprovalEvent.Kind.EDITED, ApprovalEvent.Kind.CORRECTED)
    return set(
        draft.events.filter(kind__in=kinds, actor__isnull=False).values_list("actor_id", flat=True)
    )


def four_eyes_blocked(draft: BillingDraft) -> dict[int, str]:
    """``{user id: name}`` of whoever four-eyes approval keeps from approving `draft` (the
    drafter and every editor); empty when the company has it off."""
    if not draft.tenant.four_eyes_approval:
        return {}
    from django.contrib.auth import get_user_model

    ids = draft_editors(draft) | {draft.drafted_by_id}
    return {u.pk: str(u) for u in get_user_model().objects.filter(pk__in=ids).order_by("pk")}


def draft_review(
    draft: BillingDraft,
    user,
    *,
    role: str | None = None,
    prices: dict | None = None,
    actors: dict | None = None,
) -> Review:
    """The `Review` of `draft` for `user` (its plan with the key `draft_actor` picks).

    A page reviewing many drafts passes `prices` (`money.product_prices` of all their
    products, read once) and `actors` (a dict kept for the page, `draft_plan.draft_actor`'s
    memo), so its queries do not grow with the drafts."""
    plan = draft_plan_for(draft, user, memo=actors)
    if prices is None:
        prices = money.product_prices(draft.tenant, [draft.product_vendor_id])
    per_hour = prices.get(draft.product_vendor_id)
    blocked = four_eyes_blocked(draft)
    review = Review(
        draft=draft,
        plan=plan,
        per_hour=per_hour,
        amount=money.amount(draft.minutes, per_hour),
        currency=draft.tenant.currency,
        blocked=list(blocked.values()),
    )
    try:
        check_can_approve(draft, user, role=role, blocked=blocked)
    except (PermissionDenied, BillingError) as exc:
        review.refusal = str(exc)
    return review


def shown_token(review: Review) -> str:
    """A signed snapshot of what the review showed (values, amount, key): only used to name
    what changed when an approval is refused, never to decide anything."""
    actor = review.actor
    return signing.dumps(
        {
            "values": review.draft.values(),
            "amount": None if review.amount is None else str(review.amount),
            "key": actor.credential.label if actor else None,
        },
        salt=SHOWN_SALT,
        compress=True,
    )


#: the words for each value in "what changed"
_FIELD_NAMES = {
    "minutes": "Minutes",
    "labor_type": "Labor type",
    "comment_subject": "Comment subject",
    "comment_body": "Comment",
    "comment_hidden": "Internal note",
    "comment_do_not_email": "Do not e-mail",
    "line_description": "Line description",
}


def changes_since(token: str, review: Review) -> list[str]:
    """What differs between the snapshot `token` and `review` ("Minutes: 10 → 900"), for
    the refusal message; an unreadable token gives an empty list."""
    try:
        shown = signing.loads(token or "", salt=SHOWN_SALT, max_age=7 * 24 * 3600)
    except (signing.BadSignature, ValueError, TypeError):
        return []
    if not isinstance(shown, dict):
        return []
    out = []
    now = review.draft.values()
    for name, label in _FIELD_NAMES.items():
        was = (shown.get("values") or {}).get(name)
        if was != now.get(name):
            if name == "labor_type":
                was, new = (
                    LaborKind(was).label if was in LaborKind.values else was,
                    LaborKind(now[name]).label,
                )
            else:
                new = now.get(name)
            out.append(f"{label}: {_short(was)} → {_short(new)}")
    amount = None if review.amount is None else str(review.amount)
    if shown.get("amount") != amount:
        out.append(f"Amount: {shown.get('amount') or '—'} → {amount or '—'}")
    key = review.actor.credential.label if review.actor else None
    if shown.get("key") != key:
        out.append(f"Syncro key: {shown.get('key') or 'none'} → {key or 'none'}")
    return out


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


# --- approving -------------------------------------------------------------------------------
def can_approve(draft: BillingDraft, user, *, role: str | None = None) -> bool:
    """True when `user` (with `role` in the draft's tenant, looked up when None) may approve
    `draft` now: an approver role, four-eyes respected, the draft pending."""
    try:
        check_can_approve(draft, user, role=role)
    except (PermissionDenied, BillingError):
        return False
    return True


@dataclass(frozen=True)
class QueueKeys:
    """Whose Syncro keys approving the drafts on a queue page would use.

    Attributes:
        shared: ``"#30300"`` ticket numbers whose writes would go with the shared key.
        missing: ticket numbers with no key at all (nothing can be sent).
        people: the other drafts' keys: ``"Howard Enos's own key (Syncro: Howard Enos (user_id=1750))"``
            when ``GET /me`` already named its user, else the key's owner alone.
    """

    shared: list[str]
    missing: list[str]
    people: list[str]


def queue_keys(reviews) -> QueueKeys:
    """Summarise the keys of `reviews` (`Review` objects) for the queue's banner."""
    shared, missing, people = [], [], []
    for review in reviews:
        number = f"#{review.draft.ticket_number}"
        if review.actor is None:
            missing.append(number)
        elif review.actor.is_shared:
            shared.append(number)
        else:
            identity = review.actor.credential.verified_identity
            label = f"{review.key_owner} (Syncro: {identity})" if identity else review.key_owner
            if label not in people:
                people.append(label)
    return QueueKeys(shared=shared, missing=missing, people=people)


def check_can_approve(
    draft: BillingDraft, by, *, role: str | None = None, blocked: dict | None = None
) -> None:
    """Raise unless `by` may approve `draft`.

    Raises:
        PermissionDenied: not an owner, admin or billing member of the draft's tenant.
        BillingError: four-eyes approval is on and `by` drafted or edited it, or the draft is
            not pending.
    """
    if role is None:
        membership = Membership.objects.filter(tenant=draft.tenant, user=by, is_active=True).first()
        role = membership.role if membership else None
    if role not in APPROVER_ROLES:
        raise PermissionDenied("Your role cannot approve billing drafts.")
    if not draft.is_pending:
        raise BillingError(
            f"This draft is {draft.get_status_display().lower()}, not awaiting approval."
        )
    blocked = four_eyes_blocked(draft) if blocked is None else blocked
    if by.pk in blocked:
        did = "drafted" if draft.drafted_by_id == by.pk else "edited"
        raise BillingError(
            f"Four-eyes approval is on for this company and you {did} this draft: someone who "
            "neither drafted nor edited it must approve."
        )


def draft_approve(
    *,
    draft: BillingDraft,
    by,
    fingerprint: str | None = None,
    shown: str = "",
    confirm_duplicate: bool = False,
) -> list[VendorWrite]:
    """Approve `draft` as reviewed: in one transaction the draft becomes APPROVED, its writes
    are queued in the outbox as one `WriteBatch` the draft owns (chained with ``depends_on``)
    and an APPROVED event is written.

    Args:
        fingerprint: the `Review.fingerprint` the person was shown (None only for internal
            callers that approve what they built themselves).
        shown: the review's `shown_token`, to say what changed when refused.
        confirm_duplicate: the person confirmed a draft with a `duplicate_warning`.
    Returns the queued VendorWrites in chain order.
    Raises:
        PermissionDenied, BillingError: see `check_can_approve`.
        PlanChanged: the review is not the one shown (its message names what changed).
        DuplicateNotConfirmed: the draft carries a duplicate warning, not confirmed.
        NoCredential: no Syncro key for the writes and no shared one (nothing is changed).
    """
    with transaction.atomic():
        draft = (
            BillingDraft.objects.select_for_update(of=("self",))
            .select_related("tenant", "connection", "drafted_by")
            .get(pk=draft.pk)
        )
        review = draft_review(draft, by)
        check_can_approve(draft, by)
        if fingerprint is not None and fingerprint != review.fingerprint:
            raise PlanChanged(_changed_message(fingerprint, shown, review))
        if draft.duplicate_warning and not confirm_duplicate:
            raise DuplicateNotConfirmed(
                f"{draft.duplicate_warning} Tick “Yes, bill this too” to approve it anyway."
            )
        batch = plan_enqueue(review.plan, by=by)
        writes = draft_writes_of(batch)
        _record_approval(draft, by, batch, writes, review, confirm_duplicate)
    return writes


def _changed_message(fingerprint: str, shown: str, review: Review) -> str:
    if not fingerprint:
        return "Open the draft (or the queue) to see what will be sent to Syncro, then approve."
    changes = changes_since(shown, review)
    what = (" Changed: " + "; ".join(changes) + ".") if changes else ""
    return (
        "This draft changed since you looked at it, so nothing was approved or sent."
        f"{what} Check what will be sent now and approve again."
    )


def _record_approval(draft, by, batch, writes, review: Review, confirmed: bool) -> None:
    before = {"status": draft.status}
    draft.decide(Decision.APPROVED, by=by)
    draft.batch = batch
    draft.used_shared_key = any(w.used_shared_key for w in writes)
    draft.invoice_separately = not any(w.operation == INVOICE_CREATE for w in writes)
    draft.approved = {
        "values": draft.values(),
        "original": draft.original,
        "amount": None if review.amount is None else str(review.amount),
        "per_hour": None if review.per_hour is None else str(review.per_hour),
        "currency": review.currency,
        "attributed_to": review.attributed_to,
        "writes": [
            {
                "operation": w.operation,
                "business_key": w.business_key,
                "uuid": str(w.uuid),
                "payload": w.payload,
            }
            for w in writes
        ],
        "shared_key": draft.used_shared_key,
    }
    if draft.invoice_separately:
        from billing.invoicing import open_invoice_for

        open_invoice_for(draft)  # the ticket's invoice to approve lists it once it is on Syncro
    draft.save()
    notes = []
    if draft.used_shared_key:
        notes.append("with the tenant's shared Syncro key")
    if confirmed and draft.duplicate_warning:
        notes.append(f"possible duplicate confirmed: {draft.duplicate_warning}")
    draft_event(
        draft,
        ApprovalEvent.Kind.APPROVED,
        by,
        before=before,
        after={
            "status": Decision.APPROVED,
            "values": draft.values(),
            "amount": draft.approved["amount"],
        },
        note="; ".join(notes),
    )


@dataclass
class BulkResult:
    """What a bulk approval did: drafts approved, and drafts skipped with the reason."""

    approved: list[BillingDraft]
    skipped: list[tuple[BillingDraft, str]]


def drafts_approve(*, tenant: Tenant, choices: Iterable[str], by) -> BulkResult:
    """Approve several drafts, each in its own transaction (one refusal does not undo others).

    Args:
        choices: ``"<draft uuid>:<review fingerprint>"`` values of the queue's checkboxes.
            Drafts of another tenant and malformed values are ignored (never loaded); a draft
            whose review changed since the queue was shown is skipped with the reason, and so
            is one with a duplicate warning (it needs its own confirmation on its page).
    """
    wanted: dict[str, str] = {}
    for value in choices:
        draft_uuid, _, fingerprint = str(value).partition(":")
        if _is_uuid(draft_uuid) and fingerprint:
            wanted[draft_uuid] = fingerprint
    result = BulkResult([], [])
    for draft in BillingDraft.objects.filter(tenant=tenant, uuid__in=list(wanted)):
        try:
            draft_approve(draft=draft, by=by, fingerprint=wanted[str(draft.uuid)])
        except DuplicateNotConfirmed:
            result.skipped.append(
                (draft, "may bill work already billed: confirm it on its own page.")
            )
        except (BillingError, PermissionDenied, NoCredential) as exc:
            result.skipped.append((draft, str(exc)))
        else:
            draft.refresh_from_db()
            result.approved.append(draft)
    return result


def _is_uuid(value: str) -> bool:
    try:
        uuid_module.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return True


_STEP_ORDER = {"comment": 0, "line_item": 1, "invoice": 2, "status": 3}


def draft_writes_of(batch) -> list[VendorWrite]:
    """A draft batch's writes in chain order."""
    writes = list(batch.writes.all())
    return sorted(writes, key=lambda w: _STEP_ORDER.get(w.business_key.rsplit(":", 1)[-1], 9))


def draft_writes(draft: BillingDraft) -> list[VendorWrite]:
    """The draft's vendor writes, oldest first: those of earlier approvals a person corrected
    (`BillingDraft.corrections`), then the current batch's in chain order (empty before
    approval)."""
    earlier = [c["batch"] for c in draft.corrections if c.get("batch")]
    writes = list(VendorWrite.objects.filter(batch_id__in=earlier).order_by("id"))
    return writes + (draft_writes_of(draft.batch) if draft.batch_id else [])
