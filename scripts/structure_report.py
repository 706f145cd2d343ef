"""Structure report of the product code: sizes, long views and functions, import circles,
vendor-name branches outside the vendor folders, and the docstring share of public defs.

Usage (from the project root):  python scripts/structure_report.py [--json] [--longest N]

Reads the source with `ast` only (no Django, nothing imported from the product). The definitions
of every figure are in `scripts/structure.py`, which `tests/test_structure.py` uses as well.
Exit status 0 always: this is a measurement, the guards are the tests.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load_structure():
    """`scripts/structure.py` as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "fieldline_structure", Path(__file__).with_name("structure.py")
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def render(data: dict) -> str:
    """The report dict (see `structure.report`) as a plain-text table."""
    out: list[str] = []
    width = max(len(name) for name in data["lines_per_package"]) + 2
    out.append(f"Product code: {data['files']} files")
    out.append("")
    out.append("Lines per top-level package")
    for name, lines in data["lines_per_package"].items():
        out.append(f"  {name:<{width}}{lines:>7}")
    out.append("")
    big = data["files_over_500_lines"]
    out.append(f"Files over 500 lines: {len(big)}")
    out += [f"  {f['lines']:>5}  {f['path']}" for f in big]
    out.append("")
    views = data["views"]
    out.append(
        f"Views over 30 lines (body span, module-level functions in views.py): "
        f"{views['over_30_lines']} of {views['total']}; longest:"
    )
    out += [f"  {v}" for v in views["longest"]]
    out.append("")
    functions = data["functions"]
    out.append(
        f"Functions over 60 lines (body span, all functions and methods): "
        f"{functions['over_60_lines']} of {functions['total']}"
    )
    out += [f"  {f}" for f in functions["list"]]
    out.append("")
    circles = data["import_circles"]
    out.append(f"Import circles: {len(circles)}")
    for circle in circles:
        out.append(f"  {len(circle['modules'])} modules: {', '.join(circle['modules'])}")
        out.append("    for example:")
        out += [f"      {edge}" for edge in circle["cycle"]]
    out.append("")
    branches = data["vendor_branches"]
    out.append(
        f"Vendor-name branches outside connectors/<vendor>/: {branches['total']} "
        f"({branches['outside_sandbox']} outside connectors/sandbox/)"
    )
    out += [f"  {b}" for b in branches["list"]]
    out.append("")
    docs = data["docstrings"]
    for label, key in (
        ("public functions, classes and methods", "public_defs"),
        ("module-level public functions and classes", "module_level_only"),
    ):
        share = docs[key]
        out.append(
            f"Docstrings on {label}: {share['documented']} of {share['total']} ({share['percent']} %)"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, print the report (table or JSON). Returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the report as a JSON object")
    parser.add_argument("--longest", type=int, default=10, help="how many of the longest views")
    parser.add_argument("--root", type=Path, default=ROOT, help="project root (default: this one)")
    args = parser.parse_args(argv)
    data = _load_structure().report(args.root, longest=args.longest)
    print(json.dumps(data, indent=2) if args.json else render(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
