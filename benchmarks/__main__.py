"""Run the benchmarks: every ``benchmarks/<name>_bench.py`` module's ``main()``, or those named.

Usage: python -m benchmarks [name ...]     (name = the module name without ``_bench``)
Each benchmark prints its own table, with ratios against a baseline measured in the same run.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    names = sorted(p.stem for p in here.glob("*_bench.py"))
    wanted = [a if a.endswith("_bench") else f"{a}_bench" for a in argv]
    if wanted:
        unknown = [w for w in wanted if w not in names]
        if unknown:
            print(
                f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(names)}",
                file=sys.stderr,
            )
            return 2
        names = wanted
    from benchmarks.env import django_for_benchmarks

    django_for_benchmarks()
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"benchmarks.{name}").main()
        print(f"({name} took {time.perf_counter() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
