"""The registry of identity key generations (`identity_key`), checked by every process at start.

Each generation of the identity key chain (gateway/state/keyring.py) has a row: its
fingerprint (an HMAC of a constant under that key: it proves which key it was, never reveals
it), when a process first ran with it, and when `gateway rekey` had moved every row to it.
A process whose keys do not match the registry refuses to start, with one line: a missing or
wrong `GATEWAY_IDENTITY_KEY_PREVIOUS` would otherwise read nothing it wrote before (every
binding and opt-out silently gone), and a process still holding the old key after a rotation
would write rows nobody finds. The first process to run with a new key registers it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from gateway.state.keyring import KeyRing
from gateway.state.migrate import ensure_at_head
from gateway.state.schema import dialect_insert, identity_key

__all__ = ["REDIS_CARRY", "KeyMismatch", "checked_keyring", "open_keyring", "registry"]

# How long after a rotation Redis lockouts are also read and counted under the previous
# generation: longer than the longest lockout window and lock (24 h, gateway/state/lockout.py).
REDIS_CARRY = timedelta(hours=48)
PREVIOUS = "GATEWAY_IDENTITY_KEY_PREVIOUS"


class KeyMismatch(Exception):
    """The configured identity keys are not the ones this database's hashes were made with."""


def registry(conn: sa.Connection) -> dict[int, Any]:
    """The registry's rows by generation."""
    return {row.gen: row for row in conn.execute(sa.select(identity_key))}


def _check(ring: KeyRing, rows: dict[int, Any]) -> None:
    for gen, row in sorted(rows.items()):
        if gen <= ring.gen and row.fingerprint != ring.fingerprint(gen):
            which = "GATEWAY_IDENTITY_KEY" if gen == ring.gen else f"key {gen} of {PREVIOUS}"
            raise KeyMismatch(
                f"identity key fingerprint mismatch: {which} is not generation {gen} of the "
                f"keys this database was hashed with (fingerprint "
                f"{ring.fingerprint(gen)[:8]}, expected {row.fingerprint[:8]}); {PREVIOUS} "
                "must list every earlier key, oldest first"
            )
    known = max(rows, default=0)
    if known > ring.gen:
        raise KeyMismatch(
            f"identity keys: this database has seen {known} generations of the identity key "
            f"but the configuration names {ring.gen}: GATEWAY_IDENTITY_KEY is an earlier key "
            f"(a process still runs the old configuration?); set the newest key, the earlier "
            f"ones in {PREVIOUS}, oldest first"
        )


def open_keyring(
    engine: sa.Engine, keys: Sequence[bytes] | KeyRing, *, now: datetime | None = None
) -> KeyRing:
    """The ring of `keys` (oldest first) once checked against the registry, new generations
    registered, with the generations lookups must read (blocking: run it in a thread).
    Raises `KeyMismatch`."""
    ring = keys if isinstance(keys, KeyRing) else KeyRing(tuple(keys))
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        rows = registry(conn)
        _check(ring, rows)
        new = [
            {
                "gen": gen,
                "fingerprint": ring.fingerprint(gen),
                "added_at": now,
                # The first key has nothing older to move rows from.
                "rekeyed_at": now if gen == 1 else None,
                "progress": None,
            }
            for gen in range(max(rows, default=0) + 1, ring.gen + 1)
        ]
        if new:
            conn.execute(dialect_insert(engine)(identity_key).on_conflict_do_nothing(), new)
    if new:  # another process may have registered another key meanwhile
        with engine.connect() as conn:
            rows = registry(conn)
        _check(ring, rows)
    done = [gen for gen, row in rows.items() if row.rekeyed_at is not None]
    read_from = max(done, default=1)
    newest = rows[ring.gen].added_at
    carry = ring.gen > 1 and newest > now - REDIS_CARRY
    return KeyRing(ring.keys, read_from=read_from, carry=carry)


def checked_keyring(engine: sa.Engine, keys: Sequence[bytes]) -> KeyRing:
    """At start (blocking): the schema at its newest revision (`SchemaOutdated` otherwise),
    then `open_keyring`."""
    ensure_at_head(engine)
    return open_keyring(engine, keys)
