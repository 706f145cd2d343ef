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

from connectors.fts import fts_create, fts_drop

TABLE = "synchroteam_synchroteamjob"
FTS = "synchroteam_job_fts"
COLUMNS = ("description", "customer_name")


def create(apps, schema_editor):
    fts_create(schema_editor, TABLE, FTS, COLUMNS)


def drop(apps, schema_editor):
    fts_drop(schema_editor, FTS)


class Migration(migrations.Migration):
    dependencies = [("synchroteam", "0007_job_search_indexes")]

    operations = [migrations.RunPython(create, drop)]
