"""A ticket's timer entries: which are not charged yet, what a charge bills, and the charge.

Syncro bills a timer in a second step, ``POST /tickets/{id}/charge_timer_entry``
``{"timer_entry_id": N}``, which turns it into a ticket line item and sets ``recorded``; it is not
idempotent ("charging a timer twice creates duplicate billable line items", vendor-apis.md §1.9).
So a charge is one planned write (`connectors.syncro.writes.TIMER_CHARGE`) whose business key is
made on the server from the ticket and the timer, ``timer:<ticket id>:<timer id>`` (the batch
key; the write's key adds ``:charge``): confirming the same timer twice, from two tabs or two
people, finds the same batch and makes one write. The outbox handler checks the timer's
``recorded`` at Syncro before every send, so a timer charged in Syncro but not yet in the mirror
is not charged again, and an answer lost after Syncro committed is looked up, never re-sent. A
charge a person cancelled frees the timer: the next charge gets the key
``timer:<ticket id>:<timer id>:r<n>`` (n = charges cancelled so far).

The preview and Confirm use the ticket actions' signed token (`billing.ticket_actions`), bound to
the tenant, the person, the action ``timer_charge`` and the object ``<ticket id>:<timer id>``.

Amounts: Syncro prices the line item from the timer's product (the account's default labor
product when the timer has none) and bills ``active_duration`` seconds ÷ 3600 hours rounded to
0.01 (as the sandbox emulates it); the amount is shown when that product is mapped to a labor
type whose product has a price (`billing.money.labor_rates`).

Public API (keyword-only): `timer_panel`, `uncharged`, `timer_charge_plan`, `charge_confirm`,
`timer_key`, `timer_obj`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from billing import money, ticket_actions
from billing.ticket_actions import ActionError
from connectors.models import Connection
from connectors.outbox.models import VendorWrite, WriteBatch
from connectors.outbox.plans import WritePlan, plan_actor
from connectors.syncro.models import (
    SyncroProduct,
    SyncroTicket,
    SyncroTicketSettings,
    SyncroTimerEntry,
)
from connectors.syncro.writes import TIMER_CHARGE

#: The action name the charge's token is bound to.
ACTION = "timer_charge"
HOURS = Decimal("0.01")


def timer_key(ticket_vendor_id: int, timer_vendor_id: int, cancelled: int = 0) -> str:
    """The batch key of a timer's charge: ``timer:<ticket>:<timer>`` (``:r<n>`` after n
    cancelled charges)."""
    key = f"timer:{ticket_vendor_id}:{timer_vendor_id}"
    return f"{key}:r{cancelled}" if cancelled else key


def timer_obj(ticket: SyncroTicket, timer: SyncroTimerEntry) -> str:
    """The object a charge token is bound to: ``"<ticket id>:<timer id>"``."""
    return f"{ticket.vendor_id}:{timer.vendor_id}"


def timer_hours(seconds: int | None) -> Decimal | None:
    """Seconds as the hours Syncro bills for a charged timer (÷ 3600, half-up to 0.01)."""
    if seconds is None:
        return None
    return (Decimal(seconds) / Decimal(3600)).quantize(HOURS, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class TimerRow:
    """One timer entry as the ticket page shows it.

    Attributes:
        timer: the mirrored entry.
        minutes: ``active_duration`` in whole minutes (None while the timer runs).
        hours: the quantity Syncro's line item will have.
        product: the product it is charged as ("Labor - Onsite Business"; "" if unknown).
        amount: hours × the product's rate, when the product is a priced labor type.
        write: the portal's latest charge write for it that was not cancelled (None: none).
    """

    timer: SyncroTimerEntry
    minutes: int | None
    hours: Decimal | None
    product: str
    amount: Decimal | None
    write: VendorWrite | None = None

    @property
    def state(self) -> str:
        """``charged``, ``charging``, ``attention`` (a person must look at the charge),
        ``running``, ``not_billable`` or ``uncharged``."""
        if self.timer.recorded or (self.write and self.write.state == VendorWrite.State.CONFIRMED):
            return "charged"
        if self.write is not None:
            return "attention" if self.write.is_waiting_for_person else "charging"
        if not self.timer.billable:
            return "not_billable"
        if self.timer.active_duration is None:
            return "running"
        return "uncharged"

    @property
    def chargeable(self) -> bool:
        """True when the page may offer a Charge button: billable, finished, not charged, and
        no charge from the portal under way or waiting for a person."""
        return self.state == "uncharged"


@dataclass
class TimerPanel:
    """A ticket's timer entries and what of them is not charged yet."""

    rows: list[TimerRow]
    currency: str
    can_charge: bool = False
    cancelled: dict[int, int] = field(default_factory=dict)

    @property
    def uncharged_rows(self) -> list[TimerRow]:
        return [r for r in self.rows if r.chargeable]

    @property
    def uncharged_seconds(self) -> int:
        return sum(r.timer.active_duration or 0 for r in self.uncharged_rows)

    @property
    def uncharged_minutes(self) -> int:
        """The uncharged entries' time in whole minutes (their seconds summed, then rounded)."""
        return round(self.uncharged_seconds / 60)

    @property
    def in_flight(self) -> bool:
        """A charge is on its way (the panel refreshes itself until it settles)."""
        return any(r.state == "charging" for r in self.rows)


def _charge_writes(ticket: SyncroTicket) -> tuple[dict[int, VendorWrite], dict[int, int]]:
    """``({timer id: latest charge write not cancelled}, {timer id: cancelled charges})``."""
    latest: dict[int, VendorWrite] = {}
    cancelled: dict[int, int] = defaultdict(int)
    writes = VendorWrite.objects.filter(
        tenant_id=ticket.tenant_id, operation=TIMER_CHARGE, target__ticket_id=ticket.vendor_id
    ).order_by("id")
    for w in writes:
        try:
            timer_id = int(w.target.get("timer_entry_id"))
        except (TypeError, ValueError):
            continue
        if w.state == VendorWrite.State.CANCELLED:
            cancelled[timer_id] += 1
        else:
            latest[timer_id] = w
    return latest, dict(cancelled)


def _products(ticket: SyncroTicket, timers: list[SyncroTimerEntry]):
    """``(default labor product id, {product id: (name, per-hour rate or None)})``."""
    settings = SyncroTicketSettings.objects.filter(connection_id=ticket.connection_id).first()
    default = settings.default_labor_product_id if settings else None
    ids = {t.product_vendor_id or default for t in timers} - {None}
    names = dict(
        SyncroProduct.objects.filter(
            connection_id=ticket.connection_id, vendor_id__in=ids
        ).values_list("vendor_id", "name")
    )
    rates = {
        r.product_vendor_id: r.per_hour
        for r in money.labor_rates(ticket.tenant).values()
        if r.product_vendor_id is not None
    }
    return default, {pid: (names.get(pid, ""), rates.get(pid)) for pid in ids}


def timer_panel(
    ticket: SyncroTicket, timers: list[SyncroTimerEntry], *, can_charge: bool = False
) -> TimerPanel:
    """The ticket page's timer rows (`timers`: the ticket's mirrored entries, newest first) with
    minutes, the product charged, the amount and the portal's charge write (five queries)."""
    latest, cancelled = _charge_writes(ticket)
    default, products = _products(ticket, timers)
    rows = []
    for t in timers:
        name, per_hour = products.get(t.product_vendor_id or default, ("", None))
        hours = timer_hours(t.active_duration)
        amount = (
            (hours * per_hour).quantize(money.CENT, rounding=ROUND_HALF_UP)
            if hours is not None and per_hour is not None
            else None
        )
        minutes = round(t.active_duration / 60) if t.active_duration is not None else None
        rows.append(TimerRow(t, minutes, hours, name, amount, latest.get(t.vendor_id)))
    return TimerPanel(rows, ticket.tenant.currency, can_charge=can_charge, cancelled=cancelled)


def ticket_timers(ticket: SyncroTicket) -> list[SyncroTimerEntry]:
    """The ticket's mirrored timer entries, newest first."""
    return list(
        SyncroTimerEntry.objects.filter(
            connection_id=ticket.connection_id, ticket_vendor_id=ticket.vendor_id, is_deleted=False
        ).order_by("-start_time", "-vendor_id")
    )


def uncharged(ticket: SyncroTicket) -> TimerPanel:
    """The ticket's timer panel, for "Bill time" (`TimerPanel.uncharged_minutes`)."""
    return timer_panel(ticket, ticket_timers(ticket))


def timer_row(ticket: SyncroTicket, timer: SyncroTimerEntry) -> tuple[TimerRow, int]:
    """``(row, cancelled charges)`` of one timer of `ticket`."""
    panel = timer_panel(ticket, [timer])
    return panel.rows[0], panel.cancelled.get(timer.vendor_id, 0)


def timer_charge_plan(
    *, connection: Connection, user, ticket: SyncroTicket, timer: SyncroTimerEntry
) -> WritePlan:
    """The charge of `timer`: one ``POST /tickets/{id}/charge_timer_entry``
    ``{"timer_entry_id": N}`` under the key `timer_key`.

    Raises:
        ActionError: the timer belongs to another ticket, is charged (in the mirror or by the
            portal), is being charged, waits for a person, runs, or is not billable.
    """
    if timer.ticket_vendor_id != ticket.vendor_id or timer.connection_id != ticket.connection_id:
        raise ActionError("This timer entry is not on this ticket.")
    row, cancelled = timer_row(ticket, timer)
    refusal = {
        "charged": "This timer entry is already charged: it has its line item in Syncro.",
        "charging": "This timer entry is being charged already; its charge is on its way.",
        "attention": "The charge of this timer entry waits for a person: see it under "
        "“Sent from the portal”.",
        "running": "This timer is still running; stop it in Syncro before charging it.",
        "not_billable": "This timer entry is not billable; make it billable in Syncro first.",
    }.get(row.state)
    if refusal:
        raise ActionError(refusal)
    plan = WritePlan(
        connection=connection,
        kind=ticket_actions.BATCH_KIND,
        key=timer_key(ticket.vendor_id, timer.vendor_id, cancelled),
        label=f"Charge timer {timer.vendor_id} on #{ticket.number}",
        subject={
            "ticket_id": ticket.vendor_id,
            "ticket_number": ticket.number,
            "timer_entry_id": timer.vendor_id,
        },
        actor=plan_actor(connection, user),
    )
    plan.add(
        TIMER_CHARGE,
        {"ticket_id": ticket.vendor_id, "timer_entry_id": timer.vendor_id},
        {"timer_entry_id": timer.vendor_id},
        "charge",
    )
    return plan


def charge_confirm(
    *, connection: Connection, user, ticket: SyncroTicket, timer: SyncroTimerEntry, token: str
) -> WriteBatch:
    """Queue the charge the person previewed (the token of `charge_token`). A second Confirm of
    the same preview returns the first one's batch, even once the timer shows charged.

    Raises:
        connectors.outbox.plans.PlanRefused: the token is forged, expired, made for another
            person, timer or action, or the plan changed since the preview.
        ActionError: the timer cannot be charged now (see `timer_charge_plan`).
        accounts.models.NoCredential: no Syncro key for the person and no shared one.
    """
    obj = timer_obj(ticket, timer)
    nonce = ticket_actions.action_nonce(
        token=token, tenant=connection.tenant, user=user, action=ACTION, obj=obj
    )
    _, cancelled = timer_row(ticket, timer)
    key = timer_key(ticket.vendor_id, timer.vendor_id, cancelled)
    existing = WriteBatch.objects.filter(tenant=connection.tenant, key=key).first()
    if existing is not None and key.rsplit(":", 1)[-1] == nonce:
        return existing
    plan = timer_charge_plan(connection=connection, user=user, ticket=ticket, timer=timer)
    return ticket_actions.action_confirm(
        plan=plan,
        token=token,
        by=user,
        action=ACTION,
        obj=obj,
        ticket=ticket,
        note=f"charge timer {timer.vendor_id}",
    )


def charge_token(*, plan: WritePlan, user, ticket: SyncroTicket, timer: SyncroTimerEntry) -> str:
    """The signed token the charge preview carries to Confirm."""
    return ticket_actions.action_token(
        plan=plan,
        tenant=plan.connection.tenant,
        user=user,
        action=ACTION,
        obj=timer_obj(ticket, timer),
    )
