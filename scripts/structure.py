"""Static structure analysis of the product code (stdlib `ast` only; nothing is imported or run).

Used by `scripts/structure_report.py` (the before/after figures of the layout work) and by
`tests/test_structure.py` (the import-circle and vendor-branch guards). It lives outside the
product packages on purpose: the product never imports it.

What counts as product code: every `.py` file under the top-level packages in `PRODUCT_PACKAGES`
that exist, except files below a `migrations`, `tests`, `benchmarks` or `scripts` directory.
`connectors/sandbox/` (the vendor emulators) is product code here and is also reported on its own.

Definitions (the same for every figure, so before and after compare like with like):

* **lines**: physical lines of a file (`str.splitlines`), blank lines and comments included.
* **body span** of a function: from the first line of its body (the docstring, if any) to its
  last line, both included; the `def` line and decorators are not counted.
* **view**: a function defined directly at module level (public or private) in a `views.py`.
* **import edge**: an `import` / `from ... import` statement anywhere in a module (function-local
  imports included, relative imports resolved) that names another product module. `from a import
  b` is an edge to `a.b` when that is a module, else to `a`. `import a.b.c` is an edge to the
  longest prefix that is a product module. Importing a submodule also runs its packages'
  `__init__.py`, so each package above the target is an edge too (unless it is a package of the
  importing module itself, which is already initialised by then). Imports in an `if TYPE_CHECKING:` block are not edges
  (they never run). A circle is a strongly connected component with more than one module.
* **vendor branch**: see `find_vendor_branches`.
* **documented public def**: module-level functions and classes whose names do not start with
  `_`, and methods (not starting with `_`) defined directly in such a class, whose first body
  statement is a string literal.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

PRODUCT_PACKAGES: tuple[str, ...] = ("accounts", "billing", "connectors", "dispatch", "config")
EXCLUDED_DIRS: frozenset[str] = frozenset({"migrations", "tests", "benchmarks", "scripts"})
SANDBOX = ("connectors", "sandbox")

#: The product's vendors: the folder names under `connectors/` (and `connectors/sandbox/`) that may
#: know about their own vendor, and the string values of `accounts.models.Vendor`.
VENDORS: frozenset[str] = frozenset({"syncro", "synchroteam", "fieldcamp"})
#: Members of the `Vendor` choices; `Vendor.<member>` on either side of a comparison is a branch.
VENDOR_MEMBERS: frozenset[str] = frozenset({"SYNCRO", "SYNCHROTEAM", "FIELDCAMP"})
#: `django.db.connection.vendor` values: comparisons against these are about the database.
DATABASE_VENDORS: frozenset[str] = frozenset({"postgresql", "sqlite", "mysql", "oracle"})

LARGE_FILE_LINES = 500
LONG_VIEW_LINES = 30
LONG_FUNCTION_LINES = 60


# --------------------------------------------------------------------------------------------
# Files and modules


@dataclass(frozen=True)
class Source:
    """One product module: its dotted name, path relative to the root, text and parsed tree."""

    module: str
    path: str
    text: str
    tree: ast.Module

    @property
    def is_package(self) -> bool:
        """True for a package's `__init__.py`."""
        return self.path.endswith("__init__.py")

    @property
    def lines(self) -> int:
        """Physical lines of the file."""
        return len(self.text.splitlines())


def module_name(relpath: Path) -> str:
    """`connectors/sync.py` -> `connectors.sync`; `connectors/__init__.py` -> `connectors`."""
    parts = list(relpath.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_files(root: Path, packages: Iterable[str] = PRODUCT_PACKAGES) -> list[Path]:
    """Paths (relative to `root`, sorted) of the product's `.py` files; missing packages skipped."""
    found: list[Path] = []
    for package in packages:
        base = root / package
        if not base.is_dir():
            continue
        for path in base.rglob("*.py"):
            rel = path.relative_to(root)
            if EXCLUDED_DIRS.intersection(rel.parts[:-1]) or "__pycache__" in rel.parts:
                continue
            found.append(rel)
    return sorted(found)


def load_sources(root: Path, packages: Iterable[str] = PRODUCT_PACKAGES) -> list[Source]:
    """Parse every product file under `root`. Raises `SyntaxError` for a file that does not parse."""
    sources = []
    for rel in product_files(root, packages):
        text = (root / rel).read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(rel))
        sources.append(Source(module_name(rel), rel.as_posix(), text, tree))
    return sources


def sources_from_dict(files: dict[str, str]) -> list[Source]:
    """Sources from `{relative path: text}`, for tests that feed the analyser synthetic modules."""
    return [
        Source(module_name(Path(path)), path, text, ast.parse(text, filename=path))
        for path, text in sorted(files.items())
    ]


def is_sandbox(path: str) -> bool:
    """True for a file under `connectors/sandbox/`."""
    return tuple(Path(path).parts[:2]) == SANDBOX


def is_emulator(path: str) -> bool:
    """True for vendor-emulator code: `connectors/sandbox/**` and the older home of the vendor
    emulators, `connectors/<vendor>/sandbox.py` (or a `sandbox/` package there)."""
    parts = Path(path).parts
    if is_sandbox(path):
        return True
    return (
        len(parts) >= 3
        and parts[0] == "connectors"
        and parts[1] in VENDORS
        and (parts[2] == "sandbox.py" or parts[2] == "sandbox")
    )


# --------------------------------------------------------------------------------------------
# Sizes


def body_span(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the first body statement (docstring included) to the function's last line."""
    return (node.end_lineno or node.lineno) - node.body[0].lineno + 1


@dataclass(frozen=True)
class FunctionSize:
    """A function's place and body span in lines."""

    path: str
    line: int
    name: str
    lines: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.name} ({self.lines} lines)"


def _functions(
    tree: ast.AST, prefix: str = ""
) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function and method in `tree` (nested ones too), with a dotted qualified name."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            qualname = f"{prefix}{node.name}"
            yield qualname, node
            yield from _functions(node, f"{qualname}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")
        else:
            yield from _functions(node, prefix)


def function_sizes(sources: Iterable[Source]) -> list[FunctionSize]:
    """Every function and method of the product with its body span, longest first."""
    sizes = [
        FunctionSize(src.path, node.lineno, name, body_span(node))
        for src in sources
        for name, node in _functions(src.tree)
    ]
    return sorted(sizes, key=lambda s: (-s.lines, s.path, s.line))


def view_sizes(sources: Iterable[Source]) -> list[FunctionSize]:
    """Module-level functions of every `views.py` with their body span, longest first."""
    sizes = [
        FunctionSize(src.path, node.lineno, node.name, body_span(node))
        for src in sources
        if Path(src.path).name == "views.py"
        for node in src.tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    return sorted(sizes, key=lambda s: (-s.lines, s.path, s.line))


def lines_per_package(sources: Iterable[Source]) -> dict[str, int]:
    """Lines per top-level package (the sandbox included in `connectors`), then
    `connectors/sandbox` on its own, `connectors without sandbox`, the emulators wherever they
    live (see `is_emulator`), `total` and `total without emulators`."""
    sources = list(sources)
    totals: dict[str, int] = {}
    sandbox = 0
    for src in sources:
        top = Path(src.path).parts[0]
        totals[top] = totals.get(top, 0) + src.lines
        if is_sandbox(src.path):
            sandbox += src.lines
    result = {name: totals[name] for name in PRODUCT_PACKAGES if name in totals}
    if "connectors" in totals:
        result["connectors/sandbox"] = sandbox
        result["connectors without sandbox"] = totals["connectors"] - sandbox
    emulators = sum(src.lines for src in sources if is_emulator(src.path))
    result["emulators (sandbox/, <vendor>/sandbox.py)"] = emulators
    result["total"] = sum(totals.values())
    result["total without emulators"] = result["total"] - emulators
    return result


# --------------------------------------------------------------------------------------------
# Import graph


@dataclass(frozen=True)
class ImportEdge:
    """`source` imports `target` at `path:line`."""

    source: str
    target: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} ({self.path}:{self.line})"


def _is_type_checking(test: ast.expr) -> bool:
    """True for `TYPE_CHECKING` or `typing.TYPE_CHECKING` as an `if` test."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run, at any depth; `if TYPE_CHECKING:` bodies skipped."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from _import_nodes(ast.Module(body=[child], type_ignores=[]))
        else:
            yield from _import_nodes(node)


def _resolve_base(src: Source, node: ast.ImportFrom) -> str | None:
    """The absolute module a `from X import ...` names (relative levels resolved)."""
    if node.level == 0:
        return node.module
    package = src.module.split(".") if src.is_package else src.module.split(".")[:-1]
    if node.level - 1 > len(package):
        return None
    package = package[: len(package) - (node.level - 1)]
    parts = package + (node.module.split(".") if node.module else [])
    return ".".join(parts) or None


def _ancestors(module: str) -> list[str]:
    """`a.b.c` -> `["a", "a.b"]`: the packages Python initialises before the module itself."""
    parts = module.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts))]


def _longest_known_prefix(name: str, known: set[str]) -> str | None:
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def import_edges(sources: Iterable[Source]) -> list[ImportEdge]:
    """Import edges between product modules (self-imports dropped), in file and line order."""
    sources = list(sources)
    known = {src.module for src in sources}
    edges: list[ImportEdge] = []
    for src in sources:
        for node in _import_nodes(src.tree):
            targets: list[str | None] = []
            if isinstance(node, ast.Import):
                targets = [_longest_known_prefix(alias.name, known) for alias in node.names]
            else:
                base = _resolve_base(src, node)
                if base is None:
                    continue
                for alias in node.names:
                    child = f"{base}.{alias.name}"
                    targets.append(child if child in known else _longest_known_prefix(base, known))
            own_packages = _ancestors(src.module)
            for target in targets:
                if target is None:
                    continue
                implied = [p for p in _ancestors(target) if p in known and p not in own_packages]
                for name in [target, *implied]:
                    if name != src.module:
                        edges.append(ImportEdge(src.module, name, src.path, node.lineno))
    return sorted(set(edges), key=lambda e: (e.path, e.line, e.target))


def strongly_connected(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative): components as sorted lists, sorted by their first name."""
    graph: dict[str, list[str]] = {node: [] for node in nodes}
    for a, b in edges:
        graph.setdefault(a, []).append(b)
        graph.setdefault(b, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return sorted(components, key=lambda c: c[0])


@dataclass
class ImportCircle:
    """A set of modules that import each other, one concrete cycle through them, and every
    import edge inside the set (with file:line) so a reader can see what to cut."""

    modules: list[str]
    cycle: list[ImportEdge]
    edges: list[ImportEdge] = field(default_factory=list)

    def describe(self) -> str:
        """Several lines: the members, the example cycle, every edge inside the circle."""
        path = " -> ".join([e.source for e in self.cycle] + [self.cycle[0].source])
        lines = [f"circle of {len(self.modules)} modules: {', '.join(self.modules)}"]
        lines.append(f"  for example: {path}")
        lines += [f"    {edge}" for edge in self.cycle]
        lines.append("  every import inside the circle:")
        grouped: dict[tuple[str, str, str], list[str]] = {}
        for edge in self.edges:
            grouped.setdefault((edge.source, edge.target, edge.path), []).append(str(edge.line))
        lines += [
            f"    {source} -> {target} ({path}:{', '.join(at)})"
            for (source, target, path), at in grouped.items()
        ]
        return "\n".join(lines)


def _shortest_cycle(start: str, inside: set[str], edges: list[ImportEdge]) -> list[ImportEdge]:
    """Breadth-first: the shortest chain of edges from `start` back to `start` within `inside`."""
    out: dict[str, list[ImportEdge]] = {}
    for edge in edges:
        if edge.source in inside and edge.target in inside:
            out.setdefault(edge.source, []).append(edge)
    previous: dict[str, ImportEdge] = {}
    frontier = [start]
    seen = {start}
    while frontier:
        following = []
        for node in frontier:
            for edge in out.get(node, []):
                if edge.target == start:
                    chain = [edge]
                    while chain[0].source != start:
                        chain.insert(0, previous[chain[0].source])
                    return chain
                if edge.target not in seen:
                    seen.add(edge.target)
                    previous[edge.target] = edge
                    following.append(edge.target)
        frontier = following
    return []


def import_circles(sources: Iterable[Source]) -> list[ImportCircle]:
    """Every import circle among product modules (components of more than one module)."""
    sources = list(sources)
    edges = import_edges(sources)
    components = strongly_connected(
        (src.module for src in sources), ((e.source, e.target) for e in edges)
    )
    circles = []
    for component in components:
        if len(component) < 2:
            continue
        inside = set(component)
        inner = [e for e in edges if e.source in inside and e.target in inside]
        circles.append(ImportCircle(component, _shortest_cycle(component[0], inside, edges), inner))
    return circles


# --------------------------------------------------------------------------------------------
# Vendor branches


@dataclass(frozen=True)
class VendorBranch:
    """Shared code that decides by a vendor's name, at `path:line`."""

    path: str
    line: int
    code: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code}"


def in_vendor_folder(path: str) -> bool:
    """True under `connectors/<vendor>/` or `connectors/sandbox/<vendor>/`, where a vendor may
    know about itself."""
    parts = Path(path).parts
    if len(parts) >= 3 and parts[0] == "connectors" and parts[1] in VENDORS:
        return True
    return len(parts) >= 4 and tuple(parts[:2]) == SANDBOX and parts[2] in VENDORS


def _vendorish(node: ast.expr) -> bool:
    """A name or attribute ending in `vendor`: `vendor`, `connection.vendor`, `self.vendor`."""
    if isinstance(node, ast.Name):
        return node.id.lower().endswith("vendor")
    if isinstance(node, ast.Attribute):
        return node.attr.lower().endswith("vendor")
    return False


def _vendor_value(node: ast.expr) -> bool:
    """`Vendor.SYNCRO` (also `Vendor.SYNCRO.value`, `models.Vendor.SYNCRO`) or `"syncro"`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.lower() in VENDORS
    if isinstance(node, ast.Attribute) and node.attr in {"value", "label"}:
        node = node.value
    return isinstance(node, ast.Attribute) and node.attr in VENDOR_MEMBERS


def _name_like_constant(node: ast.expr) -> bool:
    """Something that reads as a fixed vendor name: a lower-case word literal that is not a
    database vendor, or an UPPER_CASE name/attribute. Not `None`, `"*"` or a variable."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        word = node.value
        return word.isidentifier() and word == word.lower() and word.lower() not in DATABASE_VENDORS
    if isinstance(node, ast.Attribute) and node.attr in {"value", "label"}:
        node = node.value
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return bool(name) and name.isupper()


def _elements(node: ast.expr) -> list[ast.expr]:
    """A tuple/list/set operand's elements (`vendor in (A, B)`), else the operand itself."""
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return list(node.elts)
    return [node]


def _is_database_vendor(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value in DATABASE_VENDORS


def _is_vendor_pair(left: ast.expr, op: ast.cmpop, right: ast.expr) -> bool:
    """One link `left <op> right` of a comparison chain."""
    values = _elements(left) + _elements(right)
    if any(_is_database_vendor(value) for value in values):
        return False
    if any(_vendor_value(value) for value in values):
        return True
    for one, other in ((left, right), (right, left)):
        if not _vendorish(one):
            continue
        if isinstance(op, ast.In | ast.NotIn) and one is left:
            # `vendor in (...)`: a literal collection of names; `vendor in REGISTRY` is a lookup.
            elements = _elements(right) if isinstance(right, ast.Tuple | ast.List | ast.Set) else []
            return any(_name_like_constant(e) for e in elements if not _vendorish(e))
        if _name_like_constant(other):
            return True
    return False


def _is_vendor_compare(node: ast.Compare) -> bool:
    operands = [node.left, *node.comparators]
    return any(_is_vendor_pair(operands[i], op, operands[i + 1]) for i, op in enumerate(node.ops))


def _dynamic_vendor_string(node: ast.expr) -> bool:
    """An f-string or `+` concatenation with a vendor-ish name inside (a module path by vendor)."""
    if isinstance(node, ast.JoinedStr):
        return any(
            isinstance(part, ast.FormattedValue) and _vendorish(part.value) for part in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return any(
            _vendorish(side) or _dynamic_vendor_string(side) for side in (node.left, node.right)
        )
    return False


def _is_import_by_vendor(node: ast.Call) -> bool:
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    if name not in {"import_module", "__import__"} or not node.args:
        return False
    return _dynamic_vendor_string(node.args[0])


def _is_vendor_match(node: ast.Match) -> bool:
    """`match connection.vendor:` with a `case Vendor.SYNCRO:` or `case "syncro":`."""
    if not _vendorish(node.subject):
        return False
    for case in node.cases:
        for pattern in ast.walk(case.pattern):
            if isinstance(pattern, ast.MatchValue) and (
                _vendor_value(pattern.value) or _name_like_constant(pattern.value)
            ):
                return True
    return False


def vendor_branches_in(src: Source) -> list[VendorBranch]:
    """Every place in one module that decides by a vendor's name (see `find_vendor_branches`)."""
    lines = src.text.splitlines()
    found = []
    for node in ast.walk(src.tree):
        hit = (
            (isinstance(node, ast.Compare) and _is_vendor_compare(node))
            or (isinstance(node, ast.Call) and _is_import_by_vendor(node))
            or (isinstance(node, ast.Match) and _is_vendor_match(node))
        )
        if hit:
            code = lines[node.lineno - 1].strip() if node.lineno <= len(lines) else ""
            found.append(VendorBranch(src.path, node.lineno, code))
    return sorted(found, key=lambda b: b.line)


def find_vendor_branches(sources: Iterable[Source]) -> list[VendorBranch]:
    """Vendor-name decisions outside `connectors/<vendor>/` and `connectors/sandbox/<vendor>/`.

    A decision is: a comparison (`==`, `!=`, `in`, `is`, ...) where one operand (or an element of
    a tuple/list/set operand) is `Vendor.SYNCRO`/`SYNCHROTEAM`/`FIELDCAMP` or the literal
    "syncro"/"synchroteam"/"fieldcamp"; or one operand is a name/attribute ending in `vendor`
    and another is a fixed name (a lower-case word literal or an UPPER_CASE constant) — except
    database vendors ("postgresql", "sqlite", ...); a `match` on a vendor-ish subject with such a
    value pattern; and `import_module(...)` / `__import__(...)` of an f-string or concatenation
    that contains a vendor-ish name. Comparisons of two variables (`a.vendor == b.vendor`,
    `vendor in registry`) are not decisions by name and are not reported.
    """
    found: list[VendorBranch] = []
    for src in sources:
        if not in_vendor_folder(src.path):
            found.extend(vendor_branches_in(src))
    return sorted(found, key=lambda b: (b.path, b.line))


# --------------------------------------------------------------------------------------------
# Docstrings


@dataclass(frozen=True)
class PublicDef:
    """A public function, class or method and whether it has a docstring."""

    path: str
    line: int
    name: str
    kind: str  # "function", "class" or "method"
    documented: bool


def public_defs(sources: Iterable[Source]) -> list[PublicDef]:
    """Module-level public functions and classes, and public methods of those classes."""
    defs: list[PublicDef] = []
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    for src in sources:
        for node in src.tree.body:
            if not isinstance(node, kinds) or node.name.startswith("_"):
                continue
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            doc = ast.get_docstring(node) is not None
            defs.append(PublicDef(src.path, node.lineno, node.name, kind, doc))
            if not isinstance(node, ast.ClassDef):
                continue
            for member in node.body:
                if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef) and not (
                    member.name.startswith("_")
                ):
                    defs.append(
                        PublicDef(
                            src.path,
                            member.lineno,
                            f"{node.name}.{member.name}",
                            "method",
                            ast.get_docstring(member) is not None,
                        )
                    )
    return defs


# --------------------------------------------------------------------------------------------
# The whole report


def _share(defs: list[PublicDef]) -> dict[str, float | int]:
    documented = sum(d.documented for d in defs)
    return {
        "documented": documented,
        "total": len(defs),
        "percent": round(100 * documented / len(defs), 1) if defs else 100.0,
    }


def report(root: Path, longest: int = 10) -> dict:
    """Every figure of the structure report as a JSON-ready dict (see the module docstring)."""
    sources = load_sources(root)
    views = view_sizes(sources)
    functions = function_sizes(sources)
    long_views = [v for v in views if v.lines > LONG_VIEW_LINES]
    long_functions = [f for f in functions if f.lines > LONG_FUNCTION_LINES]
    defs = public_defs(sources)
    circles = import_circles(sources)
    branches = find_vendor_branches(sources)
    return {
        "files": len(sources),
        "lines_per_package": lines_per_package(sources),
        "files_over_500_lines": [
            {"path": s.path, "lines": s.lines}
            for s in sorted(sources, key=lambda s: -s.lines)
            if s.lines > LARGE_FILE_LINES
        ],
        "views": {
            "total": len(views),
            "over_30_lines": len(long_views),
            "longest": [str(v) for v in views[:longest]],
        },
        "functions": {
            "total": len(functions),
            "over_60_lines": len(long_functions),
            "list": [str(f) for f in long_functions],
        },
        "import_circles": [
            {
                "modules": c.modules,
                "cycle": [str(e) for e in c.cycle],
                "edges": [str(e) for e in c.edges],
            }
            for c in circles
        ],
        "vendor_branches": {
            "total": len(branches),
            "outside_sandbox": sum(not is_sandbox(b.path) for b in branches),
            "list": [str(b) for b in branches],
        },
        "docstrings": {
            "public_defs": _share(defs),
            "module_level_only": _share([d for d in defs if d.kind != "method"]),
            "missing": [f"{d.path}:{d.line} {d.name}" for d in defs if not d.documented],
        },
    }
