"""Console operators in SQL (`console_operator`): argon2id passwords, disabling, a
supervisor's sealed TOTP secret, the demo accounts (`python -m gateway operators`, in
`gateway/cli/operators.py`, manages them from the command line; `/console/operators`, in
`gateway/console/team.py`, from the console). A disabled operator, or one whose password
changed, loses every session at its next request: sessions begun before `sessions_after` are
over. Errors: `StoreUnavailable` when the database does not answer.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.state.errors import translated
from gateway.state.keyring import KeyRing
from gateway.state.schema import console_operator

__all__ = [
    "DEMO_OPERATORS",
    "DEMO_PASSWORDS",
    "DEMO_TOTP_SECRET",
    "OperatorStore",
    "StoredOperator",
]

ROLES = ("agent", "supervisor")
MIN_PASSWORD_CHARS = 10
_hasher = PasswordHasher()
# Verified when the name is unknown, so that answer takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-password-of-anyone")
_NONCE_BYTES = 12

# The demo's accounts (README), made at start-up in development only; production refuses
# their passwords and this TOTP secret even in a database copied from a demo.
DEMO_TOTP_SECRET = "MASSARDEMOTOTPSECRETDEVONLY23456"  # noqa: S105 - base32, 160 bits
DEMO_OPERATORS = {"amina": "agent", "samir": "supervisor"}
DEMO_PASSWORDS = {"amina": "demo-agent-password", "samir": "demo-supervisor-password"}


class OperatorExists(ValueError):
    pass


class NoSuchOperator(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class StoredOperator:
    name: str
    role: str
    disabled_at: datetime | None = None
    sessions_after: datetime | None = None
    totp_secret: str | None = None  # opened; None: not enrolled
    totp_unreadable: bool = False  # enrolled, but the box does not open (key rotated, damaged)
    created_at: datetime | None = None

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None

    def session_valid(self, created: float) -> bool:
        """Whether a session begun at `created` (epoch s) may go on."""
        if self.disabled_at is not None:
            return False
        return self.sessions_after is None or created >= self.sessions_after.timestamp()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"a password has at least {MIN_PASSWORD_CHARS} characters")


@translated
class OperatorStore:
    def __init__(self, engine: sa.Engine, *, key_secret: bytes | KeyRing = b"") -> None:
        self.engine = engine
        self._ring = KeyRing.of(key_secret) if key_secret else None

    # --- the TOTP secret, sealed (under the newest identity key; opened under any) ----------

    def _cipher(self, name: str, gen: int | None = None) -> AESGCM:
        if self._ring is None:
            raise ValueError("sealing a TOTP secret needs the identity key")
        return AESGCM(self._ring.derive(f"console-totp\0{name}".encode(), gen))

    def seal(self, name: str, secret: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        box = self._cipher(name).encrypt(nonce, secret.encode(), b"console_operator")
        return base64.urlsafe_b64encode(nonce + box).decode()

    def _opened(self, name: str, sealed: str | None) -> tuple[str, int] | None:
        """The secret in `sealed` and the key generation that opened it."""
        if not sealed or self._ring is None:
            return None
        try:
            raw = base64.urlsafe_b64decode(sealed.encode())
        except ValueError:
            return None
        for gen in range(self._ring.gen, 0, -1):
            try:
                plain = self._cipher(name, gen).decrypt(
                    raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], b"console_operator"
                )
            except (InvalidTag, ValueError):
                continue
            return plain.decode(), gen
        return None

    def open(self, name: str, sealed: str | None) -> str | None:
        opened = self._opened(name, sealed)
        return opened[0] if opened is not None else None

    def reseal_all(self) -> int:
        """Seal again under the newest key every TOTP secret sealed under an older one (the
        rekey, gateway/state/rekey.py); how many."""
        if self._ring is None:
            return 0
        table = console_operator
        query = sa.select(table.c.name, table.c.totp_box).where(table.c.totp_box.is_not(None))
        done = 0
        with self.engine.begin() as conn:
            for row in conn.execute(query).all():
                opened = self._opened(row.name, row.totp_box)
                if opened is None or opened[1] == self._ring.gen:
                    continue
                box = self.seal(row.name, opened[0])
                statement = sa.update(table).where(
                    table.c.name == row.name, table.c.totp_box == row.totp_box
                )
                done += conn.execute(statement.values(totp_box=box)).rowcount
        return done

    # --- writes ---------------------------------------------------------------------------

    def add(self, name: str, role: str, password: str, *, totp_secret: str | None = None) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if not name or len(name) > 64 or not name.replace("-", "").replace(".", "").isalnum():
            raise ValueError("a name is 1-64 letters, digits, '.' or '-'")
        check_password(password)
        row = {
            "name": name,
            "role": role,
            "password_hash": _hasher.hash(password),
            "created_at": datetime.now(UTC),
            "totp_box": self.seal(name, totp_secret) if totp_secret else None,
        }
        with self.engine.begin() as conn:
            found = conn.execute(
                sa.select(console_operator.c.name).where(console_operator.c.name == name)
            ).first()
            if found is not None:
                raise OperatorExists(name)
            try:  # another process may add the same name between the check and the insert
                conn.execute(sa.insert(console_operator).values(**row))
            except sa.exc.IntegrityError as exc:
                raise OperatorExists(name) from exc

    def _update(self, name: str, **values: Any) -> None:
        statement = (
            sa.update(console_operator).where(console_operator.c.name == name).values(**values)
        )
        with self.engine.begin() as conn:
            if conn.execute(statement).rowcount == 0:
                raise NoSuchOperator(name)

    def set_password(self, name: str, password: str) -> None:
        """A new password; every session of the operator ends."""
        check_password(password)
        now = datetime.now(UTC)
        self._update(name, password_hash=_hasher.hash(password), sessions_after=now)

    def disable(self, name: str) -> None:
        now = datetime.now(UTC)
        self._update(name, disabled_at=now, sessions_after=now)

    def enable(self, name: str) -> None:
        self._update(name, disabled_at=None)

    def set_totp(self, name: str, secret: str | None) -> None:
        """Enrol (a secret) or clear (None: enrolled again at the next sign-in)."""
        box = self.seal(name, secret) if secret else None
        if secret is None:
            self._update(name, totp_box=None, sessions_after=datetime.now(UTC))
        else:
            self._update(name, totp_box=box)

    def ensure_demo(self) -> list[str]:
        """The demo accounts that are missing, made (development only: the caller's check)."""
        made = []
        for name, role in DEMO_OPERATORS.items():
            if self.get(name) is not None:  # made by an earlier start: no password to hash
                continue
            secret = DEMO_TOTP_SECRET if role == "supervisor" else None
            try:
                self.add(name, role, DEMO_PASSWORDS[name], totp_secret=secret)
            except OperatorExists:
                continue
            made.append(name)
        return made

    # --- reads ----------------------------------------------------------------------------

    def _stored(self, row: Any) -> StoredOperator:
        return StoredOperator(
            name=row.name,
            role=row.role,
            disabled_at=row.disabled_at,
            sessions_after=row.sessions_after,
            totp_secret=(secret := self.open(row.name, row.totp_box)),
            totp_unreadable=bool(row.totp_box) and secret is None,
            created_at=row.created_at,
        )

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
        return self._stored(row) if row is not None else None

    async def state(self, name: str) -> StoredOperator | None:
        """The operator as stored now (read on every console request)."""
        return await anyio.to_thread.run_sync(partial(self.get, name))

    def get(self, name: str) -> StoredOperator | None:
        query = sa.select(console_operator).where(console_operator.c.name == name[:64])
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return self._stored(row) if row is not None else None

    def all(self) -> list[StoredOperator]:
        query = sa.select(console_operator).order_by(console_operator.c.name)
        with self.engine.connect() as conn:
            return [self._stored(row) for row in conn.execute(query)]
