"""Run the benchmarks: those of :data:`BENCHMARKS`, or those named.

Usage::

    python -m benchmarks [--scale N] [--runs K] [--list] [name ...]

* ``name``: a key of :data:`BENCHMARKS` (``sync``, ``sandbox``, ...); none = all of them;
* ``--scale N``: records of the large data sets (default 100 000; ``make bench-1m`` passes
  1 000 000), exported as ``BENCH_SCALE`` and as the default of each benchmark's own size
  variable (``BENCH_TICKETS``, ``BENCH_SYNC_RECORDS``);
* ``--runs K`` (alias ``--repeat``): measure each figure K times and print min and median.

Each benchmark prints its own table, with ratios against a baseline measured in the same run,
under production settings (``benchmarks/env.py``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from pathlib import Path

#: name -> module; a new benchmark adds one line (a module not listed still runs, last)
BENCHMARKS: dict[str, str] = {
    "sandbox": "benchmarks.sandbox_bench",
    "sync": "benchmarks.sync_bench",
    "deletion": "benchmarks.deletion_bench",
    "vendor_requests": "benchmarks.vendor_requests_bench",
    "ticket_list": "benchmarks.ticket_list_bench",
    "billing_latency": "benchmarks.billing_latency_bench",
    "outbox_faults": "benchmarks.outbox_faults_bench",
}

#: each benchmark's own size variable, defaulted from ``--scale``
SIZE_VARIABLES = ("BENCH_TICKETS", "BENCH_SYNC_RECORDS")


def registered() -> dict[str, str]:
    """:data:`BENCHMARKS` plus any ``benchmarks/<name>_bench.py`` not listed in it."""
    out = dict(BENCHMARKS)
    listed = set(out.values())
    for path in sorted(Path(__file__).resolve().parent.glob("*_bench.py")):
        module = f"benchmarks.{path.stem}"
        if module not in listed:
            out[path.stem.removesuffix("_bench")] = module
    return out


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--scale", type=int, help="records of the large data sets (100000)")
    parser.add_argument("--runs", "--repeat", type=int, dest="runs", help="runs per figure (1)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    available = registered()
    if args.list:
        for name, module in available.items():
            print(f"{name:20} {module}")
        return 0
    wanted = [n.removesuffix("_bench") for n in args.names] or list(available)
    unknown = [w for w in wanted if w not in available]
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(available)}",
            file=sys.stderr,
        )
        return 2
    if args.scale:
        os.environ["BENCH_SCALE"] = str(args.scale)
    if os.environ.get("BENCH_SCALE"):
        for name in SIZE_VARIABLES:
            os.environ.setdefault(name, os.environ["BENCH_SCALE"])
    if args.runs:
        os.environ["BENCH_RUNS"] = str(args.runs)
    from benchmarks.env import django_for_benchmarks, fresh_database, runs, scale, settings_line

    django_for_benchmarks()
    print(f"benchmarks at scale {scale():,}, {runs()} run(s) per figure, {settings_line()}")
    total = time.perf_counter()
    failed = []
    for name in wanted:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        try:
            fresh_database()  # each starts from an empty database (a shared one may hold rows)
            importlib.import_module(available[name]).main()
        except Exception:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failed.append(name)
        print(f"({name} took {time.perf_counter() - started:.1f} s)", flush=True)
    print(f"\n(all took {time.perf_counter() - total:.1f} s)")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
