"""The home page ("the morning page"): what needs doing today, per role, as cards; and for a
company with no vendor connection yet, the first-run checklist instead.

Accounts is the bottom layer, so it imports none of the apps that own the data: cards and
checklist checks are named here by dotted path (a registry, like Django's context processors)
and loaded with `import_string` when the page is drawn.

* `CARDS`: card key -> ``"app.module.function"``; the function takes the request and returns
  a `Card`, or None when the card does not apply (e.g. no Synchroteam connection).
* `ROLE_CARDS`: the cards each role sees, in page order (a technician's own work first).
* `STEPS`: the first-run checklist: ``(key, label, why, URL name, check)``; a check takes the
  request and returns True when the step is done.

Each card function keeps its queries bounded (counts and sums by aggregate, never one query
per row); tests/accounts/test_home.py counts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.module_loading import import_string

from accounts import access
from accounts.localtime import greeting
from accounts.models import Role

# --- what a card is ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One bar of a card's small chart: ``value`` (a number, compared with the card's other
    bars) and ``text`` (the value as shown, e.g. "3 jobs" or "4.50 h")."""

    label: str
    value: float | int | Decimal
    text: str


@dataclass(frozen=True)
class Row:
    """One line of a card with a state badge (sync health per connection): ``state`` is a
    `STATE_TONES` key or a tone, ``state_label`` its words, ``note`` a short detail."""

    label: str
    state: str
    state_label: str
    note: str = ""
    url: str = ""


@dataclass
class Card:
    """A home card: what needs doing, how many, why, and where.

    Attributes:
        key: the `CARDS` key.
        title: e.g. "Drafts to approve".
        count: how many things wait (the big number).
        reason: one line saying why it matters or what the count is made of.
        url: the list filtered to what the card counts.
        figure: a second figure, e.g. the amount and hours ("$1,240.00 · 12.50 h"), or "".
        attention: True when the count needs someone now (drawn with a warning edge).
        bars: numbers people compare (per technician, per drafter), largest first.
        rows: per-item lines with a state badge (per connection).
        items: up to a few ``(text, url)`` lines (a technician's own jobs today).
    """

    key: str
    title: str
    count: int
    reason: str
    url: str
    figure: str = ""
    attention: bool = False
    bars: list[Bar] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    items: list[tuple[str, str]] = field(default_factory=list)

    @property
    def bar_max(self) -> float:
        """The largest bar's value (at least 1): the bars' common scale."""
        return max([float(b.value) for b in self.bars] + [1.0])


# --- the registry --------------------------------------------------------------------------------

#: card key -> dotted path of ``f(request) -> Card | None``.
CARDS: dict[str, str | None] = {
    "my_jobs_today": "dispatch.home.my_jobs_today",
    "my_drafts": "billing.home.my_drafts",
    "drafts_to_approve": "billing.home.drafts_to_approve",
    "writes_waiting": "connectors.home.writes_waiting",
    "alerts": "connectors.alerts.home.alerts_card",  # open alerts (issue 12 item 4)
    "unbilled_jobs": "dispatch.home.unbilled_jobs",
    "jobs_today": "dispatch.home.jobs_today",
    "waiting_on_customer": "billing.home.waiting_on_customer",
    "sync_health": "connectors.home.sync_health",
}

_OFFICE = [
    "drafts_to_approve",
    "writes_waiting",
    "alerts",
    "unbilled_jobs",
    "jobs_today",
    "waiting_on_customer",
    "sync_health",
]
#: The cards each role sees, in page order.
ROLE_CARDS: dict[str, list[str]] = {
    Role.OWNER: _OFFICE,
    Role.ADMIN: _OFFICE,
    Role.BILLING: [
        "drafts_to_approve",
        "writes_waiting",
        "alerts",
        "unbilled_jobs",
        "waiting_on_customer",
        "sync_health",
    ],
    Role.DISPATCHER: [
        "jobs_today",
        "alerts",
        "unbilled_jobs",
        "writes_waiting",
        "waiting_on_customer",
        "sync_health",
    ],
    Role.TECHNICIAN: ["my_jobs_today", "my_drafts", "alerts", "jobs_today", "waiting_on_customer"],
}


def mfa_enabled(request: HttpRequest) -> bool:
    """Whether the signed-in person has a confirmed second factor (django-otp's
    `user_has_device` when django-otp is installed; False otherwise)."""
    if not apps.is_installed("django_otp"):
        return False
    from django_otp import user_has_device

    return bool(user_has_device(request.user, confirmed=True))


def staff_invited(request: HttpRequest) -> bool:
    """Whether the company has more than one active member."""
    return request.tenant.memberships.filter(is_active=True).count() > 1


#: The first-run checklist: (key, label, why, URL name, dotted path of ``check(request) -> bool``).
STEPS: list[tuple[str, str, str, str, str]] = [
    (
        "connect",
        "Connect a vendor",
        "Syncro, Synchroteam or FieldCamp: the portal mirrors their data.",
        "connectors:integrations",
        "connectors.home.has_connection",
    ),
    (
        "labor_types",
        "Map labor types",
        "Pick the Syncro product each kind of work is billed as.",
        "billing:labor_types",
        "billing.home.labor_types_mapped",
    ),
    (
        "staff",
        "Invite staff",
        "Add the people who approve, dispatch and do the work.",
        "staff:list",
        "accounts.home.staff_invited",
    ),
    (
        "mfa",
        "Turn on multi-factor sign-in",
        "A second factor for you, and required for owners and approvers.",
        "mfa_security",
        "accounts.home.mfa_enabled",
    ),
]


@dataclass(frozen=True)
class Step:
    """One checklist line: ``done`` is what its check answered."""

    key: str
    label: str
    why: str
    url: str
    done: bool


def checklist(request: HttpRequest) -> list[Step]:
    """The first-run checklist for the request's company, each step ticked by its check."""
    return [
        Step(key, label, why, reverse(url_name), bool(import_string(check)(request)))
        for key, label, why, url_name, check in STEPS
    ]


def home_cards(request: HttpRequest) -> list[Card]:
    """The cards of the request's role (`ROLE_CARDS`), in order, leaving out the ones whose
    function answers None and the slots not filled yet (`CARDS` value None)."""
    cards = []
    for key in ROLE_CARDS.get(request.membership.role, []):
        path = CARDS.get(key)
        if path is None:
            continue
        card = import_string(path)(request)
        if card is not None:
            cards.append(card)
    return cards


@access.tenant_member_required()
def home(request: HttpRequest) -> HttpResponse:
    """The tenant's home: the greeting in local time, then the role's cards; a company with no
    vendor connection sees the first-run checklist instead (and managers keep seeing the
    steps not done yet under their cards)."""
    steps = checklist(request)
    first_run = not steps[0].done
    context = {
        "greeting": greeting(),
        "steps": steps,
        "steps_left": [s for s in steps if not s.done],
        "first_run": first_run,
        "cards": [] if first_run else home_cards(request),
    }
    return render(request, "accounts/home.html", context)
