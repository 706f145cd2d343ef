"""Structure guards: no import circles among product modules, and no decisions by a vendor's name
outside `connectors/<vendor>/` (and `connectors/sandbox/<vendor>/`).

The analysis is `scripts/structure.py` (the same code as `scripts/structure_report.py`); the
synthetic cases below prove the guards can fail.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_structure():
    spec = importlib.util.spec_from_file_location(
        "fieldline_structure", ROOT / "scripts" / "structure.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


structure = _load_structure()


@pytest.fixture(scope="module")
def product():
    return structure.load_sources(ROOT)


# --- the guards on the product code ---------------------------------------------------------


def test_product_modules_import_each_other_without_circles(product):
    circles = structure.import_circles(product)
    if circles:
        report = "\n\n".join(circle.describe() for circle in circles)
        pytest.fail(f"{len(circles)} import circle(s) among product modules:\n\n{report}")


def test_shared_code_never_decides_by_a_vendor_name(product):
    branches = structure.find_vendor_branches(product)
    if branches:
        listing = "\n".join(f"  {branch}" for branch in branches)
        pytest.fail(
            f"{len(branches)} vendor-name decision(s) outside connectors/<vendor>/ "
            f"(ask the vendor registry instead):\n{listing}"
        )


def test_the_analysis_sees_the_product(product):
    modules = {src.module for src in product}
    assert {"accounts.models", "billing.views", "connectors.models"} <= modules
    assert not any(".migrations." in m or m.startswith("tests") for m in modules)


# --- the analyser finds what it must (so the guards above can fail) ------------------------


def test_a_two_module_circle_is_found_and_named():
    sources = structure.sources_from_dict(
        {
            "billing/__init__.py": "",
            "billing/a.py": "from billing import b\n",
            "billing/b.py": "def f():\n    from .a import thing\n    return thing\n",
            "billing/c.py": "import billing.a\n",
        }
    )
    circles = structure.import_circles(sources)
    assert [c.modules for c in circles] == [["billing.a", "billing.b"]]
    text = circles[0].describe()
    assert "billing.a -> billing.b (billing/a.py:1)" in text
    assert "billing.b -> billing.a (billing/b.py:2)" in text


def test_a_circle_through_a_package_init_is_found():
    sources = structure.sources_from_dict(
        {
            "connectors/__init__.py": "",
            "connectors/sandbox/__init__.py": "def __getattr__(name):\n    from . import core\n",
            "connectors/sandbox/core.py": "def load():\n    from connectors.syncro import sandbox\n",
            "connectors/sandbox/app.py": "",
            "connectors/syncro/__init__.py": "",
            "connectors/syncro/sandbox.py": "from connectors.sandbox.app import Ctx\n",
        }
    )
    (circle,) = structure.import_circles(sources)
    assert circle.modules == [
        "connectors.sandbox",
        "connectors.sandbox.core",
        "connectors.syncro.sandbox",
    ]


def test_type_checking_imports_and_one_way_imports_are_not_circles():
    sources = structure.sources_from_dict(
        {
            "accounts/__init__.py": "",
            "accounts/models.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n"
                "    from billing.models import Draft\n"
            ),
            "billing/__init__.py": "",
            "billing/models.py": "from accounts.models import Tenant\n",
        }
    )
    assert structure.import_circles(sources) == []


def test_a_vendor_branch_in_shared_code_is_found_with_file_and_line():
    snippet = (
        "from accounts.models import Vendor\n"
        "\n"
        "def budget(connection):\n"
        "    if connection.vendor == Vendor.SYNCRO:\n"
        "        return 180\n"
        "    return 60\n"
    )
    sources = structure.sources_from_dict({"connectors/ratelimit.py": snippet})
    branches = structure.find_vendor_branches(sources)
    assert [str(b) for b in branches] == [
        "connectors/ratelimit.py:4: if connection.vendor == Vendor.SYNCRO:"
    ]


@pytest.mark.parametrize(
    "expression",
    [
        'vendor == "synchroteam"',
        '"fieldcamp" != self.vendor',
        "event.vendor in (Vendor.SYNCRO, Vendor.FIELDCAMP)",
        "kind == Vendor.FIELDCAMP.value",
        'source_vendor == "halopsa"',
        "connection.vendor == SYNCRO",
    ],
)
def test_every_form_of_vendor_comparison_is_found(expression):
    sources = structure.sources_from_dict({"billing/x.py": f"ok = {expression}\n"})
    assert len(structure.find_vendor_branches(sources)) == 1


def test_importing_a_module_by_vendor_name_is_found():
    snippet = (
        "from importlib import import_module\n"
        "def streams(vendor):\n"
        '    return import_module(f"connectors.{vendor}.mapping").STREAMS\n'
    )
    sources = structure.sources_from_dict({"connectors/sync.py": snippet})
    assert [b.line for b in structure.find_vendor_branches(sources)] == [3]


def test_a_match_on_the_vendor_is_found():
    snippet = "match connection.vendor:\n    case Vendor.SYNCRO:\n        pass\n"
    sources = structure.sources_from_dict({"connectors/summary.py": snippet})
    assert len(structure.find_vendor_branches(sources)) == 1


@pytest.mark.parametrize(
    "expression",
    [
        'connection.vendor == "postgresql"',
        'connection.vendor != "sqlite"',
        "a.vendor == b.vendor",
        'self.vendor in ("*", vendor)',
        "vendor not in VENDORS",
        "vendor is None",
    ],
)
def test_database_vendors_and_lookups_are_not_vendor_branches(expression):
    sources = structure.sources_from_dict({"connectors/x.py": f"ok = {expression}\n"})
    assert structure.find_vendor_branches(sources) == []


@pytest.mark.parametrize(
    "path",
    ["connectors/syncro/services.py", "connectors/sandbox/synchroteam/routes.py"],
)
def test_a_vendor_may_name_itself_in_its_own_folder(path):
    sources = structure.sources_from_dict({path: "ok = vendor == Vendor.SYNCRO\n"})
    assert structure.find_vendor_branches(sources) == []


def test_the_sandbox_framework_is_shared_code():
    sources = structure.sources_from_dict(
        {"connectors/sandbox/core.py": 'ok = vendor == "syncro"\n'}
    )
    assert len(structure.find_vendor_branches(sources)) == 1


def test_lines_count_the_emulators_wherever_they_live():
    sources = structure.sources_from_dict(
        {
            "accounts/models.py": "a = 1\nb = 2\n",
            "connectors/sync.py": "a = 1\n",
            "connectors/sandbox/core.py": "a = 1\nb = 2\nc = 3\n",
            "connectors/syncro/sandbox.py": "a = 1\nb = 2\n",
        }
    )
    lines = structure.lines_per_package(sources)
    assert lines["connectors"] == 6
    assert lines["connectors/sandbox"] == 3
    assert lines["emulators (sandbox/, <vendor>/sandbox.py)"] == 5
    assert lines["total without emulators"] == 3


def test_the_report_prints_every_figure(capsys):
    spec = importlib.util.spec_from_file_location(
        "fieldline_structure_report", ROOT / "scripts" / "structure_report.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main([]) == 0
    table = capsys.readouterr().out
    for heading in (
        "Lines per top-level package",
        "Files over 500 lines",
        "Views over 30 lines",
        "Functions over 60 lines",
        "Import circles",
        "Vendor-name branches",
        "Docstrings on public functions",
    ):
        assert heading in table
    assert script.main(["--json"]) == 0
    assert '"import_circles"' in capsys.readouterr().out
