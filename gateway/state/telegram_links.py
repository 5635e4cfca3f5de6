"""Which phone a Telegram chat proved it holds, by sharing its own contact (issue #9).

A Telegram user has no phone number until they share their contact; from then the phone is
their identity exactly as on SMS. The link must survive restarts, so it lives in SQL
(`telegram_link`), storing as little as possible: the row is found by a keyed hash of the
chat id (`address_h`, as phones are), and the phone is sealed with AES-GCM under a key
derived from the identity key and the chat id (after a rotation: from the chain of keys, and
sealed again under the newest when the chat next shows up). The table alone reveals no
phone, nor which chat a row belongs to; only a request from that chat opens its row. Calls
run in a worker thread so the event loop never waits on the database.
"""

from __future__ import annotations

import base64
import os
from datetime import datetime
from functools import partial

import anyio.to_thread
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.dialects import postgresql, sqlite

from gateway.state.errors import translated
from gateway.state.keyring import KeyRing
from gateway.state.schema import telegram_link

__all__ = ["TelegramLinks"]

_NONCE_BYTES = 12


@translated
class TelegramLinks:
    def __init__(self, engine: sa.Engine, *, key_secret: bytes | KeyRing) -> None:
        self.engine = engine
        self._ring = KeyRing.of(key_secret)

    def _chat_hs(self, chat_id: int) -> list[str]:
        return self._ring.address_hs(f"telegram:{chat_id}")

    def _cipher(self, chat_id: int, gen: int | None = None) -> AESGCM:
        return AESGCM(self._ring.derive(f"telegram-link\0{chat_id}".encode(), gen))

    def seal(self, chat_id: int, phone: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        box = self._cipher(chat_id).encrypt(nonce, phone.encode(), b"telegram_link")
        return base64.urlsafe_b64encode(nonce + box).decode()

    def _opened(self, chat_id: int, sealed: str) -> tuple[str, int] | None:
        """The phone in `sealed` and the key generation that sealed it."""
        try:
            raw = base64.urlsafe_b64decode(sealed.encode())
        except ValueError:
            return None
        for gen in range(self._ring.gen, 0, -1):
            try:
                plain = self._cipher(chat_id, gen).decrypt(
                    raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], b"telegram_link"
                )
            except (InvalidTag, ValueError):
                continue
            return plain.decode(), gen
        return None

    def open(self, chat_id: int, sealed: str) -> str | None:
        """The phone in `sealed`, or None when it does not open (another key, tampered)."""
        opened = self._opened(chat_id, sealed)
        return opened[0] if opened is not None else None

    async def phone(self, chat_id: int) -> str | None:
        """The E.164 phone this chat proved, or None. A link sealed or found under an older
        identity key generation is sealed again under the newest (the rekey cannot: it has
        no chat id)."""
        found = await anyio.to_thread.run_sync(partial(self._read, self._chat_hs(chat_id)))
        if found is None:
            return None
        sealed, key_gen, linked_at = found
        opened = self._opened(chat_id, sealed)
        if opened is None:
            return None
        phone, gen = opened
        if gen < self._ring.gen or key_gen < self._ring.gen:
            await self.link(chat_id, phone, linked_at)
        return phone

    async def link(self, chat_id: int, phone: str, at: datetime) -> None:
        """Record (or replace) the phone this chat shared as its own contact."""
        if at.tzinfo is None:
            raise ValueError("a link time must be timezone-aware")
        hashes = self._chat_hs(chat_id)
        row = {"chat_h": hashes[0], "phone_box": self.seal(chat_id, phone), "linked_at": at}
        await anyio.to_thread.run_sync(
            partial(self._write, {**row, "key_gen": self._ring.gen}, hashes[1:])
        )

    def _read(self, hashes: list[str]) -> tuple[str, int, datetime] | None:
        t = telegram_link
        query = (
            sa.select(t.c.phone_box, t.c.key_gen, t.c.linked_at)
            .where(t.c.chat_h.in_(hashes))
            .order_by(t.c.linked_at.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            found = conn.execute(query).first()
        return (str(found.phone_box), int(found.key_gen), found.linked_at) if found else None

    def _write(self, row: dict[str, object], older: list[str]) -> None:
        dialect = self.engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"telegram links need SQLite or PostgreSQL, not {dialect}")
        insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(telegram_link)
        statement = insert.on_conflict_do_update(
            index_elements=[telegram_link.c.chat_h],
            set_={
                "phone_box": insert.excluded.phone_box,
                "linked_at": insert.excluded.linked_at,
                "key_gen": insert.excluded.key_gen,
            },
        )
        with self.engine.begin() as conn:
            if older:  # the link moves to the newest key (the rekey then skips it)
                conn.execute(sa.delete(telegram_link).where(telegram_link.c.chat_h.in_(older)))
            conn.execute(statement, row)
