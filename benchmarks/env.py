"""Shared set-up for benchmarks: Django on a throw-away database, and table printing."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

_READY = False


def django_for_benchmarks() -> str:
    """Configure Django on a fresh database and migrate it; returns the scratch folder.

    ``BENCH_DATABASE_URL`` picks the database (default: a SQLite file in a temporary folder);
    the demo's ``var/`` is never touched.
    """
    global _READY
    scratch = os.environ.get("BENCH_SCRATCH") or tempfile.mkdtemp(prefix="fieldline-bench-")
    if _READY:
        return scratch
    os.environ["BENCH_SCRATCH"] = scratch
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["FIELDLINE_VAR_DIR"] = scratch
    os.environ["DATABASE_URL"] = os.environ.get(
        "BENCH_DATABASE_URL", f"sqlite:///{scratch}/bench.sqlite3"
    )
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    _READY = True
    return scratch


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print a plain-text table (Markdown-compatible, so it can be pasted into notes)."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    print(f"\n{title}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
