"""The ledger: every write request (any method but GET/HEAD) the sandbox received, whatever
happened to it, with the records it created, changed or deleted.

Tests and the demo use it to prove "one approval, one vendor record": e.g. ::

    posts = sandbox.ledger.writes(vendor="syncro", method="POST", path="/tickets/*/comment")
    assert [e.status for e in posts] == [200]

Entries are rows of the store's ``ledger`` table, written in the same lock as the records.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import asdict, dataclass
from typing import Any

from .store import Store, dumps


@dataclass(frozen=True)
class LedgerEntry:
    """One write received.

    ``path`` is vendor-relative (``/tickets/1000001/comment``); ``body`` is the parsed JSON body
    (or the raw text when it was not JSON); ``auth`` names the principal (Syncro
    ``user:1750``, Synchroteam ``domain:demofield``, FieldCamp ``key:fc_live_…``; None when
    authentication failed); ``status`` is what the client was sent (or would have been, for
    timeouts and resets); ``handler_status`` is the emulated vendor's own answer before any
    after-commit fault; ``fault`` is the fault action applied, if any; ``records`` lists
    ``{"kind", "id", "op"}`` (op: created/updated/deleted) the request committed.
    """

    seq: int
    at: str
    vendor: str
    method: str
    path: str
    query: str
    body: Any
    auth: str | None
    client: str | None
    status: int
    handler_status: int | None
    fault: str | None
    records: list[dict[str, Any]]

    @property
    def committed(self) -> bool:
        """True when the request changed records (the vendor kept the write)."""
        return bool(self.records)

    def created(self, kind: str | None = None) -> list[int]:
        """Ids of the records the request created (of ``kind`` only, if given)."""
        return [
            r["id"]
            for r in self.records
            if r["op"] == "created" and (kind is None or r["kind"] == kind)
        ]

    def to_dict(self) -> dict[str, Any]:
        """The entry as a JSON-ready dict."""
        return asdict(self)


class Ledger:
    """Every write (non-GET request) the sandbox received, in the store's ``ledger`` table."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(
        self,
        *,
        at: str,
        vendor: str,
        method: str,
        path: str,
        query: str,
        body: bytes,
        auth: str | None,
        client: str | None,
        status: int,
        handler_status: int | None,
        fault: str | None,
        records: list[dict[str, Any]],
    ) -> None:
        """Append one entry (called by the app inside the store lock, in the transaction of the records it reports)."""
        text = body.decode("utf-8", errors="replace")
        payload = {"records": records, "handler_status": handler_status}
        with self.store.lock:
            self.store.conn.execute(
                "INSERT INTO ledger(at, vendor, method, path, query, body, auth, client, status, "
                "fault, records) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    at,
                    vendor,
                    method,
                    path,
                    query,
                    text,
                    auth,
                    client,
                    status,
                    fault,
                    dumps(payload),
                ),
            )

    def writes(
        self,
        *,
        vendor: str | None = None,
        method: str | None = None,
        path: str | None = None,
        since_seq: int = 0,
        status: int | None = None,
    ) -> list[LedgerEntry]:
        """Entries in arrival order; ``path`` is a glob on the vendor-relative path."""
        sql = "SELECT * FROM ledger WHERE seq > ?"
        params: list[Any] = [since_seq]
        if vendor:
            sql += " AND vendor = ?"
            params.append(vendor)
        if method:
            sql += " AND method = ?"
            params.append(method.upper())
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        sql += " ORDER BY seq"
        with self.store.lock:
            cur = self.store.conn.execute(sql, params)
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        out = []
        for r in rows:
            if path and not fnmatch.fnmatchcase(r["path"], path):
                continue
            try:
                body: Any = json.loads(r["body"]) if r["body"] else None
            except ValueError:
                body = r["body"]
            extra = json.loads(r["records"])
            out.append(
                LedgerEntry(
                    seq=r["seq"],
                    at=r["at"],
                    vendor=r["vendor"],
                    method=r["method"],
                    path=r["path"],
                    query=r["query"],
                    body=body,
                    auth=r["auth"],
                    client=r["client"],
                    status=r["status"],
                    handler_status=extra["handler_status"],
                    fault=r["fault"],
                    records=extra["records"],
                )
            )
        return out

    def last_seq(self) -> int:
        """The newest entry's sequence number (0 when empty)."""
        with self.store.lock:
            row = self.store.conn.execute("SELECT MAX(seq) FROM ledger").fetchone()
        return row[0] or 0

    def clear(self) -> None:
        """Forget every entry."""
        with self.store.lock:
            self.store.conn.execute("DELETE FROM ledger")
