"""USSD provider sessions that ended, remembered for as long as a USSD session lives.

Per phone and provider session: which request ended it (a repeat of that request still gets
its screen) and in which language, so an answer in a session that ended (ours or the
network's) gets a clean end of session instead of a turn (`gateway.channels.ussd.core`).
Keys sit under the phone's hash tag (`Keys.ussd_ended`):
`mg:{<hmac>}:ussd:ended:<hmac of session>`; the value is `gateway.state.ends`'s. A turn
forgets, checks and keeps an end inside its own two round trips (`end` names it for
`SessionStore.open_turn` and `close_turn`); a network abort keeps one on its own. Errors:
`StoreUnavailable`.
"""

from __future__ import annotations

from gateway.dialogs.model import ChannelKind
from gateway.state.ends import SessionEnd
from gateway.state.errors import translated
from gateway.state.store import SESSION_TTL_S, SessionStore

__all__ = ["EndedSessions"]

_TTL_S = SESSION_TTL_S[ChannelKind.USSD]


@translated
class EndedSessions:
    """The ended provider sessions of every phone, next to their USSD sessions."""

    def __init__(self, sessions: SessionStore) -> None:
        self.sessions = sessions

    def key(self, phone: str, session_id: str) -> str:
        return self.sessions.keys.ussd_ended(phone, session_id)

    def end(self, phone: str, session_id: str, message_id: str, *, opens: bool) -> SessionEnd:
        """The end of `session_id` as the turn of `message_id` sees it: forgotten when the
        request opens the provider session (`opens`), else checked."""
        return SessionEnd(
            key=self.key(phone, session_id),
            mark=self.sessions.keys.digest(message_id),
            opens=opens,
            ttl_s=_TTL_S,
        )

    async def mark(self, phone: str, session_id: str, message_id: str, lang: str | None) -> None:
        """`message_id` ended the provider session `session_id`, in `lang`."""
        end = self.end(phone, session_id, message_id, opens=False)
        await self.sessions.keep_end(end, lang)

    async def mark_aborted(self, phone: str, session_id: str, message_id: str) -> None:
        """The network ended the session: marked in the language of the phone's session."""
        stored = await self.sessions.load(ChannelKind.USSD, phone)
        lang = stored.lang.value if stored is not None and stored.lang is not None else None
        await self.mark(phone, session_id, message_id, lang)
