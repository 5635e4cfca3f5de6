"""Dependencies point inward: the dialogs know no HTTP, Redis or provider (ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_PACKAGES = {"fastapi", "starlette", "httpx", "redis", "twilio", "telegram", "sqlalchemy"}
FORBIDDEN_MODULES = ("gateway.channels", "gateway.state", "gateway.app", "gateway.turns")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "gateway" / "dialogs").glob("*.py")), ids=str)
def test_dialogs_import_no_transport_or_storage(path: Path) -> None:
    names = imports_of(path)
    bad = {
        n for n in names if n.split(".")[0] in FORBIDDEN_PACKAGES or n.startswith(FORBIDDEN_MODULES)
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", sorted((ROOT / "backend_client").glob("*.py")), ids=str)
def test_backend_client_knows_nothing_of_the_gateway(path: Path) -> None:
    assert not {n for n in imports_of(path) if n.startswith(("gateway", "sandbox"))}
