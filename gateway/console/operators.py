"""Console operators in SQL (`console_operator`), their argon2id passwords, sign-in lockout.

`python -m gateway operators add NAME --role agent|supervisor` reads the password from
standard input when it is not a terminal (else asks twice). Failed sign-ins are counted in
Redis per name (a keyed hash of it, whether or not the name exists), so a guessed name and a
wrong password get the same answer and the same lockout.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import anyio.to_thread
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis.asyncio import Redis

from gateway.keys import Keys
from gateway.schema import console_operator

__all__ = ["OperatorStore", "SigninLock", "register"]

ROLES = ("agent", "supervisor")
MIN_PASSWORD_CHARS = 10
_NAME_LABEL = "operator\0"
_hasher = PasswordHasher()
# Verified when the name is unknown, so that answer takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-password-of-anyone")


class OperatorExists(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class StoredOperator:
    name: str
    role: str


class OperatorStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def add(self, name: str, role: str, password: str) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if not name or len(name) > 64 or not name.replace("-", "").replace(".", "").isalnum():
            raise ValueError("a name is 1-64 letters, digits, '.' or '-'")
        if len(password) < MIN_PASSWORD_CHARS:
            raise ValueError(f"a password has at least {MIN_PASSWORD_CHARS} characters")
        row = {
            "name": name,
            "role": role,
            "password_hash": _hasher.hash(password),
            "created_at": datetime.now(UTC),
        }
        with self.engine.begin() as conn:
            found = conn.execute(
                sa.select(console_operator.c.name).where(console_operator.c.name == name)
            ).first()
            if found is not None:
                raise OperatorExists(name)
            conn.execute(sa.insert(console_operator).values(**row))

    async def check(self, name: str, password: str) -> StoredOperator | None:
        """The operator if `password` is theirs; None otherwise (unknown name included)."""
        return await anyio.to_thread.run_sync(partial(self._check, name, password))

    def _check(self, name: str, password: str) -> StoredOperator | None:
        query = sa.select(console_operator).where(console_operator.c.name == name[:64])
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        try:
            _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        return StoredOperator(row.name, row.role) if row is not None else None


class SigninLock:
    """Failed sign-ins per name in a window; locked from the `limit`-th until the window ends."""

    def __init__(self, redis: Redis, *, key_secret: bytes, limit: int, lock_s: int) -> None:
        self.redis, self.keys, self.limit, self.lock_s = redis, Keys(key_secret), limit, lock_s

    def _key(self, name: str) -> str:
        digest = self.keys.digest(name.strip().lower(), label=_NAME_LABEL)
        return f"mg:{{console:{digest}}}:fails"

    async def locked(self, name: str) -> bool:
        count = await self.redis.get(self._key(name))
        return count is not None and int(count) >= self.limit

    async def failed(self, name: str) -> None:
        key = self._key(name)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self.lock_s)
            await pipe.execute()

    async def succeeded(self, name: str) -> None:
        await self.redis.delete(self._key(name))


def _add(args: argparse.Namespace) -> int:
    from gateway.cli import _load_settings
    from gateway.store import open_database

    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("massar-gateway: the passwords differ", file=sys.stderr)  # noqa: T201
            return 2
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    settings = _load_settings()
    engine = open_database(settings.database_url)
    try:
        OperatorStore(engine).add(args.name, args.role, password)
    except OperatorExists:
        print(f"massar-gateway: operator {args.name!r} exists already", file=sys.stderr)  # noqa: T201
        return 1
    except ValueError as exc:
        print(f"massar-gateway: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    except sa.exc.SQLAlchemyError as exc:
        print(  # noqa: T201
            f"massar-gateway: cannot write the operator ({type(exc).__name__}); "
            "run `python -m gateway migrate` first",
            file=sys.stderr,
        )
        return 1
    finally:
        engine.dispose()
    print(f"massar-gateway: operator {args.name} added ({args.role})")  # noqa: T201
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`operators add NAME --role agent|supervisor`."""
    p_ops = sub.add_parser("operators", help="the console's operators (hotline agents)")
    ops = p_ops.add_subparsers(dest="operators_command", required=True)
    p_add = ops.add_parser("add", help="add an operator; the password comes from standard input")
    p_add.add_argument("name")
    p_add.add_argument("--role", choices=ROLES, required=True)
    p_add.set_defaults(func=_add)
