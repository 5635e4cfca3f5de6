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

_CATCHES = "catches the driver's errors: to go with StoreError"
ALLOWED: dict[str, str] = {
    "gateway/admin.py": _CATCHES + " (SQLAlchemyError)",
    "gateway/alerts/consumer.py": _CATCHES + " (RedisError, SQLAlchemyError)",
    "gateway/app.py": "catches RedisError around the breaker's state (/metrics, /readyz)",
    "gateway/channels/chat.py": _CATCHES + " (RedisError, SQLAlchemyError)",
    "gateway/channels/kannel_sms.py": _CATCHES + " (RedisError, SQLAlchemyError)",
    "gateway/channels/meta_whatsapp.py": "its `meta:seen` marker talks to Redis directly; catches",
    "gateway/channels/telegram.py": _CATCHES + " (SQLAlchemyError)",
    "gateway/channels/twilio_sms.py": _CATCHES + " (RedisError, SQLAlchemyError)",
    "gateway/channels/twilio_whatsapp.py": _CATCHES + " (SQLAlchemyError)",
    "gateway/channels/ussd/core.py": "`EndedSessions` (a Redis store) still lives here; catches",
    "gateway/cli/migrate.py": "prints the database's errors (SQLAlchemyError, DBAPIError)",
    "gateway/cli/operators.py": "writes the CLI's audit line with SQL: to go to the audit store",
    "gateway/console/actions.py": _CATCHES + " (RedisError, SQLAlchemyError)",
    "gateway/console/dashboard.py": _CATCHES + " (RedisError)",
    "gateway/console/forget.py": "deletes a phone's rows from five tables with SQL of its own",
    "gateway/console/lookup.py": _CATCHES + " (SQLAlchemyError)",
    "gateway/console/operators.py": "`OperatorStore` (SQL) not yet moved under state/",
    "gateway/failures.py": "names the part that failed from the driver's exception types",
    "gateway/migrate.py": "runs Alembic on an engine: to join the migrations or state/",
    "gateway/outbox/queue.py": "takes the Redis client it hands to state/outbox (a type only)",
    "gateway/outbox/records.py": "the outbound message records (SQL) not yet under state/",
    "gateway/outbox/senders/__init__.py": "hands a Redis client to the senders it builds",
    "gateway/outbox/senders/sink.py": "the sink's stream (Redis): to go with the outbox's state",
    "gateway/outbox/senders/telegram.py": "a per-chat token bucket on Redis",
    "gateway/outbox/outcomes.py": _CATCHES + " (RedisError, SQLAlchemyError)",
    "gateway/outbox/sending.py": _CATCHES + " (RedisError, SQLAlchemyError)",
    "gateway/outbox/worker.py": _CATCHES + " (RedisError, ResponseError, SQLAlchemyError)",
    "gateway/resilience/breaker.py": "the breaker's record is a Redis script: to move to state/",
    "gateway/resilience/cache.py": "the response cache on Redis: to move to state/",
    "gateway/resilience/limits.py": "the rate limit's script on Redis: to move to state/",
    "gateway/resilience/singleflight.py": "the single-flight lease on Redis: to move to state/",
    "gateway/runtime.py": "holds the Redis client and the engine it opens through state/",
    "gateway/turns/turn.py": _CATCHES + " (RedisError)",
}


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
