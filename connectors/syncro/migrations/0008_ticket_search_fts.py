"""A full-text index of the tickets' number, subject and customer name on SQLite, for the
ticket list's search (`billing.selectors.ticket_queryset`, ``q``).

PostgreSQL answers ``ILIKE %q%`` from the trigram GIN indexes of 0002. On SQLite an FTS5
``trigram`` table mirrors the three columns through triggers on the ticket table
(`connectors.fts`): a search matching nothing no longer scans 100 000 tickets.

Keep in mind: SQLite's schema editor rebuilds a table for some ALTERs and the triggers go with
the old table. A later migration that rebuilds ``syncro_syncroticket`` must run `create` again;
`tests/billing/test_ticket_search.py` fails while they are missing.
"""

from django.db import migrations

from connectors.fts import fts_create, fts_drop

TABLE = "syncro_syncroticket"
FTS = "syncro_ticket_fts"
COLUMNS = ("number", "subject", "customer_name")


def create(apps, schema_editor):
    fts_create(schema_editor, TABLE, FTS, COLUMNS)


def drop(apps, schema_editor):
    fts_drop(schema_editor, FTS)


class Migration(migrations.Migration):
    dependencies = [("syncro", "0007_unbilled_timers")]

    operations = [migrations.RunPython(create, drop)]
