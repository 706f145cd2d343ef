"""The Fidelity section of docs/sandbox.md is what scripts/fidelity_table.py generates now."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fidelity_table.py"


@pytest.fixture(scope="module")
def fidelity():
    spec = importlib.util.spec_from_file_location("fieldline_fidelity_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_docs_table_is_up_to_date(fidelity):
    assert fidelity.current() == fidelity.render(), (
        "docs/sandbox.md Fidelity is stale: python scripts/fidelity_table.py --write"
    )


def test_every_spec_operation_and_every_emulated_route_has_a_row(fidelity):
    rows, counts = fidelity.syncro_rows()
    assert counts["documented"] == 170  # the spec's operations
    spec_paths = [r for r in rows if "sandbox only" not in r]
    assert len(spec_paths) == 110  # the spec's paths
    emulated = {(m, fidelity._norm(p)) for m, p, _ in fidelity._vendor("syncro")._route_table}
    assert counts["emulated"] + sum("not in the spec" in r for r in rows) == len(emulated)


def test_a_route_added_to_an_emulator_changes_the_table(fidelity, monkeypatch):
    cls = fidelity._vendor("fieldcamp")
    before = fidelity.vendor_rows("fieldcamp", fidelity.FIELDCAMP)[1]["emulated"]
    from connectors.sandbox.vendor import url_map

    table = [*cls._route_table, ("POST", "/visits", "visits")]  # not emulated (yet)
    monkeypatch.setattr(cls, "_route_table", table)
    monkeypatch.setattr(cls, "_url_map", url_map(table))
    assert fidelity.vendor_rows("fieldcamp", fidelity.FIELDCAMP)[1]["emulated"] == before + 1
    assert fidelity.render() != fidelity.current()


def test_quirks_name_only_emulated_routes(fidelity, monkeypatch):
    monkeypatch.setitem(fidelity.SYNCRO_QUIRKS, ("GET", "/no_such_route"), ("x", "spec"))
    with pytest.raises(SystemExit, match="no_such_route"):
        fidelity.syncro_rows()
