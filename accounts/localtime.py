"""Local time: each company's time zone (and optionally each person's), and form input in it.

* `time_zone_names`, `validate_time_zone`: the IANA names the portal accepts (the tz database
  that `zoneinfo` sees: the system's, else the ``tzdata`` package).
* `zone_for(membership)`: the zone a request is shown in: the person's own (`Membership.time_zone`),
  else the company's (`Tenant.time_zone`), else ``settings.TIME_ZONE``.
  `accounts.middleware.LocalTimeMiddleware` activates it for each request
  (`django.utils.timezone.activate`), so templates (``|date``, ``{% now %}``), ``__date``
  lookups, `timezone.localdate()` and form fields all use it.
* `company_zone(tenant)`: the company's zone for work without a request (tasks, alerts).
* `local_day_bounds(day, zone)`: a local day as aware ``[start, end)`` datetimes, for filters
  an index can answer (a ``__date`` cast cannot).
* `LocalDateTimeField`: a form field that reads a naive input (``datetime-local``) in the active
  zone and gives the aware (UTC-stored) value; a time that a daylight-saving change skips or
  repeats is a form error in words, never a guess and never a 500.
* `greeting(now)`: "morning", "afternoon" or "evening" by the local hour.

Storage stays UTC (``USE_TZ = True``); only reading and showing are local.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import lru_cache

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

#: Morning until 12:00, afternoon until 18:00, evening after (local hour).
AFTERNOON_FROM, EVENING_FROM = 12, 18


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone name `zoneinfo` can load, sorted (about 600; "UTC" included)."""
    return tuple(sorted(zoneinfo.available_timezones() | {"UTC"}))


def time_zone_choices() -> list[tuple[str, str]]:
    """``[(name, label)]`` for a select: the zone names with underscores as spaces."""
    return [(name, name.replace("_", " ")) for name in time_zone_names()]


def validate_time_zone(value: str) -> None:
    """Raise `ValidationError` unless `value` is an IANA zone name the portal knows."""
    if value not in time_zone_names():
        raise ValidationError(
            "“%(value)s” is not a time zone name; pick one from the list (e.g. America/New_York).",
            code="invalid_time_zone",
            params={"value": str(value)[:60]},
        )


def load_zone(name: str | None) -> zoneinfo.ZoneInfo | None:
    """The `ZoneInfo` for `name`, or None when it is empty or unknown (never raises)."""
    if not name or name not in time_zone_names():
        return None
    return zoneinfo.ZoneInfo(name)


def company_zone(tenant) -> dt.tzinfo:
    """The company's zone (``tenant.time_zone``), else ``settings.TIME_ZONE``, else UTC: for
    work done without a request (alerts, tasks), where no zone is active. `tenant` may be None."""
    return load_zone(getattr(tenant, "time_zone", "")) or load_zone(settings.TIME_ZONE) or dt.UTC


def zone_for(membership) -> dt.tzinfo:
    """The zone a member sees the portal in: their own (``membership.time_zone``, blank = the
    company's), else the company's (``membership.tenant.time_zone``), else ``settings.TIME_ZONE``.
    `membership` may be None (signed out): the settings' zone."""
    own = load_zone(getattr(membership, "time_zone", "")) if membership is not None else None
    return own or company_zone(getattr(membership, "tenant", None))


def zone_label(when: dt.datetime | None = None) -> str:
    """The active zone as people read it: its abbreviation at `when` (default now) and name,
    e.g. ``"PST (America/Los_Angeles)"``, or just ``"UTC"``."""
    zone = timezone.get_current_timezone()
    local = timezone.localtime(when or timezone.now(), zone)
    abbreviation, name = local.tzname() or "", str(zone)
    return name if abbreviation == name else f"{abbreviation} ({name})"


def greeting(now: dt.datetime | None = None) -> str:
    """ "morning", "afternoon" or "evening" for `now` (aware; default now) in the active zone."""
    hour = timezone.localtime(now or timezone.now()).hour
    if hour < AFTERNOON_FROM:
        return "morning"
    return "afternoon" if hour < EVENING_FROM else "evening"


def local_day_bounds(
    day: dt.date | None = None, zone: dt.tzinfo | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """``(start, end)``: aware datetimes of the local midnight that starts `day` (default today)
    in `zone` (default the active zone) and of the next one; ``start <= t < end`` is "on that
    local day" (23 or 25 hours long on a daylight-saving change). Filter datetime columns with
    these bounds rather than a ``__date`` cast, which no index answers."""
    zone = zone or timezone.get_current_timezone()
    day = day or timezone.localdate(timezone=zone)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def dst_problem(naive: dt.datetime, zone: dt.tzinfo) -> str:
    """Why the naive local time `naive` cannot be read in `zone`: a sentence for a time the
    clocks skip ("does not exist") or repeat ("happens twice"); "" when it is a plain time."""
    before = naive.replace(tzinfo=zone, fold=0).utcoffset()
    after = naive.replace(tzinfo=zone, fold=1).utcoffset()
    if before == after:
        return ""
    when = f"{naive:%H:%M} on {naive:%b} {naive.day}, {naive.year}"
    shift = abs(after - before)
    minutes = int(shift.total_seconds() // 60)
    length = "an hour" if minutes == 60 else f"{minutes} minutes"
    if before < after:  # spring forward: the wall clock jumps over this time
        return (
            f"{when} does not exist in {zone}: the clocks go forward {length} then. "
            "Pick a time after the change."
        )
    return (
        f"{when} happens twice in {zone}: the clocks go back {length} then. "
        "Pick a time outside the repeated hour."
    )


class LocalDateTimeField(forms.DateTimeField):
    """A `forms.DateTimeField` whose naive input is a local time in the active zone (the
    request's, see the module docstring) and whose value is aware (Django stores it in UTC).

    A time skipped or repeated by a daylight-saving change is refused with `dst_problem`'s
    sentence (code ``ambiguous_timezone``, Django's own code for it)."""

    def to_python(self, value):
        """The aware datetime for `value` (None when empty); `ValidationError` when it does
        not parse, or names a local time skipped or repeated by a daylight-saving change."""
        try:
            return super().to_python(value)
        except ValidationError as exc:
            naive = (getattr(exc, "params", None) or {}).get("datetime")
            if getattr(exc, "code", "") != "ambiguous_timezone" or naive is None:
                raise
            message = dst_problem(naive, timezone.get_current_timezone()) or exc.messages[0]
            raise ValidationError(message, code="ambiguous_timezone") from exc
