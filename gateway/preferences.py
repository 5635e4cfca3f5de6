"""A phone's lasting choices, as the engine reads and writes them: a leaf both the dialogs
(`gateway.dialogs.ports` names it among its ports) and the state layer (`gateway.state.langs`
wraps it) import, so neither imports the other. `gateway.state.alerts.preferences`'s
`SqlPreferences` is the one kept in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

__all__ = ["Preferences"]


class Preferences(Protocol):
    """What a phone chose that outlives its sessions: alerts stopped (STOP) or resumed (START)
    on the channel START came from, and the language it picked with AR/FR."""

    async def opt_out(self, phone: str, at: datetime | None = None) -> None: ...

    async def opt_in(self, phone: str, at: datetime | None = None) -> None: ...

    async def lang(self, phone: str) -> str | None: ...

    async def set_lang(self, phone: str, lang: str, at: datetime | None = None) -> None: ...

    async def set_channel(
        self, phone: str, channel: str, chat_address: str | None = None, at: datetime | None = None
    ) -> None: ...
