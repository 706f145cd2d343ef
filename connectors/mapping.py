"""Stream declarations and the mapping helpers every vendor's ``mapping.py`` uses.

The bottom of the ``connectors`` package: the sync engine (`connectors.sync`) and the vendor
mappings (``connectors/<vendor>/mapping.py``) both import this module, and it imports nothing of
the product. A helper turns one vendor value into a column value or raises `MappingError`,
whose message becomes the quarantine reason of the record (reliability.md §2.2 rule 3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.utils.dateparse import parse_datetime

if TYPE_CHECKING:
    from connectors.http import Page
    from connectors.models import Connection, MirrorModel


class MappingError(ValueError):
    """A vendor record cannot be mirrored; the message is the quarantine reason."""


def require_id(record: Any, key: str = "id") -> int:
    """The record's integer id under `key`.

    Raises:
        MappingError: `record` is not an object, or the id is missing, boolean or not an integer.
    """
    if not isinstance(record, dict):
        raise MappingError(f"record is a {type(record).__name__}, not an object")
    value = record.get(key)
    if isinstance(value, bool) or value is None:
        raise MappingError(f"missing {key}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise MappingError(f"{key} is not an integer: {value!r}") from None


def opt_int(value: Any, name: str = "") -> int | None:
    """An optional integer: None/"" -> None; a nested ``{"id": …}`` object gives its id.

    Raises:
        MappingError: the value is not an integer (`name` names it in the reason).
    """
    if value in (None, ""):
        return None
    if isinstance(value, dict):
        value = value.get("id")
        if value in (None, ""):
            return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise MappingError(f"{name or 'value'} is not an integer: {value!r}") from None


def opt_dt(value: Any, name: str = "", *, naive_tz: dt.tzinfo = dt.UTC) -> dt.datetime | None:
    """ISO 8601 (Syncro, FieldCamp) or Synchroteam's naive ``YYYY-MM-DD HH:MM[:SS]``.

    Naive values are read in `naive_tz` (UTC unless the vendor says otherwise; vendor-apis.md
    §4.6: Synchroteam's zone is unverified). Returns an aware datetime or None for None/"".

    Raises:
        MappingError: anything else.
    """
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise MappingError(f"{name or 'timestamp'} is not a string: {value!r}")
    parsed = parse_datetime(value.strip().replace(" ", "T", 1) if "T" not in value else value)
    if parsed is None:
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise MappingError(f"{name or 'timestamp'} is not a date-time: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=naive_tz)
    return parsed


def opt_decimal(value: Any, name: str = "", places: int = 2) -> Decimal | None:
    """An optional amount quantized to `places` decimals; None/"" -> None.

    Raises:
        MappingError: not a number, or not finite.
    """
    if value in (None, ""):
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise MappingError(f"{name or 'amount'} is not a number: {value!r}") from None
    if not result.is_finite():
        raise MappingError(f"{name or 'amount'} is not finite: {value!r}")
    return result.quantize(Decimal(1).scaleb(-places))


def text(value: Any, limit: int | None = None) -> str:
    """A text column: None -> "", a nested object gives its ``name``; cut to `limit` chars."""
    if value is None:
        return ""
    if isinstance(value, dict):
        value = value.get("name") or ""
    result = str(value)
    return result[:limit] if limit else result


def custom_field_map(values: Any) -> dict:
    """Synchroteam ``customFieldValues`` ``[{"label"|"id", "value"}]`` (or an ``{id: value}``
    map, vendor-apis.md §2.7) -> ``{label: value}``; Syncro ``properties`` pass through.

    Raises:
        MappingError: neither a list nor an object.
    """
    if values is None:
        return {}
    if isinstance(values, dict):
        return dict(values)
    if isinstance(values, list):
        out = {}
        for item in values:
            if isinstance(item, dict):
                key = item.get("label") or item.get("name") or item.get("id") or item.get("fieldId")
                if key is not None:
                    out[str(key)] = item.get("value")
        return out
    raise MappingError(f"custom fields are a {type(values).__name__}")


class Changes:
    """How a stream finds what changed at the vendor (`StreamSpec.changes`), which decides when
    it runs (`connectors.schedules.incremental_resources`, README "Connectors and the sync
    engine"):

    * ``VENDOR_FILTER``: the vendor lists only records changed since a time
      (`StreamSpec.changes_param` names the query parameter, e.g. Syncro ``since_updated_at``,
      specs/syncro-openapi.json): cheap, so it runs in every incremental.
    * ``SNAPSHOT``: the whole stream is a fixed, small number of requests
      (`StreamSpec.requests_per_run`: settings, a one-page user list, three status routes):
      read whole in every incremental.
    * ``WEBHOOK``: the vendor pushes events naming the records (``connectors/<vendor>/
      webhooks.py``); each event refreshes its record, the nightly sweep catches what was
      missed. Polled in the incremental only while the connection has no webhook secret.
    * ``SWEEP``: nothing cheap (no filter, no events): the nightly full sweep, a person's
      "Sync now", and the mirror updates of the portal's own writes (outbox write-through).
    """

    VENDOR_FILTER = "vendor_filter"
    SNAPSHOT = "snapshot"
    WEBHOOK = "webhook"
    SWEEP = "sweep"

    ALL = (VENDOR_FILTER, SNAPSHOT, WEBHOOK, SWEEP)
    #: run by the 10-minute incremental whatever the connection
    INCREMENTAL = (VENDOR_FILTER, SNAPSHOT)

    LABELS = {
        VENDOR_FILTER: "vendor filter",
        SNAPSHOT: "whole, a few requests",
        WEBHOOK: "webhook events",
        SWEEP: "nightly sweep",
    }


@dataclass(frozen=True)
class StreamSpec:
    """How one vendor resource is mirrored.

    Attributes:
        resource: the stream name (``tickets``), unique per vendor.
        model: the mirror model.
        fetch: ``fetch(client, cursor) -> Page``; `cursor` is the checkpoint dict (``page``,
            ``cursor``, ``since`` as an aware datetime or None, ``parent`` for fan-out streams).
        map: ``map(record) -> dict`` of model field values including ``vendor_id``; raises
            MappingError for malformed records (they are quarantined).
        incremental: "filter" (the vendor filters by ``since``), "compare" (list all, write
            changed), or "full" (always a full sweep).
        parents: for fan-out streams (Syncro comments per ticket): ``parents(connection,
            since) -> QuerySet of parent vendor ids``, ordered ascending.
        page_size: the vendor page size, when fixed (progress and benchmark (c)).
        label: the stream's title on the status page (default: from `resource`).
        detect_deletions: False for append-only logs and status rows the vendor cannot list
            completely (FieldCamp calendar changes, integration status).
        parent_field: for fan-out streams, the model field holding the parent's vendor id.
        full_window_setting: for fan-out streams, the name of a setting giving days: after the
            first complete sweep, full sweeps revisit only parents updated in that window (and
            detect deletions only among their children). 0 = every parent, every time.
        parent_noun: for fan-out streams, what one parent is called where progress is shown
            ("ticket": "120 / 300 tickets").
        changes: how the stream finds changes, one of `Changes` (required: a stream that does
            not say is a bug, `__post_init__` raises ValueError).
        changes_param: for ``Changes.VENDOR_FILTER``, the vendor's query parameter
            (``since_updated_at``); "" otherwise.
        requests_per_run: for ``Changes.SNAPSHOT``, the fixed number of requests one run makes.
        parents_per_run_setting: for fan-out streams, the name of a setting bounding how many
            parents one incremental run visits; the rest is carried to the next run (its
            checkpoint is kept). "" = unbounded.
    """

    resource: str
    model: type[MirrorModel]
    fetch: Callable[[Any, dict], Page]
    map: Callable[[dict], dict]
    incremental: str = "compare"
    parents: Callable[[Connection, dt.datetime | None], Any] | None = None
    page_size: int | None = None
    label: str = ""
    detect_deletions: bool = True
    parent_field: str = ""
    full_window_setting: str = ""
    parent_noun: str = "parent"
    changes: str = ""
    changes_param: str = ""
    requests_per_run: int = 0
    parents_per_run_setting: str = ""

    def __post_init__(self) -> None:
        if self.changes not in Changes.ALL:
            raise ValueError(f"{self.resource}: changes must be one of {Changes.ALL}")
        if (self.changes == Changes.VENDOR_FILTER) != bool(self.changes_param):
            raise ValueError(f"{self.resource}: changes_param goes with Changes.VENDOR_FILTER")
        if self.changes == Changes.SNAPSHOT and self.requests_per_run < 1:
            raise ValueError(f"{self.resource}: a snapshot stream says its requests_per_run")

    @property
    def in_every_incremental(self) -> bool:
        """True when the stream runs in every scheduled incremental (a vendor filter or a
        snapshot); webhook streams depend on the connection (`connectors.schedules`)."""
        return self.changes in Changes.INCREMENTAL

    @property
    def title(self) -> str:
        """The stream's human title (``label``, else ``ticket_comments`` -> "Ticket comments")."""
        return self.label or self.resource.replace("_", " ").capitalize()


__all__ = [
    "Changes",
    "MappingError",
    "StreamSpec",
    "custom_field_map",
    "opt_decimal",
    "opt_dt",
    "opt_int",
    "require_id",
    "text",
]
