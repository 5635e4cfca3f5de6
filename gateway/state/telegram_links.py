"""Which phone a Telegram chat proved it holds, by sharing its own contact (issue #9).

A Telegram user has no phone number until they share their contact; from then the phone is
their identity exactly as on SMS. The link must survive restarts, so it lives in SQL
(`telegram_link`), storing as little as possible: the row is found by a keyed hash of the
chat id (`address_h`, as phones are), and the phone is sealed with AES-GCM under a key
derived from the identity key and the chat id. The table alone reveals no phone, nor which
chat a row belongs to; only a request from that chat opens its row. Calls run in a worker
thread so the event loop never waits on the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from datetime import datetime
from functools import partial

import anyio.to_thread
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.dialects import postgresql, sqlite

from gateway.state.errors import translated
from gateway.state.schema import address_h, telegram_link

__all__ = ["TelegramLinks"]

_NONCE_BYTES = 12


@translated
class TelegramLinks:
    def __init__(self, engine: sa.Engine, *, key_secret: bytes) -> None:
        if not key_secret:
            raise ValueError("key_secret must not be empty")
        self.engine = engine
        self._secret = key_secret

    def _chat_h(self, chat_id: int) -> str:
        return address_h(self._secret, f"telegram:{chat_id}")

    def _cipher(self, chat_id: int) -> AESGCM:
        key = hmac.new(self._secret, f"telegram-link\0{chat_id}".encode(), hashlib.sha256)
        return AESGCM(key.digest())

    def seal(self, chat_id: int, phone: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        box = self._cipher(chat_id).encrypt(nonce, phone.encode(), b"telegram_link")
        return base64.urlsafe_b64encode(nonce + box).decode()

    def open(self, chat_id: int, sealed: str) -> str | None:
        """The phone in `sealed`, or None when it does not open (another key, tampered)."""
        try:
            raw = base64.urlsafe_b64decode(sealed.encode())
            plain = self._cipher(chat_id).decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], b"telegram_link"
            )
        except (InvalidTag, ValueError):
            return None
        return plain.decode()

    async def phone(self, chat_id: int) -> str | None:
        """The E.164 phone this chat proved, or None."""
        sealed = await anyio.to_thread.run_sync(partial(self._read, self._chat_h(chat_id)))
        return self.open(chat_id, sealed) if sealed is not None else None

    async def link(self, chat_id: int, phone: str, at: datetime) -> None:
        """Record (or replace) the phone this chat shared as its own contact."""
        if at.tzinfo is None:
            raise ValueError("a link time must be timezone-aware")
        row = {"chat_h": self._chat_h(chat_id), "phone_box": self.seal(chat_id, phone)}
        await anyio.to_thread.run_sync(partial(self._write, {**row, "linked_at": at}))

    def _read(self, chat_h: str) -> str | None:
        query = sa.select(telegram_link.c.phone_box).where(telegram_link.c.chat_h == chat_h)
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar_one_or_none()
        return str(value) if value is not None else None

    def _write(self, row: dict[str, object]) -> None:
        dialect = self.engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"telegram links need SQLite or PostgreSQL, not {dialect}")
        insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(telegram_link)
        statement = insert.on_conflict_do_update(
            index_elements=[telegram_link.c.chat_h],
            set_={"phone_box": insert.excluded.phone_box, "linked_at": insert.excluded.linked_at},
        )
        with self.engine.begin() as conn:
            conn.execute(statement, row)
