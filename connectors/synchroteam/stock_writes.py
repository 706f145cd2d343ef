"""The Synchroteam part request write for the outbox: sent once, found again by its ``myId``.

``POST partrequest/send`` follows the ``<resource>/send`` upsert convention (vendor-apis.md
§2.3): without ``id`` it creates, and a ``myId`` the account already knows answers that record
instead of a second one. Synchroteam has no idempotency key, so the request carries the write's
marker as its ``myId`` (as job creates do, `connectors.synchroteam.writes`), and an ambiguous
answer (a timeout after the vendor committed) is settled by ``partrequest/details?myId=``.

=================================  =================================  ========================
operation                          body                               found again through
=================================  =================================  ========================
synchroteam.partrequest.create     ``partrequest/send`` with ``myId``  ``partrequest/details?
                                   = marker, ``part``, ``quantity``,   myId=``
                                   ``depot``, ``fromDepot``
=================================  =================================  ========================

The request body's shape is the sandbox's reading (README "Synchroteam inventory", open
questions): one part per request, ``depot`` the depot to fill, ``fromDepot`` the source.
"""

from __future__ import annotations

from connectors.errors import AmbiguousError, NotFound
from connectors.outbox.handlers import BaseHandler, SendResult, register
from connectors.synchroteam.models import SynchroteamPartRequest, SynchroteamStockLevel
from connectors.synchroteam.stock import map_part_request, map_stock_level

#: Operation name (the outbox's `VendorWrite.operation`); import it, never spell it.
PART_REQUEST_CREATE = "synchroteam.partrequest.create"


def _unwrap(body) -> dict | None:
    if isinstance(body, dict) and isinstance(body.get("data"), dict) and "id" not in body:
        body = body["data"]
    return body if isinstance(body, dict) else None


def part_request_details(client, *, my_id: str) -> dict | None:
    """``GET partrequest/details?myId=`` -> the request, or None on 404 (other errors raise)."""
    try:
        return _unwrap(client.get("partrequest/details", params={"myId": my_id}, kind="write"))
    except NotFound:
        return None


class PartRequestCreate(BaseHandler):
    """``POST partrequest/send`` without ``id``: a new request whose ``myId`` is the marker."""

    vendor = "synchroteam"
    operation = PART_REQUEST_CREATE
    mirrors = "part_requests"
    method = "POST"
    path = "/partrequest/send"
    label = "Part request"

    def apply_marker(self, payload: dict, marker: str) -> dict:
        body = dict(payload)
        body.pop("id", None)  # an id would answer another request instead of creating one
        body["myId"] = marker
        return body

    def describe(self, target: dict, payload: dict) -> str:
        part = (payload.get("part") or {}).get("reference") or (payload.get("part") or {}).get("id")
        source = (payload.get("fromDepot") or {}).get("id")
        into = (payload.get("depot") or {}).get("id")
        return (
            f"part request {payload.get('myId', '')}: {payload.get('quantity')} × {part} "
            f"into depot {into}" + (f" from depot {source}" if source else "")
        )

    def send(self, client, write) -> SendResult:
        answer = client.send("partrequest", dict(write.payload))
        if answer.get("id") in (None, ""):
            raise AmbiguousError(
                "Synchroteam answered 2xx but the part request has no id", vendor="synchroteam"
            )
        return SendResult(str(answer["id"]), answer)

    def find(self, client, write) -> list[str]:
        found = part_request_details(client, my_id=write.payload["myId"])
        if found and found.get("id") is not None:
            return [str(found["id"])]
        return []

    def mirror_read(self, client, write, remote_id: str, response) -> dict:
        """The request (its answer, or one ``partrequest/details`` when the write was
        confirmed by a look) and the part's levels in every depot (one ``stockpart/list?
        partId=``, at most 100 depots), so the page shows the new levels at once."""
        request = _unwrap(response) or part_request_details(client, my_id=write.payload["myId"])
        part_id = (write.payload.get("part") or {}).get("id")
        levels = client.list_page("stock_levels", params={"partId": part_id}).records
        return {"request": request, "levels": levels}

    def write_through(self, write) -> None:
        """Upsert the request and the part's levels into the mirror (`mirror_answer`)."""
        record = getattr(write, "mirror_record", None) or {"request": _unwrap(write.response)}
        if record.get("request"):
            self.mirror_answer(
                write, map_part_request, SynchroteamPartRequest, record=record["request"]
            )
        for level in record.get("levels") or []:
            self.mirror_answer(write, map_stock_level, SynchroteamStockLevel, record=level)


#: the outbox handlers of Synchroteam inventory writes (exposed on the vendor descriptor)
HANDLERS = (PartRequestCreate(),)
for _handler in HANDLERS:
    register(_handler)
