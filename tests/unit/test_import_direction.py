"""Imports point inward (DESIGN.md section 2): the inner packages never import the version
packages, the gateway or the API. Read from the source, so a new back-arrow fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CSMS = Path(__file__).resolve().parents[2] / "csms"
INNER = ("domain", "services", "store", "billing", "metering", "sharing")
OUTER = ("csms.ocpp16", "csms.ocpp201", "csms.gateway", "csms.api")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("package", INNER)
def test_inner_packages_do_not_import_outer_ones(package: str) -> None:
    wrong = sorted(
        f"{path.relative_to(CSMS.parent)} imports {name}"
        for path in (CSMS / package).rglob("*.py")
        for name in _imports(path)
        if any(name == outer or name.startswith(outer + ".") for outer in OUTER)
    )
    assert wrong == []


def test_the_rule_sees_an_import() -> None:
    assert "csms.ocpp16.dialect" in _imports(CSMS / "bootstrap.py")
