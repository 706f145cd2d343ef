"""Substring search of mirror tables on SQLite through FTS5 ``trigram`` tables.

PostgreSQL answers ``ILIKE '%q%'`` from trigram GIN indexes (``pg_trgm``). SQLite has no such
index, so a search of a rare word scanned the whole table (100 000 rows: 40-70 ms). The mirror
tables searched by text each have an external-content FTS5 table with the ``trigram``
tokenizer (substring matching, case-insensitive, SQLite 3.34+), kept by triggers on the table
(`fts_migration_sql`; migrations synchroteam 0008 and syncro 0008).

`fts_filter` narrows a list's queryset to the rows an FTS phrase matches (plus exact lookups
on some columns, e.g. a job's number): for a few matches by their ids, for many by a probe of
the id set while the list is read in its own index order, which stops after a page instead of
sorting every match.

Keep in mind: SQLite's schema editor rebuilds a table for some ALTERs (a copy, the old table
dropped) and its triggers go with it; a migration that rebuilds a searched table must create
them again. The search tests check that they exist.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

#: matches past which a search walks the list's order instead of sorting its matches
FTS_COMMON = 1000


def fts_migration_sql(table: str, fts: str, columns: tuple[str, ...]) -> list[str]:
    """The statements that create `fts` over `columns` of `table` (external content, rowid =
    ``id``), its insert/delete/update triggers, and fill it. Every name must be a constant of
    the calling migration (nothing here comes from input)."""
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({cols}, content='{table}', "
        "content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",  # noqa: S608
    ]


def fts_drop_sql(fts: str) -> list[str]:
    """The statements that drop `fts` and its triggers (`fts_migration_sql`'s reverse)."""
    return [f"DROP TRIGGER IF EXISTS {fts}_{t}" for t in ("ai", "ad", "au")] + [
        f"DROP TABLE IF EXISTS {fts}"
    ]


def fts_create(schema_editor, table: str, fts: str, columns: tuple[str, ...]) -> None:
    """A migration's forward step: `fts_migration_sql` run on SQLite (nothing elsewhere)."""
    if schema_editor.connection.vendor == "sqlite":
        for sql in fts_migration_sql(table, fts, columns):
            schema_editor.execute(sql)


def fts_drop(schema_editor, fts: str) -> None:
    """A migration's backward step: `fts_drop_sql` run on SQLite (nothing elsewhere)."""
    if schema_editor.connection.vendor == "sqlite":
        for sql in fts_drop_sql(fts):
            schema_editor.execute(sql)


def fts_triggers(fts: str) -> set[str]:
    """The names of `fts`'s triggers that exist (all three when the table is kept)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name IN (%s, %s, %s)",
            [f"{fts}_ai", f"{fts}_ad", f"{fts}_au"],
        )
        return {row[0] for row in cur.fetchall()}


def _phrase(text: str) -> str:
    """`text` as one FTS5 phrase: quoted, its own quotes doubled (text, not FTS syntax)."""
    return '"' + text.replace('"', '""') + '"'


def _match_counts(fts: str, phrases: list[str], limit: int) -> list[int]:
    """How many rows of `fts` each of `phrases` matches, each counted up to `limit`; one
    query."""
    part = f"(SELECT COUNT(*) FROM (SELECT 1 FROM {fts} WHERE {fts} MATCH %s LIMIT %s))"  # noqa: S608
    params: list = []
    for phrase in phrases:
        params += [phrase, limit]
    with connection.cursor() as cur:
        cur.execute("SELECT " + ", ".join([part] * len(phrases)), params)
        return list(cur.fetchone())


def fts_filter(
    qs: QuerySet,
    *,
    fts: str,
    tenant_id: int,
    q: str,
    exact: tuple[str, ...] = (),
    common: int | None = None,
    scan: QuerySet | None = None,
) -> QuerySet:
    """`qs` (rows of the FTS table's content table, one tenant's) narrowed to the rows whose
    indexed columns hold `q` as a substring (case-insensitive) or whose `exact` columns equal
    it. SQLite only, `q` of 3 characters or more (the trigram tokenizer matches nothing
    shorter); callers keep ``icontains`` otherwise.

    The ids are a UNION of one (tenant, column) index lookup per `exact` column and the FTS
    phrase match (`q` as one quoted phrase). Capped counts of the matches (all tenants', at
    most `common` + 1; default `FTS_COMMON`) pick the plan:

    * without `scan`: the phrase's count. Up to `common`, ``id IN (ids)``; past it,
      ``+id IN (ids)`` as a probe, SQLite's unary ``+`` keeping the planner from making it an
      id lookup so the list's own ordered index leads;
    * with `scan` (the caller's LIKE narrowing of `qs`): each word's count (3 characters or
      more), cheap where the phrase's positions are not (a phrase of three common words took
      13 ms to count). When a word is rare, ``id IN (ids)``; when every word is common,
      `scan` itself: its LIKE is tested while the list's ordered index is walked, and a
      common text fills a page within the first few hundred rows (1-3 ms, where matching
      the phrase took 13-17)."""
    table = connection.ops.quote_name(qs.model._meta.db_table)
    phrase = _phrase(q)
    common = FTS_COMMON if common is None else common
    parts, params = [], []
    for column in exact:  # names from the caller's code, never from input
        parts.append(f"SELECT id FROM {table} WHERE tenant_id = %s AND {column} = %s")  # noqa: S608
        params += [tenant_id, q]
    parts.append(f"SELECT rowid FROM {fts} WHERE {fts} MATCH %s")  # noqa: S608
    params.append(phrase)
    ids = " UNION ".join(parts)
    if scan is not None:
        words = [_phrase(w) for w in q.split() if len(w) >= 3] or [phrase]
        if min(_match_counts(fts, words, common + 1)) > common:
            return scan
        return qs.filter(pk__in=RawSQL(ids, params))  # noqa: S611 (parameters, see above)
    if _match_counts(fts, [phrase], common + 1)[0] <= common:
        return qs.filter(pk__in=RawSQL(ids, params))  # noqa: S611 (parameters, see above)
    hit = RawSQL(f"+{table}.id IN ({ids})", params, output_field=BooleanField())  # noqa: S611
    return qs.alias(search_hit=hit).filter(search_hit=True)
