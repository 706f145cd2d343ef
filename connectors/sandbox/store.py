"""The sandbox's own SQLite state store (no Django models).

Every vendor record is one row of ``rec``: the vendor's JSON body in ``data`` plus a few indexed
columns derived from it (``parent_id``, ``customer_id``, ``user_id``, ``status``, ``ref``, ``ext``,
``created_at``, ``updated_at``, ``search``) so list endpoints filter and page in SQL on an index
and stay fast at 1 000 000 rows: a page whose predecessor was served starts after that page's
last row (keyset, ``keyset.py``) instead of ``OFFSET``, and counts are kept until a write. Which columns a kind fills is
declared once per kind with :func:`register_kind` (in ``connectors/sandbox/<vendor>/records.py``).

``kind`` names are ``<vendor>.<resource>`` (``syncro.ticket``, ``synchroteam.job``, ...).
Timestamps in the indexed columns are :func:`connectors.sandbox.clock.sortable` strings (UTC).

The ledger of writes (every non-GET request received, see ``ledger.py``) lives in the same
database, in table ``ledger``, written in the same transaction as the records it reports.

One connection is shared by all threads behind a re-entrant lock: the sandbox serialises
requests, which keeps the emulation simple and is fast enough (see docs/sandbox.md benchmarks).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .keyset import PageBoundaries, after_condition, after_params, sort_key

COLUMNS = (
    "parent_id",
    "customer_id",
    "user_id",
    "status",
    "ref",
    "ext",
    "created_at",
    "updated_at",
    "search",
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seq (kind TEXT PRIMARY KEY, next_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rec (
    pk INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    id INTEGER NOT NULL,
    parent_id INTEGER,
    customer_id INTEGER,
    user_id INTEGER,
    status TEXT,
    ref TEXT,
    ext TEXT,
    created_at TEXT,
    updated_at TEXT,
    search TEXT,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    vendor TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    body TEXT NOT NULL,
    auth TEXT,
    client TEXT,
    status INTEGER,
    fault TEXT,
    records TEXT NOT NULL
);
"""

INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS rec_kind_id ON rec(kind, id);
CREATE INDEX IF NOT EXISTS rec_kind_updated ON rec(kind, updated_at, id);
CREATE INDEX IF NOT EXISTS rec_kind_parent ON rec(kind, parent_id, id) WHERE parent_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS rec_kind_customer ON rec(kind, customer_id, id) WHERE customer_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS rec_kind_status ON rec(kind, status, id) WHERE status IS NOT NULL;
CREATE INDEX IF NOT EXISTS rec_kind_user ON rec(kind, user_id, id) WHERE user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS rec_kind_ref ON rec(kind, ref) WHERE ref IS NOT NULL;
CREATE INDEX IF NOT EXISTS rec_kind_ext ON rec(kind, ext) WHERE ext IS NOT NULL;
CREATE INDEX IF NOT EXISTS ledger_vendor ON ledger(vendor, seq);
"""

ColumnsFn = Callable[[dict[str, Any]], dict[str, Any]]

# kind -> function(data) -> {"id": int, <any of COLUMNS>: value}
_KINDS: dict[str, ColumnsFn] = {}


def register_kind(kind: str, columns: ColumnsFn) -> None:
    """Declare how a record kind's indexed columns derive from its JSON body.

    ``columns(data)`` must return ``{"id": int, ...}`` with any subset of :data:`COLUMNS`.
    """
    _KINDS[kind] = columns


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def fits_int64(value: Any) -> bool:
    """False only for a Python ``int`` outside SQLite's 64-bit INTEGER (``-2**63 ..
    2**63 - 1``), which sqlite3 refuses with ``OverflowError``; True for anything else.

    The store never passes such a value to SQLite (issue 15 item 2): no record can have that
    id (:meth:`Store.get` -> None), and a :class:`Where` naming one matches nothing, as
    ActiveRecord (Rails >= 6.1) turns an out-of-range integer predicate into ``1=0``.
    """
    return not isinstance(value, int) or INT64_MIN <= value <= INT64_MAX


def as_int(value: Any) -> int | None:
    """``int(value)`` for an id or a number a client sent, or None when it is not one: text
    that is not an integer, a list, None, and JSON's ``1e400`` (``inf``: ``int`` raises
    ``OverflowError``) or ``NaN``. The result may still be outside 64 bits (`fits_int64`)."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def dumps(obj: Any) -> str:
    """Compact JSON text of ``obj`` (how records are stored)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Where:
    """One SQL condition on the ``rec`` columns; ``sql`` is written by sandbox code only."""

    sql: str
    params: tuple[Any, ...] = ()


class Store:
    """SQLite store. ``Store(None)`` (or ``":memory:"``) is in-memory; a path is a file that
    survives restarts.

    All methods are thread-safe. Use ``with store.transaction():`` to group writes atomically
    (re-entrant; the outermost block commits, an exception rolls everything back).
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = None if path in (None, ":memory:") else Path(path)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self._depth = 0
        # COUNT(*) per (kind, filter) and page boundaries per query, dropped on a write to the kind
        self._counts: dict[tuple[Any, ...], int] = {}
        self._pages = PageBoundaries()
        #: serve page N+1 after page N by keyset (False: always OFFSET, the benchmark's baseline)
        self.keyset = True
        self._connect()

    def _connect(self) -> None:
        self.conn = sqlite3.connect(
            str(self.path) if self.path else ":memory:",
            check_same_thread=False,
            isolation_level=None,
        )
        if self.path is not None:
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA temp_store=MEMORY")
        self.conn.execute("PRAGMA cache_size=-65536")
        self.conn.executescript(SCHEMA)
        self.conn.executescript(INDEXES)

    # --- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Close the database connection."""
        with self.lock:
            self.conn.close()

    def wipe(self) -> None:
        """Drop every record, sequence, meta value and ledger row (schema recreated). A file
        store is deleted and recreated, so a regenerated data set does not inherit free pages."""
        with self.lock:
            self._forget(None)
            if self.path is not None:
                self.conn.close()
                for suffix in ("", "-wal", "-shm"):
                    Path(str(self.path) + suffix).unlink(missing_ok=True)
                self._connect()
                return
            self.conn.executescript(
                "DROP TABLE IF EXISTS rec; DROP TABLE IF EXISTS seq; "
                "DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS ledger;"
            )
            self.conn.executescript(SCHEMA)
            self.conn.executescript(INDEXES)

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Fast path for generating large data sets: indexes dropped and rebuilt at the end,
        one transaction, ``synchronous=OFF`` for its duration."""
        with self.lock:
            self.conn.execute("PRAGMA synchronous=OFF")
            for line in INDEXES.strip().splitlines():
                name = line.split("EXISTS ")[1].split(" ON")[0]  # index names are ours
                self.conn.execute(f"DROP INDEX IF EXISTS {name}")
            try:
                with self.transaction():
                    yield
            finally:
                self.conn.executescript(INDEXES)
                self.conn.execute("ANALYZE")
                self.conn.execute("PRAGMA synchronous=NORMAL")
                if self.path is not None:
                    self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One SQLite transaction under the store lock; rolled back if the block raises (nests: inner blocks join the outer one)."""
        with self.lock:
            if self._depth == 0:
                self.conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self.conn.execute("ROLLBACK")
                    self._forget(None)
                raise
            else:
                self._depth -= 1
                if self._depth == 0:
                    self.conn.execute("COMMIT")

    def _forget(self, kind: str | None) -> None:
        """Drop what is cached about ``kind`` (None: every kind): counts and page boundaries."""
        if kind is None:
            self._counts.clear()
        else:
            for key in [k for k in self._counts if k[0] == kind]:
                del self._counts[key]
        self._pages.forget(kind)

    # --- meta and sequences ------------------------------------------------------------------
    def meta_get(self, key: str, default: Any = None) -> Any:
        """The JSON value stored under ``key``, or ``default``."""
        with self.lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def meta_set(self, key: str, value: Any) -> None:
        """Store ``value`` (JSON-serialisable) under ``key``."""
        with self.lock:
            self.conn.execute(
                "INSERT INTO meta(key, value) VALUES(?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, dumps(value)),
            )

    def set_sequence(self, kind: str, next_id: int) -> None:
        """Make ``next_id(kind)`` answer ``next_id`` next."""
        with self.lock:
            self.conn.execute(
                "INSERT INTO seq(kind, next_id) VALUES(?, ?) "
                "ON CONFLICT(kind) DO UPDATE SET next_id=excluded.next_id",
                (kind, next_id),
            )

    def next_id(self, kind: str, count: int = 1, *, start: int = 1) -> int:
        """Reserve ``count`` consecutive ids for ``kind``; returns the first one."""
        with self.transaction():
            row = self.conn.execute("SELECT next_id FROM seq WHERE kind=?", (kind,)).fetchone()
            first = row[0] if row else start
            self.set_sequence(kind, first + count)
        return first

    # --- records -----------------------------------------------------------------------------
    def _row(self, kind: str, data: dict[str, Any]) -> tuple[Any, ...]:
        cols = _KINDS[kind](data)
        # an index column cannot hold an out-of-range int (the JSON body keeps it)
        values = (v if fits_int64(v) else None for v in (cols.get(c) for c in COLUMNS))
        return (kind, cols["id"], *values, dumps(data))

    def put(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        """Insert or replace one record (its ``id`` comes from the kind's columns function)."""
        with self.lock:
            self._forget(kind)
            self.conn.execute(
                "INSERT INTO rec(kind, id, parent_id, customer_id, user_id, status, ref, ext, "
                "created_at, updated_at, search, data) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(kind, id) DO UPDATE SET parent_id=excluded.parent_id, "
                "customer_id=excluded.customer_id, user_id=excluded.user_id, "
                "status=excluded.status, ref=excluded.ref, ext=excluded.ext, "
                "created_at=excluded.created_at, updated_at=excluded.updated_at, "
                "search=excluded.search, data=excluded.data",
                self._row(kind, data),
            )
        return data

    def put_many(self, kind: str, records: Iterable[dict[str, Any]]) -> int:
        """Bulk insert (``executemany``); the records must be new. Returns the count."""
        rows = [self._row(kind, d) for d in records]
        with self.lock:
            self._forget(kind)
            self.conn.executemany(
                "INSERT INTO rec(kind, id, parent_id, customer_id, user_id, status, ref, ext, "
                "created_at, updated_at, search, data) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
        return len(rows)

    def get(self, kind: str, id: int) -> dict[str, Any] | None:
        """The record ``id`` of ``kind``, or None (always None for an ``id`` no row can have)."""
        if not fits_int64(id):
            return None
        with self.lock:
            row = self.conn.execute(
                "SELECT data FROM rec WHERE kind=? AND id=?", (kind, id)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def delete(self, kind: str, id: int) -> bool:
        """Delete one record; False when it did not exist."""
        if not fits_int64(id):
            return False
        with self.lock:
            self._forget(kind)
            cur = self.conn.execute("DELETE FROM rec WHERE kind=? AND id=?", (kind, id))
        return cur.rowcount > 0

    def delete_where(self, kind: str, where: Sequence[Where] = ()) -> int:
        """Delete the records of ``kind`` matching every ``where``; returns how many."""
        sql, params = self._where(kind, where)
        with self.lock:
            self._forget(kind)
            cur = self.conn.execute(f"DELETE FROM rec WHERE {sql}", params)  # noqa: S608 - Where is ours
        return cur.rowcount

    @staticmethod
    def _where(kind: str, where: Sequence[Where]) -> tuple[str, list[Any]]:
        parts = ["kind=?"]
        params: list[Any] = [kind]
        for w in where:
            if all(fits_int64(p) for p in w.params):
                parts.append(f"({w.sql})")
                params.extend(w.params)
            else:  # an integer no row can hold: the condition matches nothing
                parts.append("0")
        return " AND ".join(parts), params

    def select_raw(
        self,
        kind: str,
        where: Sequence[Where] = (),
        *,
        order: str = "id",
        desc: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[str]:
        """Raw JSON bodies, ordered by ``order`` (a column name; ``id`` breaks ties). A
        ``limit`` or ``offset`` beyond 64 bits is clamped (an offset that far is past every row).

        The rows are those of ``LIMIT limit OFFSET offset``; when an earlier call of the same
        query ended at (or before) ``offset`` and the kind was not written since, they are read
        after that call's last row instead (``keyset.py``), so a sweep never re-steps earlier rows.
        """
        if order not in ("id", *COLUMNS):
            raise ValueError(f"cannot order by {order!r}")
        sql, params = self._where(kind, where)
        direction = "DESC" if desc else "ASC"
        order_sql = f"{order} {direction}" + (f", id {direction}" if order != "id" else "")
        if limit is None:
            query = f"SELECT data FROM rec WHERE {sql} ORDER BY {order_sql}"  # noqa: S608
            with self.lock:
                return [r[0] for r in self.conn.execute(query, params)]
        if offset > INT64_MAX:
            return []
        limit = min(limit, INT64_MAX)
        key = (kind, sql, tuple(params), order, desc)
        with self.lock:
            start = self._pages.nearest(key, offset) if self.keyset and offset else None
            if start is None:
                skip, cond, cond_params = offset, "", ()
            else:
                skip = offset - start[0]
                cond = " AND " + after_condition(order, desc)
                cond_params = after_params(order, start[1])
            query = (
                f"SELECT data, {order}, id FROM rec WHERE {sql}{cond} "  # noqa: S608 - ours
                f"ORDER BY {order_sql} LIMIT ? OFFSET ?"
            )
            rows = self.conn.execute(query, [*params, *cond_params, limit, skip]).fetchall()
            if rows and self.keyset:
                _, value, last_id = rows[-1]
                boundary = sort_key(order, value, last_id)
                if boundary is not None:
                    self._pages.remember(key, offset + len(rows), boundary)
        return [r[0] for r in rows]

    def select(self, kind: str, where: Sequence[Where] = (), **kw: Any) -> list[dict[str, Any]]:
        """Records of ``kind`` (decoded dicts); keyword arguments as :meth:`select_raw`."""
        return [json.loads(r) for r in self.select_raw(kind, where, **kw)]

    def count(self, kind: str, where: Sequence[Where] = ()) -> int:
        """Number of records of ``kind`` matching every ``where`` (kept until the kind is written)."""
        sql, params = self._where(kind, where)
        key = (kind, sql, *params)
        with self.lock:
            if key not in self._counts:
                query = f"SELECT COUNT(*) FROM rec WHERE {sql}"  # noqa: S608 - Where is sandbox code
                self._counts[key] = self.conn.execute(query, params).fetchone()[0]
            return self._counts[key]

    def ids(self, kind: str, where: Sequence[Where] = ()) -> list[int]:
        """Ids of the records of ``kind`` matching every ``where``, ascending."""
        sql, params = self._where(kind, where)
        with self.lock:
            query = f"SELECT id FROM rec WHERE {sql} ORDER BY id"  # noqa: S608 - Where is sandbox code
            return [r[0] for r in self.conn.execute(query, params)]

    def counts_by_kind(self) -> dict[str, int]:
        """``{kind: number of records}``."""
        with self.lock:
            return dict(self.conn.execute("SELECT kind, COUNT(*) FROM rec GROUP BY kind"))

    def size_bytes(self) -> int:
        """On-disk size (database + WAL) in bytes; 0 for an in-memory store."""
        if self.path is None:
            return 0
        total = 0
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(self.path) + suffix)
            if p.exists():
                total += p.stat().st_size
        return total
