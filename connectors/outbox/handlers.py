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
* `mirror_read(client, write, remote_id, response)`: when the confirmed write's own answer is
  partial or absent (a write confirmed by `find` has no response body; ``POST /invoices``
  answers without its lines), one targeted GET of the record to mirror, made by the executor
  before the confirming transaction (never across it), through the write's rate-limited client;
  returns the record or None (the answer is enough). `find`, `precheck` and `after_confirm` may
  instead leave a record they already read on ``write.mirror_record`` so nothing is read twice;
* `write_through(write)`: an optional update of the vendor's mirror from the confirmed answer
  (``write.mirror_record``, else ``write.response``), run in the transaction that confirms the
  write, inside a savepoint: a failure is logged and left to the next sync, never undoing the
  confirmation (`connectors.outbox.services.set_state`).
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
    #: The sync stream whose mirror `write_through` writes (``"invoices"``): after a write-
    #: through only that stream's event watchers scan ("" = not declared, every watcher does).
    mirrors: str

    def apply_marker(self, payload: dict, marker: str) -> dict: ...

    def describe(self, target: dict, payload: dict) -> str: ...

    def precheck(self, client: Any, write: Any) -> str | None: ...

    def send(self, client: Any, write: Any) -> SendResult: ...

    def find(self, client: Any, write: Any) -> list[str]: ...

    def after_confirm(self, client: Any, write: Any, remote_id: str) -> str: ...

    def request_line(self, target: dict) -> str: ...

    def mirror_read(self, client: Any, write: Any, remote_id: str, response: Any) -> Any: ...

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
    mirrors = ""

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

    def mirror_read(self, client: Any, write: Any, remote_id: str, response: Any) -> Any:
        return None

    def write_through(self, write: Any) -> None:
        return None

    @staticmethod
    def answer_of(write: Any) -> dict | None:
        """The record to mirror for a confirmed `write`: what the executor read for the mirror
        (``write.mirror_record``), else the vendor's answer to the write (``write.response``);
        None when neither is a JSON object."""
        for record in (getattr(write, "mirror_record", None), write.response):
            if isinstance(record, dict) and record:
                return record
        return None

    @staticmethod
    def mirror_answer(write: Any, map_record, model, record: dict | None = None):
        """Upsert one vendor record (`record`, default `answer_of(write)`, with an ``id``) into
        the mirror `model` of the write's connection through the vendor mapping `map_record`.

        Returns the mirror row, or None when there is nothing to write: no record or no id
        (a write confirmed by a later look with nothing read), a record the mapping refuses
        (the next sync quarantines it with its reason), or a mirror row the vendor changed
        more recently than this answer (``vendor_updated_at`` newer: the answer is stale).
        """
        from connectors.mapping import MappingError

        if record is None:
            record = BaseHandler.answer_of(write)
        if not isinstance(record, dict) or record.get("id") is None:
            return None
        try:
            values = map_record(record)
        except MappingError:
            return None
        vendor_id = values.pop("vendor_id")
        updated = values.get("vendor_updated_at")
        current = (
            model.objects.filter(connection_id=write.connection_id, vendor_id=vendor_id)
            .values_list("vendor_updated_at", flat=True)
            .first()
        )
        if current is not None and updated is not None and current > updated:
            return None
        row, _ = model.objects.update_or_create(
            connection_id=write.connection_id,
            vendor_id=vendor_id,
            defaults={
                **values,
                "tenant_id": write.tenant_id,
                "raw": record,
                "is_deleted": False,
                "deleted_at": None,
            },
        )
        return row


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
