"""Small template filters shared by every app's templates."""

from __future__ import annotations

from datetime import timedelta

from django import template

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
def percent_of(value, total) -> float:
    """`value` as a percentage of `total`, clamped to 0..100 (0 when total is 0 or missing)."""
    try:
        value, total = float(value or 0), float(total or 0)
    except (TypeError, ValueError):
        return 0.0
    if total <= 0:
        return 0.0
    return max(0.0, min(100.0, value * 100.0 / total))
