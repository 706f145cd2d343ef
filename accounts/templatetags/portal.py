"""Small template filters shared by every app's templates, and the badge vocabulary (`tone`)."""

from __future__ import annotations

from datetime import timedelta

from django import template

from accounts import links

register = template.Library()


@register.filter
def duration_words(value: timedelta | None) -> str:
    """A timedelta as words: "15 minutes", "1 hour 30 minutes", "45 seconds"."""
    if not isinstance(value, timedelta):
        return ""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if secs and not hours:
        parts.append(f"{secs} second{'s' if secs != 1 else ''}")
    return " ".join(parts) or "0 seconds"


@register.filter
def path_to(value, name: str) -> str:
    """``{{ draft.uuid|path_to:"billing:draft_detail" }}``: ``{% url name value %}`` for
    routes of one int or UUID argument, without walking the resolver per row
    (`accounts.links.path_to`)."""
    return links.path_to(name, value)


@register.filter
def percent_of(value, total) -> float:
    """`value` as a percentage of `total`, clamped to 0..100 (0 when total is 0 or missing)."""
    try:
        value, total = float(value or 0), float(total or 0)
    except (TypeError, ValueError):
        return 0.0
    if total <= 0:
        return 0.0
    return max(0.0, min(100.0, value * 100.0 / total))


#: The badge tones, each one CSS class ``badge-<tone>`` in static/css/app.css. Every badge in
#: every template is ``<span class="badge badge-{{ value|tone }}">`` or names a tone directly.
TONES = ("neutral", "info", "progress", "success", "warning", "danger", "muted")

#: State value -> tone, for every state the portal shows. Keys are the values as stored (model
#: choices, the vendors' status words), lower-cased with spaces as underscores (`state_key`).
#: One word has one colour everywhere: "paused" is the same for a job and a sync run.
STATE_TONES: dict[str, str] = {
    # waiting for someone or something, nothing wrong
    "pending": "info",  # VendorWrite (waiting to send), BillingDraft (awaiting approval)
    "queued": "info",  # SyncRun, FieldCamp sync job
    "scheduled": "info",  # Synchroteam job, Syncro ticket
    "new": "info",  # Syncro ticket
    # moving
    "in_flight": "progress",  # VendorWrite (sending)
    "sending": "progress",  # WebhookDelivery (outbound webhook)
    "approved": "progress",  # BillingDraft (approved, sending)
    "running": "progress",  # SyncRun, FieldCamp sync job
    "synchronized": "progress",  # Synchroteam job (on the technician's phone)
    "started": "progress",  # Synchroteam job
    "in_progress": "progress",  # Syncro ticket
    # done and fine
    "confirmed": "success",  # VendorWrite
    "invoiced": "success",  # BillingDraft, Syncro ticket
    "paid": "success",  # Syncro invoice
    "succeeded": "success",  # SyncRun, FieldCamp sync job
    "completed": "success",  # Synchroteam job
    "validated": "success",  # Synchroteam job
    "resolved": "success",  # Syncro ticket
    "active": "success",  # Credential
    "accepted": "success",  # InboundEvent
    # not sure yet, or waiting on someone outside
    "ambiguous": "warning",  # VendorWrite: "checking whether it arrived"
    "verifying": "warning",  # VendorWrite: same label as ambiguous, same colour
    "retrying": "warning",  # WebhookDelivery: the receiver failed, tried again later
    "paused": "warning",  # SyncRun (rate limit or quota), Synchroteam job
    "failing": "warning",  # Credential (the vendor refused it lately)
    "waiting_on_customer": "warning",  # Syncro ticket
    "waiting_on_vendor": "warning",  # Syncro ticket
    "waiting_for_parts": "warning",  # Syncro ticket
    "customer_reply": "warning",  # Syncro ticket
    # a person must act
    "rejected": "danger",  # VendorWrite (by the vendor), BillingDraft (by an approver)
    "needs_review": "danger",  # VendorWrite
    "needs_attention": "danger",  # BillingDraft
    "billed": "info",  # BillingDraft: line item on the ticket, invoice to approve
    "unpaid": "warning",  # Syncro invoice
    "failed": "danger",  # SyncRun, FieldCamp sync job
    "refused": "danger",  # SyncRun (too many deletions)
    "stale": "danger",  # SyncRun (worker stopped)
    "revoked": "danger",  # Credential
    "bad_signature": "danger",  # InboundEvent
    "malformed": "danger",  # InboundEvent
    # over, nothing to do
    "disabled": "muted",  # WebhookEndpoint
    "cancelled": "muted",  # VendorWrite, Synchroteam job
    "skipped": "muted",  # SyncRun (already running)
    "closed": "muted",  # Syncro ticket
    "expired": "muted",  # Invitation (staff)
    "deactivated": "muted",  # Membership (staff)
    "created": "neutral",  # Synchroteam job (not scheduled yet)
}


def state_key(value: object) -> str:
    """`value` as a `STATE_TONES` key: "In Progress" -> "in_progress", None -> ""."""
    return str(value or "").strip().lower().replace(" ", "_").replace("-", "_")


@register.filter
def tone(value: object) -> str:
    """The badge tone of a state value (one of `TONES`).

    ``{{ w.state|tone }}`` -> "progress" for "in_flight"; a tone name gives itself
    (``{{ "warning"|tone }}`` -> "warning"); an unknown or empty value gives "neutral".
    """
    key = state_key(value)
    if key in TONES:
        return key
    return STATE_TONES.get(key, "neutral")
