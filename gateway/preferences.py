"""A phone's lasting choices, as the engine reads and writes them: a leaf both the dialogs
(`gateway.dialogs.ports` names it among its ports) and the state layer (`gateway.state.langs`
wraps it) import, so neither imports the other. `gateway.state.alerts.preferences`'s
`SqlPreferences` is the one kept in SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from gateway.dialogs.model import AlertTimes

__all__ = ["AlertsSetting", "Preferences"]


@dataclass(frozen=True, slots=True)
class AlertsSetting:
    """Which alerts a phone gets and how often, after a choice in the alerts menu, and when
    the summaries go out (the alerts' settings)."""

    rhythm: str  # "instant" | "daily" (one digest a day) | "weekly" (one summary a week)
    kinds: frozenset[str]  # of "absence", "marks", "enrolment"
    times: AlertTimes = field(default_factory=AlertTimes)


class Preferences(Protocol):
    """What a phone chose that outlives its sessions: alerts stopped (STOP) or resumed (START)
    on the channel START came from, which alerts and how often (the alerts menu), and the
    language it picked with AR/FR."""

    async def opt_out(self, phone: str, at: datetime | None = None) -> None: ...

    async def opt_in(self, phone: str, at: datetime | None = None) -> None: ...

    async def lang(self, phone: str) -> str | None: ...

    async def set_lang(self, phone: str, lang: str, at: datetime | None = None) -> None: ...

    async def set_channel(
        self, phone: str, channel: str, chat_address: str | None = None, at: datetime | None = None
    ) -> None: ...

    async def choose_alerts(
        self,
        phone: str,
        *,
        rhythm: str | None = None,
        kinds: frozenset[str] | None = None,
        at: datetime | None = None,
    ) -> AlertsSetting:
        """Alerts on again for `phone`, with a new rhythm (every kind of alert again) or only
        these kinds (the rhythm kept); what it gets now."""
        ...
