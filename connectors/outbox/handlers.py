"""The registry of write operations the outbox can perform.

Each vendor module (``connectors/<vendor>/writes.py``) registers one `WriteHandler` per
operation, named by a constant of that module (``COMMENT_CREATE = "syncro.comment.create"``).
A handler states its request (`method`, `path` with ``{target}`` fields, a human `label`) and
knows these things about its vendor call:

* `apply_marker(payload, marker)`: the exact body to send, with the write's marker placed in a
  field the vendor returns (so `find` can recognise the record later);
* `precheck(client, write)`: look before each send whether the effect already exists (for
  calls such as Syncro's ``charge_timer_entry`` that bill twice if repeated); returns a remote
  id when it does;
* `send(client, write)`: perform the call once and return the created record's id;
* `find(client, write)`: after an ambiguous answer, list the ids of vendor records carrying the
  marker (an empty list means "not there");
* `after_confirm(client, write, remote_id)`: an optional check after success (the Syncro invoice
  step verifies its line items arrived); returns a problem sentence or "";
* `describe(target, payload)`: one line a person reads in the preview ("comment “Work done” on
  ticket 123");
* `write_through(write)`: an optional update of the vendor's mirror from the confirmed answer,
  run in the transaction that confirms the write (a new Syncro ticket is in the mirror at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class SendResult:
    remote_id: str
    response: Any = None


class WriteHandler(Protocol):
    operation: str
    vendor: str
    #: The HTTP method and path (relative to the connection's API base, ``{name}`` filled from
    #: the write's target) shown in the preview.
    method: str
    path: str
    label: str
    #: True when sending the same body twice has no extra effect (PUT of fields).
    idempotent: bool

    def apply_marker(self, payload: dict, marker: str) -> dict: ...

    def describe(self, target: dict, payload: dict) -> str: ...

    def precheck(self, client: Any, write: Any) -> str | None: ...

    def send(self, client: Any, write: Any) -> SendResult: ...

    def find(self, client: Any, write: Any) -> list[str]: ...

    def after_confirm(self, client: Any, write: Any, remote_id: str) -> str: ...

    def request_line(self, target: dict) -> str: ...

    def write_through(self, write: Any) -> None: ...


class BaseHandler:
    """Defaults for a `WriteHandler`: the payload sent as given, no check before the first send,
    nothing to check after success. Subclasses set `operation` and `vendor` and implement `send`
    and `find`."""

    operation = ""
    vendor = ""
    method = "POST"
    path = ""
    label = ""
    idempotent = False

    def apply_marker(self, payload: dict, marker: str) -> dict:
        return dict(payload)

    def describe(self, target: dict, payload: dict) -> str:
        return self.label or self.operation

    def request_line(self, target: dict) -> str:
        """``"POST /tickets/123/comment"``: the method and the path with the target's ids."""
        try:
            path = self.path.format(**target)
        except (KeyError, IndexError):
            path = self.path
        return f"{self.method} {path}"

    def precheck(self, client: Any, write: Any) -> str | None:
        return None

    def after_confirm(self, client: Any, write: Any, remote_id: str) -> str:
        return ""

    def write_through(self, write: Any) -> None:
        return None

    @staticmethod
    def mirror_answer(write: Any, map_record, model) -> None:
        """Upsert the vendor's answer to `write` (its `response`, one record with an ``id``)
        into the mirror `model` through the vendor mapping `map_record`. An answer without an
        id (a write confirmed by a later look) or one the mapping refuses is left for the next
        sync, which quarantines it with its reason."""
        from connectors.mapping import MappingError

        record = write.response if isinstance(write.response, dict) else None
        if not record or record.get("id") is None:
            return
        try:
            values = map_record(record)
        except MappingError:
            return
        vendor_id = values.pop("vendor_id")
        model.objects.update_or_create(
            connection=write.connection,
            vendor_id=vendor_id,
            defaults={**values, "tenant_id": write.tenant_id, "raw": record},
        )


_HANDLERS: dict[str, WriteHandler] = {}


class UnknownOperation(KeyError):
    """No handler is registered for this operation name."""


def register(handler: WriteHandler) -> WriteHandler:
    """Add `handler` under its `operation` (called once per handler by its vendor module)."""
    _HANDLERS[handler.operation] = handler
    return handler


def handler_for(operation: str) -> WriteHandler:
    """The handler registered for `operation`.

    Raises:
        UnknownOperation: nothing is registered under that name.
    """
    try:
        return _HANDLERS[operation]
    except KeyError:
        raise UnknownOperation(f"No outbox handler for {operation!r}.") from None
