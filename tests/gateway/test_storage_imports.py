"""Only the state layer talks to Redis and SQL: a ratchet on `redis`/`sqlalchemy` imports.

`gateway/state/` (every key, script, table and connection) and `gateway/migrations/` may
import `redis` and `sqlalchemy`. Every other module of `gateway/` that still does is listed in
`ALLOWED` with the reason it still does; a module not listed fails, and so does a listed one
that no longer needs to be (take it off). The list only shrinks (issue #23 item 7): catching
`RedisError`/`SQLAlchemyError` goes once the stores raise `gateway.state.errors.StoreError`,
a store goes once it moves under `gateway/state/`. Imports inside functions count, and so do
imports under `if TYPE_CHECKING:` (a type from the driver is a dependency on the driver).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = ROOT / "gateway"
STORAGE = {"redis", "sqlalchemy"}
OWNERS = ("gateway/state/", "gateway/migrations/")

ALLOWED: dict[str, str] = {}


def storage_imports(path: Path) -> set[str]:
    """The `redis`/`sqlalchemy` modules `path` imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        found.update(name for name in names if name.split(".")[0] in STORAGE)
    return found


def importers() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(GATEWAY.rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name.startswith(OWNERS):
            continue
        modules = storage_imports(path)
        if modules:
            found[name] = modules
    return found


def test_only_the_state_layer_imports_redis_or_sqlalchemy() -> None:
    found = importers()
    new = {name: sorted(mods) for name, mods in found.items() if name not in ALLOWED}
    assert not new, f"import storage only in gateway/state/ (StoreError for errors): {new}"
    stale = sorted(set(ALLOWED) - set(found))
    assert not stale, f"no longer import redis/sqlalchemy: take them off ALLOWED: {stale}"


def test_the_scan_sees_every_kind_of_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "import redis.asyncio\n"
        "if TYPE_CHECKING:\n    from sqlalchemy import Engine\n"
        "def f() -> None:\n    from redis.exceptions import RedisError\n"
        "from . import sqlalchemy\n"
    )
    assert storage_imports(module) == {"redis.asyncio", "sqlalchemy", "redis.exceptions"}
