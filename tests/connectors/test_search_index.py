"""On PostgreSQL the ticket search is served by trigram indexes on the searched expressions."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL-only"
)


def test_the_ticket_search_columns_have_trigram_indexes_on_the_expression_django_queries(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'syncro_syncroticket'"
        )
        defs = dict(cursor.fetchall())
    for column in ("subject", "customer_name", "number"):
        definition = defs[f"sx_tkt_trgm_{column}"]
        assert "gin_trgm_ops" in definition
        assert f"upper(({column})::text)" in definition
