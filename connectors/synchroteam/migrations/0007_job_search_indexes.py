"""Indexes for the job list's search (`dispatch.selectors.jobs_filtered`, ``q``).

The search is ``num = q OR my_id = q OR description ILIKE %q% OR customer_name ILIKE %q%``.
PostgreSQL answers an OR from indexes only when every arm has one (a BitmapOr), so: (tenant,
my_id) beside the existing (tenant, num), and GIN ``gin_trgm_ops`` indexes on the
``UPPER(col::text)`` expressions Django's ``icontains`` sends (as for the tickets,
`connectors/syncro/migrations/0002_ticket_search_trigram.py`). SQLite has no trigram index and
keeps the scan.
"""

from django.db import migrations, models

COLUMNS = ("description", "customer_name")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS st_job_trgm_{column} ON synchroteam_synchroteamjob "
            f'USING gin (UPPER("{column}"::text) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS st_job_trgm_{column}")


class Migration(migrations.Migration):
    dependencies = [("synchroteam", "0006_job_status_count_index")]

    operations = [
        migrations.AddIndex(
            model_name="synchroteamjob",
            index=models.Index(fields=["tenant", "my_id"], name="st_job_myid"),
        ),
        migrations.RunPython(create, drop),
    ]
