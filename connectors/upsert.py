"""The mirror upsert: one fixed ``INSERT … ON CONFLICT DO UPDATE … WHERE`` per mirror model.

The sync engine writes every page of vendor records through `upsert_rows`. Per mirror model and
database the statement is built once (`statement_for`, cached) and each field gets one converter
from Python to the driver's value, chosen once by field type (`_converter`), so a page costs
one conversion per value and no ORM compiler work. Shape of the statement (PostgreSQL spelling;
SQLite writes ``IS NOT`` for ``IS DISTINCT FROM``)::

    INSERT INTO t (tenant_id, connection_id, vendor_id, …) VALUES (%s, …)
    ON CONFLICT (connection_id, vendor_id) DO UPDATE SET col = excluded.col, …
    WHERE t.col IS DISTINCT FROM excluded.col OR …

The ``WHERE`` compares every vendor-derived column (``raw``, the mapped columns, the soft-delete
flag); ``synced_at`` is written with a change but never compared, so a row the vendor did not
change is not rewritten and keeps its ``synced_at``. No ``RETURNING``: the counts come from one
``SELECT count(*)`` of the page's ids that already exist, taken before the statement, and the
statement's row count (SQLite and psycopg both sum ``executemany`` row counts, and an
``ON CONFLICT`` update whose ``WHERE`` is false counts zero)::

    created   = rows - existing
    updated   = rowcount - created
    unchanged = existing - updated

Full sweeps stamp ``seen_generation`` on the unchanged rows with one more ``UPDATE`` of the
page's ids (deletion detection reads it); the stamp is not a change.

PostgreSQL runs the statement with psycopg's server-side binding (a prepared statement sent in
one pipeline by ``executemany``), or with ``SYNC_PG_UPSERT = "copy"``: ``COPY`` into a temporary
table and one ``INSERT … SELECT … ON CONFLICT`` merge (`benchmarks/upsert_bench.py` measures
both; executemany is the default because it was faster at page sizes of 25-100 rows).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connections, models

if TYPE_CHECKING:
    from connectors.models import Connection, MirrorModel

# columns the conflict target names and the upsert never changes
CONFLICT_COLUMNS = ("connection_id", "vendor_id")
_NEVER_UPDATE = {"tenant", "connection", "vendor_id"}
# written with a change, never a reason to write
_NOT_COMPARED = {"synced_at", "seen_generation"}


@dataclass(frozen=True)
class UpsertCounts:
    """What `upsert_rows` did: rows created, rows updated (a compared column changed) and
    rows left unchanged (counts of the page's distinct vendor ids)."""

    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class UpsertStatement:
    """The fixed statement of one mirror model on one database.

    Attributes:
        table: the quoted table name.
        fields: the concrete fields written, in column order (no primary key).
        slots: field name and attname -> position in a row.
        converters: per position, Python value -> driver value.
        defaults: a row of converted defaults (engine fields are set per page).
        per_row_defaults: positions whose default is computed per row (callable defaults).
        sql: ``{full: INSERT … ON CONFLICT …}``; the incremental one leaves ``seen_generation``
            alone on existing rows.
        merge_sql: the same from the staging table (PostgreSQL ``COPY`` path).
        columns: the quoted column list.
    """

    table: str
    fields: tuple[models.Field, ...]
    slots: dict[str, int]
    converters: tuple[Callable[[Any], Any], ...]
    defaults: tuple[Any, ...]
    per_row_defaults: tuple[int, ...]
    sql: dict[bool, str]
    merge_sql: dict[bool, str]
    columns: str


_CACHE: dict[tuple[str, str, str], UpsertStatement] = {}


def _generic(field: models.Field, connection) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        return field.get_db_prep_save(value, connection)

    return convert


def _converter(field: models.Field, connection) -> Callable[[Any], Any]:
    """Python value -> driver value for `field`, as ``field.get_db_prep_save`` gives it, with
    direct paths for the types mirror rows are made of (anything unusual takes the ORM's)."""
    generic = _generic(field, connection)
    kind = field.get_internal_type()
    ops = connection.ops
    if kind == "JSONField":
        encoder = field.encoder

        def convert_json(value: Any) -> Any:
            return ops.adapt_json_value(value, encoder)

        return convert_json
    if kind == "DateTimeField":
        adapt = ops.adapt_datetimefield_value
        if connection.vendor == "sqlite" and connection.timezone_name == "UTC":
            # what SQLite's adapt_datetimefield_value makes of an aware value, without its checks
            def adapt(value: dt.datetime) -> str:
                if value.tzinfo is not dt.UTC:
                    value = value.astimezone(dt.UTC)
                return str(value)[:-6]  # without "+00:00"

        def convert_datetime(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is dt.datetime and value.tzinfo is not None:
                return adapt(value)
            return generic(value)  # naive or a string: the ORM's warning and parsing

        return convert_datetime
    passthrough: tuple[type, ...] = ()
    if kind in {
        "BigIntegerField",
        "IntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "PositiveBigIntegerField",
        "SmallIntegerField",
    }:
        passthrough = (int,)
    elif kind in {"CharField", "TextField"}:
        passthrough = (str,)
    elif kind == "BooleanField":
        passthrough = (bool,)
    if not passthrough:
        return generic

    def convert(value: Any) -> Any:
        if value is None or type(value) in passthrough:
            return value
        return generic(value)

    return convert


def _quote(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def statement_for(model: type[MirrorModel], using: str = "default") -> UpsertStatement:
    """The cached `UpsertStatement` of `model` on database `using`."""
    connection = connections[using]
    key = (connection.vendor, using, model._meta.label)
    if key in _CACHE:
        return _CACHE[key]
    q = connection.ops.quote_name
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    slots: dict[str, int] = {}
    for i, f in enumerate(fields):
        slots[f.name] = i
        slots[f.attname] = i
    converters = tuple(_converter(f, connection) for f in fields)
    defaults, per_row = [], []
    for i, f in enumerate(fields):
        if f.has_default() and callable(f.default) and f.default not in (dict, list):
            per_row.append(i)
            defaults.append(None)
        else:
            defaults.append(converters[i](f.get_default()))  # "" for text, else None
    table = q(model._meta.db_table)
    columns = ", ".join(q(f.column) for f in fields)
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    conflict = ", ".join(q(c) for c in CONFLICT_COLUMNS)
    sql, merge_sql = {}, {}
    for full in (False, True):
        updated = [
            f
            for f in fields
            if f.name not in _NEVER_UPDATE and (full or f.name != "seen_generation")
        ]
        compared = [f for f in updated if f.name not in _NOT_COMPARED]
        tail = (
            f" ON CONFLICT ({conflict}) DO UPDATE SET "
            + ", ".join(f"{q(f.column)} = excluded.{q(f.column)}" for f in updated)
            + " WHERE "
            + " OR ".join(
                f"{table}.{q(f.column)} {distinct} excluded.{q(f.column)}" for f in compared
            )
        )
        placeholders = ", ".join(["%s"] * len(fields))
        # names are the model's quoted columns, values are parameters
        insert = f"INSERT INTO {table} ({columns}) "  # noqa: S608
        sql[full] = f"{insert}VALUES ({placeholders}){tail}"
        merge_sql[full] = f"{insert}SELECT {columns} FROM {q(_stage_name(model))}{tail}"  # noqa: S608
    statement = UpsertStatement(
        table=table,
        fields=fields,
        slots=slots,
        converters=converters,
        defaults=tuple(defaults),
        per_row_defaults=tuple(per_row),
        sql=sql,
        merge_sql=merge_sql,
        columns=columns,
    )
    _CACHE[key] = statement
    return statement


_UPDATES: dict[tuple, tuple[str, list[Callable[[Any], Any]]]] = {}


def update_by_pk(
    model: type[models.Model],
    pk: int,
    *,
    add: dict[str, int] | None = None,
    assign: dict[str, Any] | None = None,
    where: dict[str, Any] | None = None,
    using: str = "default",
) -> int:
    """``UPDATE model SET f = f + n …, g = value … WHERE pk = pk AND h = value …``: one
    statement built once per model and set of names (cached), values converted by field type
    as in `upsert_rows`. The engine's per-page updates (fence, run counters) use it instead
    of compiling an ORM ``update()`` per page. Returns the row count (0: `where` no longer
    holds). Raises FieldDoesNotExist for an unknown name."""
    add, assign, where = add or {}, assign or {}, where or {}
    db = connections[using]
    key = (db.vendor, using, model._meta.label, tuple(add), tuple(assign), tuple(where))
    if key not in _UPDATES:
        q = db.ops.quote_name
        fields = [model._meta.get_field(n) for n in (*add, *assign, *where)]
        cols = [q(f.column) for f in fields]
        n_add, n_assign = len(add), len(assign)
        sets = [f"{c} = {c} + %s" for c in cols[:n_add]]
        sets += [f"{c} = %s" for c in cols[n_add : n_add + n_assign]]
        conds = [f"{q(model._meta.pk.column)} = %s"]
        conds += [f"{c} = %s" for c in cols[n_add + n_assign :]]
        sql = (
            f"UPDATE {q(model._meta.db_table)} SET {', '.join(sets)} "  # noqa: S608
            f"WHERE {' AND '.join(conds)}"
        )
        _UPDATES[key] = (sql, [_converter(f, db) for f in fields])
    sql, converters = _UPDATES[key]
    values = (*add.values(), *assign.values())
    params = [conv(v) for conv, v in zip(converters, values, strict=False)]
    params.append(pk)
    params += [conv(v) for conv, v in zip(converters[len(values) :], where.values(), strict=True)]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _stage_name(model: type[MirrorModel]) -> str:
    return f"upsert_stage_{model._meta.db_table}"[:63]


def build_rows(
    statement: UpsertStatement,
    good: dict[Any, tuple[dict, dict]],
    engine_values: dict[str, Any],
) -> list[tuple]:
    """One converted row per ``(values, raw record)`` of `good`; `engine_values` (the
    engine's own fields) are converted once. Raises TypeError for a value naming no field."""
    template = list(statement.defaults)
    slots, conv = statement.slots, statement.converters
    for name, value in engine_values.items():
        template[slots[name]] = conv[slots[name]](value)
    raw_slot = slots["raw"]
    raw_conv = conv[raw_slot]
    engine_slots = {slots[name] for name in engine_values}
    per_row = [
        (i, statement.fields[i]) for i in statement.per_row_defaults if i not in engine_slots
    ]
    rows = []
    for values, record in good.values():
        row = template.copy()
        for i, f in per_row:
            row[i] = conv[i](f.get_default())
        for name, value in values.items():
            try:
                i = slots[name]
            except KeyError:
                raise TypeError(f"mapping gave {name!r}, not a field of the mirror") from None
            row[i] = conv[i](value)
        row[raw_slot] = raw_conv(record)
        rows.append(tuple(row))
    return rows


def _pg_cursor(connection):
    """A psycopg cursor with server-side binding on Django's connection (same transaction), so
    the fixed statement is prepared once and ``executemany`` pipelines the page."""
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def _count_existing(cursor, statement: UpsertStatement, connection_id: int, ids: list, pg: bool):
    q = statement.table
    if pg:
        cursor.execute(
            f"SELECT count(*) FROM {q} WHERE connection_id = %s AND vendor_id = ANY(%s)",  # noqa: S608
            [connection_id, ids],
        )
    else:
        marks = ", ".join(["%s"] * len(ids))
        cursor.execute(
            f"SELECT count(*) FROM {q} WHERE connection_id = %s AND vendor_id IN ({marks})",  # noqa: S608
            [connection_id, *ids],
        )
    return cursor.fetchone()[0]


def _stamp_generation(cursor, statement, connection_id: int, ids: list, generation: int, pg):
    q = statement.table
    if pg:
        where, params = "vendor_id = ANY(%s)", [ids]
    else:
        where, params = f"vendor_id IN ({', '.join(['%s'] * len(ids))})", list(ids)
    cursor.execute(
        f"UPDATE {q} SET seen_generation = %s WHERE connection_id = %s AND {where} "  # noqa: S608
        "AND seen_generation <> %s",
        [generation, connection_id, *params, generation],
    )


def _copy_merge(cursor, statement: UpsertStatement, model, rows: Sequence[tuple], full: bool):
    stage = _quote_pg(_stage_name(model))
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS "  # noqa: S608
        f"AS SELECT {statement.columns} FROM {statement.table} WITH NO DATA"
    )
    with cursor.copy(f"COPY {stage} ({statement.columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cursor.execute(statement.merge_sql[full])
    changed = cursor.rowcount
    cursor.execute(f"TRUNCATE {stage}")  # a later page of the same transaction starts empty
    return changed


def _quote_pg(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def pg_method() -> str:
    """``SYNC_PG_UPSERT``: "executemany" (default: server-side binding, pipelined), "copy"
    (``COPY`` to a temporary table, one merge) or "client" (Django's own cursor, client-side
    binding; for comparison in `benchmarks/upsert_bench.py`)."""
    return getattr(settings, "SYNC_PG_UPSERT", "executemany")


def upsert_rows(
    *,
    spec,
    connection: Connection,
    mapped,
    generation: int,
    full: bool,
    now: dt.datetime,
    using: str = "default",
) -> UpsertCounts:
    """Write the page's good rows with the model's fixed upsert (see the module docstring).

    Args:
        spec: the `StreamSpec` (its ``model`` is written).
        connection: the vendor `Connection` the rows belong to.
        mapped: the `MappedPage`; ``good`` is ``{vendor_id: (values, raw record)}``.
        generation: the sweep's generation (new rows get it; full sweeps stamp every row).
        full: a full sweep (``seen_generation`` is stamped on existing rows too).
        now: the page's ``synced_at``.

    Every row is written as live (``is_deleted`` false, ``deleted_at`` null), so a record that
    comes back after a soft delete counts as updated. Call inside the page's transaction.
    Raises TypeError when a mapping names no field of the model; database errors propagate.
    """
    good = mapped.good
    if not good:
        return UpsertCounts(0, 0, 0)
    model = spec.model
    statement = statement_for(model, using)
    db = connections[using]
    rows = build_rows(
        statement,
        good,
        {
            "tenant": connection.tenant_id,
            "connection": connection.pk,
            "synced_at": now,
            "is_deleted": False,
            "deleted_at": None,
            "seen_generation": generation,
        },
    )
    ids = list(good)
    pg = db.vendor == "postgresql"
    method = pg_method() if pg else "client"
    cursor = db.cursor() if method == "client" else _pg_cursor(db)
    with cursor:
        existing = _count_existing(cursor, statement, connection.pk, ids, pg)
        if method == "copy":
            changed = _copy_merge(cursor, statement, model, rows, full)
        else:
            cursor.executemany(statement.sql[full], rows)
            changed = cursor.rowcount
        if full and existing:
            _stamp_generation(cursor, statement, connection.pk, ids, generation, pg)
    created = len(rows) - existing
    updated = changed - created
    return UpsertCounts(created, updated, existing - updated)


__all__ = [
    "UpsertCounts",
    "UpsertStatement",
    "build_rows",
    "statement_for",
    "update_by_pk",
    "upsert_rows",
]
