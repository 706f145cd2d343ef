"""Shared set-up for benchmarks: Django under production settings on a throw-away database,
the run's options (scale, runs), repeated measurements and table printing.

Production settings (issue 14 item 6): ``DEBUG`` off, so Django keeps no query log (what made
the sync's peak memory grow from 21 to 95 MiB under ``DEBUG``), the production static storage
(``collectstatic`` into the scratch folder, as ``scripts/loadtest.py`` does) and the whole
``MIDDLEWARE`` of ``config/settings.py``; only HTTPS is off (``SECURE_SSL_REDIRECT`` and secure
cookies), because the test client and the loopback sandbox speak plain HTTP.
``BENCH_DEBUG=1`` runs with the demo's ``DEBUG`` settings instead, for comparison.

Options (``python -m benchmarks --scale N --runs K`` sets them; see ``__main__.py``):

* ``BENCH_SCALE``: records of the large data sets (default 100 000 Syncro tickets);
* ``BENCH_RUNS``: times each figure is measured; tables print the minimum and the median.
"""

from __future__ import annotations

import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_READY = False
DEFAULT_SCALE = 100_000


def scale(default: int = DEFAULT_SCALE) -> int:
    """Records of the benchmark's large data set (``BENCH_SCALE``)."""
    return int(os.environ.get("BENCH_SCALE") or default)


def runs() -> int:
    """How many times each figure is measured (``BENCH_RUNS``, default 1)."""
    return max(1, int(os.environ.get("BENCH_RUNS") or 1))


def production_environment(scratch: str) -> dict[str, str]:
    """The environment of a production-settings run in ``scratch`` (keys made for this run)."""
    from cryptography.fernet import Fernet

    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "STATIC_ROOT": os.path.join(scratch, "static"),
        # the in-process sandbox is the connections' base URL
        "CONNECTORS_ALLOWED_BASE_URLS": "http://sandbox.invalid,http://127.0.0.1",
    }


def django_for_benchmarks() -> str:
    """Configure Django on a fresh database under production settings and migrate it;
    returns the scratch folder.

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
    production = os.environ.get("BENCH_DEBUG", "") not in ("1", "true")
    if production:
        os.environ.update(production_environment(scratch))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    if production:
        call_command("collectstatic", interactive=False, verbosity=0)
    _READY = True
    return scratch


def fresh_database() -> None:
    """Empty every table (``manage.py flush``; content types and permissions come back), so a
    benchmark never finds the rows an earlier one of the same run left (the demo company, its
    connections, 100 000 generated tickets)."""
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)


def settings_line() -> str:
    """One line saying which settings and database this run measures."""
    from django.conf import settings
    from django.db import connection

    mode = "production settings (DEBUG off)" if not settings.DEBUG else "DEBUG settings"
    return f"{mode}, {len(settings.MIDDLEWARE)} middleware, {connection.vendor}"


# --- repeated measurements -------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    """The values of one figure over the run's repetitions (same unit)."""

    values: tuple[float, ...]

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def text(self, unit: str = "", *, digits: int = 2) -> str:
        """``"1.23 ms"`` for one value, ``"min 1.20 / median 1.23 ms"`` for several."""
        if len(self.values) == 1:
            return f"{_num(self.values[0], digits)}{unit}"
        return f"min {_num(self.min, digits)} / median {_num(self.median, digits)}{unit}"


def measure(fn: Callable[[], float], n: int | None = None) -> Sample:
    """Call ``fn`` (which returns one measured value) ``n`` times (default :func:`runs`)."""
    return Sample(tuple(fn() for _ in range(n or runs())))


def timed(fn: Callable[[], object]) -> float:
    """Seconds ``fn()`` took."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def ratio(now: Sample, baseline: Sample, *, invert: bool = False) -> str:
    """Ratio of the medians (``invert``: baseline / now, for "x faster" of durations)."""
    a, b = (baseline.median, now.median) if invert else (now.median, baseline.median)
    return f"{a / b:.2f}x" if b else "-"


def print_figures(title: str, rows: Sequence[Sequence[object]]) -> None:
    """The issue's table layout: figure | now | baseline in the same run | ratio | goal."""
    print_table(title, ["figure", "now", "baseline in the same run", "ratio", "goal"], rows)


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print a plain-text table (Markdown-compatible, so it can be pasted into notes)."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    print(f"\n{title}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(cells[0], widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def _num(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}" if abs(value) < 1000 else f"{value:,.0f}"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
