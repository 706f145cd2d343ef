"""Trigram indexes for the ticket list's free-text search (PostgreSQL only).

`SyncroTicket.objects.search()` filters `number`, `subject` and `customer_name` with
``icontains``, which Django sends to PostgreSQL as ``UPPER(col::text) LIKE UPPER('%…%')``. A
GIN ``gin_trgm_ops`` index on exactly that expression lets PostgreSQL answer it without reading
the whole table (100 000 tickets: a full scan took ~90 ms). SQLite has no such index and keeps the
scan. ``pg_trgm`` is a trusted extension (PostgreSQL 13+): the database owner may create it.
"""

from django.db import migrations

COLUMNS = ("subject", "customer_name", "number")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS sx_tkt_trgm_{column} ON syncro_syncroticket '
            f'USING gin (UPPER("{column}"::text) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS sx_tkt_trgm_{column}")


class Migration(migrations.Migration):
    dependencies = [("syncro", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
