"""Template filters of the billing pages."""

from __future__ import annotations

import json

from django import template

register = template.Library()


@register.filter
def pretty_json(value) -> str:
    """`value` as indented JSON, exactly the keys and values the vendor receives."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


@register.filter
def op_label(operation: str) -> str:
    """ "syncro.line_item.create" -> "Line item" (the outbox handler's label)."""
    from connectors.outbox.handlers import UnknownOperation, handler_for

    try:
        return handler_for(operation).label or operation
    except UnknownOperation:
        return operation


@register.filter
def invoice_id(writes) -> int | None:
    """``{{ writes|invoice_id }}``: the Syncro id of the invoice a confirmed ``POST /invoices``
    among a draft's or a ticket's writes created, or None (`billing.invoices.invoice_id_of`)."""
    from billing.invoices import invoice_id_of

    return invoice_id_of(writes)


@register.filter
def minutes_hm(minutes) -> str:
    """95 -> "1 h 35 min"."""
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        return ""
    h, m = divmod(minutes, 60)
    return f"{h} h {m} min" if h and m else (f"{h} h" if h else f"{m} min")


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)


@register.filter
def prio_class(priority: str) -> str:
    """A CSS class for urgent/high priorities (Syncro priorities are free text, e.g. "0 Urgent")."""
    p = (priority or "").lower()
    return (
        "prio-urgent" if "urgent" in p or "emergency" in p else ("prio-high" if "high" in p else "")
    )


@register.filter
def minutes_from_seconds(seconds) -> str:
    """Seconds (Syncro timer ``active_duration``) as "1 h 35 min"; "" when empty."""
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        return ""
    return minutes_hm(round(seconds / 60)) if seconds else ""


#: Symbols shown before an amount; other currencies show their ISO code after it.
CURRENCY_SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "GBP": "£", "EUR": "€", "NZD": "NZ$"}


@register.filter
def money(value, currency: str = "USD") -> str:
    """``Decimal("56.25")|money:"USD"`` → ``"$56.25"``; thousands separated; "—" when unknown
    (a labor type without a priced product)."""
    from decimal import Decimal, InvalidOperation

    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        return "—"
    code = (currency or "USD").upper()
    text = f"{abs(amount):,.2f}"
    sign = "−" if amount < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(code)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {code}"
