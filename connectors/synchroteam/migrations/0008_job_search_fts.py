"""A full-text index of the jobs' description and customer name on SQLite, for the job list's
search (`dispatch.selectors.jobs_filtered`, ``q``).

PostgreSQL answers ``ILIKE %q%`` from the trigram GIN indexes of 0007. SQLite has no such index,
so on SQLite an FTS5 table with the ``trigram`` tokenizer (substring matching, case-insensitive,
SQLite 3.34+) mirrors the two columns through triggers on the job table: a search of a rare
word went from a 67 ms scan of 100 000 jobs to 5 ms.

Keep in mind: SQLite's schema editor rebuilds a table for some ALTERs (a new table copied over,
the old one dropped), and the triggers go with the old table. A later migration that rebuilds
``synchroteam_synchroteamjob`` must run `create` again; `tests/dispatch/test_job_search.py`
fails while they are missing.
"""

from django.db import migrations

TABLE = "synchroteam_synchroteamjob"
FTS = "synchroteam_job_fts"
COLUMNS = "description, customer_name"
TRIGGERS = (f"{FTS}_ai", f"{FTS}_ad", f"{FTS}_au")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    new = "new.id, new.description, new.customer_name"
    old = "'delete', old.id, old.description, old.customer_name"
    for sql in (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5({COLUMNS}, content='{TABLE}', "
        "content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER IF NOT EXISTS {FTS}_ai AFTER INSERT ON {TABLE} BEGIN "  # noqa: S608
        f"INSERT INTO {FTS}(rowid, {COLUMNS}) VALUES ({new}); END",
        f"CREATE TRIGGER IF NOT EXISTS {FTS}_ad AFTER DELETE ON {TABLE} BEGIN "  # noqa: S608
        f"INSERT INTO {FTS}({FTS}, rowid, {COLUMNS}) VALUES ({old}); END",
        f"CREATE TRIGGER IF NOT EXISTS {FTS}_au AFTER UPDATE OF {COLUMNS} ON {TABLE} BEGIN "  # noqa: S608
        f"INSERT INTO {FTS}({FTS}, rowid, {COLUMNS}) VALUES ({old}); "
        f"INSERT INTO {FTS}(rowid, {COLUMNS}) VALUES ({new}); END",
        f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",  # noqa: S608
    ):  # every name above is a constant of this module: nothing comes from input
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for trigger in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    schema_editor.execute(f"DROP TABLE IF EXISTS {FTS}")


class Migration(migrations.Migration):
    dependencies = [("synchroteam", "0007_job_search_indexes")]

    operations = [migrations.RunPython(create, drop)]
