"""USSD provider sessions that ended, remembered for as long as a USSD session lives.

Per phone and provider session: which request ended it (a repeat of that request still gets
its screen) and in which language, so an answer in a session that ended (ours or the
network's) gets a clean end of session instead of a turn (`gateway.channels.ussd.core`).
Keys sit under the phone's hash tag (`Keys.ussd_ended`):
`mg:{<hmac>}:ussd:ended:<hmac of session>`. Errors: `StoreUnavailable`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gateway.dialogs.model import ChannelKind
from gateway.state.errors import translated
from gateway.state.store import SESSION_TTL_S, SessionStore

__all__ = ["Ended", "EndedSessions"]

_TTL_S = SESSION_TTL_S[ChannelKind.USSD]


@dataclass(frozen=True, slots=True)
class Ended:
    """A provider session that ended, and the language it ended in (None: not known)."""

    lang: str | None


@translated
class EndedSessions:
    """The ended provider sessions of every phone, next to their USSD sessions."""

    def __init__(self, sessions: SessionStore) -> None:
        self.sessions = sessions

    def key(self, phone: str, session_id: str) -> str:
        return self.sessions.keys.ussd_ended(phone, session_id)

    async def mark(self, phone: str, session_id: str, message_id: str, lang: str | None) -> None:
        """`message_id` ended the provider session `session_id`, in `lang`."""
        doc = json.dumps({"m": self.sessions.keys.digest(message_id), "l": lang})
        await self.sessions.redis.set(self.key(phone, session_id), doc, ex=_TTL_S)

    async def mark_aborted(self, phone: str, session_id: str, message_id: str) -> None:
        """The network ended the session: marked in the language of the phone's session."""
        stored = await self.sessions.load(ChannelKind.USSD, phone)
        lang = stored.lang.value if stored is not None and stored.lang is not None else None
        await self.mark(phone, session_id, message_id, lang)

    async def clear(self, phone: str, session_id: str) -> None:
        await self.sessions.redis.delete(self.key(phone, session_id))

    async def ended(self, phone: str, session_id: str, message_id: str) -> Ended | None:
        """How `session_id` ended, if it did; None if it did not, or if `message_id` is the
        request that ended it (its repeat gets its screen again)."""
        raw = await self.sessions.redis.get(self.key(phone, session_id))
        if raw is None:
            return None
        doc: dict[str, Any] = json.loads(raw)
        if doc.get("m") == self.sessions.keys.digest(message_id):
            return None
        lang = doc.get("l")
        return Ended(lang=str(lang) if lang is not None else None)
