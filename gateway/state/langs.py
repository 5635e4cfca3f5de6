"""The language a phone chose with AR/FR, remembered in Redis beside its sessions.

The choice lives in SQL (`alert_preference.lang`, `gateway.state.alerts.preferences`) and is asked
for on every new session (`gateway.dialogs.engine`). Asked of SQL each time, that read (a
query in a worker thread) doubled a USSD dial's CPU (issue #24, `bench/README.md`). So the
turn's first Redis round trip reads `mg:{<hmac>}:lang` along with the session
(`gateway.state.store.SessionStore.open_turn`), and the turn's `Preferences` answer from it:

- a value (`ar`, `fr`, or `-` for "never chose") is the answer, with no SQL read;
- no value (first dial of the day, Redis restarted): SQL answers and the value is set with
  `SET NX` and a day's expiry, so it never overwrites a choice written meanwhile;
- AR/FR writes SQL first, then sets the value (plain `SET`): the next session on any worker
  and channel reads the new choice.

SQL stays the record: losing Redis loses nothing but the shortcut.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis

from gateway.preferences import AlertsSetting, Preferences
from gateway.state.errors import translated
from gateway.state.keys import Keys

__all__ = ["LANG_TTL_S", "LanguageMemo", "RememberedLanguage", "remembered"]

LANG_TTL_S = 24 * 3600
_NONE = b"-"  # the phone never chose: remembered too, most phones never do


@translated
@dataclass(frozen=True, slots=True)
class LanguageMemo:
    """Where a user's chosen language is remembered (the user's hash tag: one cluster slot)."""

    redis: Redis
    keys: Keys
    ttl_s: int = LANG_TTL_S

    def key(self, user: str) -> str:
        return self.keys.lang(user)

    async def fill(self, user: str, lang: str | None) -> None:
        """Remember what SQL answered, unless a choice was remembered meanwhile."""
        value = lang.encode() if lang else _NONE
        await self.redis.set(self.key(user), value, nx=True, ex=self.ttl_s)

    async def store(self, user: str, lang: str) -> None:
        """Remember a choice just written to SQL."""
        await self.redis.set(self.key(user), lang.encode(), ex=self.ttl_s)


def decode(raw: bytes) -> str | None:
    return None if raw == _NONE else raw.decode()


@translated
@dataclass(slots=True)
class RememberedLanguage:
    """The `Preferences` of one turn of `user`: `lang` from what the turn's first round trip
    read (`raw`, None when nothing was remembered), the rest passed to SQL as it is."""

    inner: Preferences
    memo: LanguageMemo
    user: str
    raw: bytes | None

    async def lang(self, phone: str) -> str | None:
        if phone == self.user and self.raw is not None:
            return decode(self.raw)
        found = await self.inner.lang(phone)
        await self.memo.fill(phone, found)
        return found

    async def set_lang(self, phone: str, lang: str, at: datetime | None = None) -> None:
        await self.inner.set_lang(phone, lang, at)
        await self.memo.store(phone, lang)
        if phone == self.user:
            self.raw = lang.encode()

    async def opt_out(self, phone: str, at: datetime | None = None) -> None:
        await self.inner.opt_out(phone, at)

    async def opt_in(self, phone: str, at: datetime | None = None) -> None:
        await self.inner.opt_in(phone, at)

    async def set_channel(
        self, phone: str, channel: str, chat_address: str | None = None, at: datetime | None = None
    ) -> None:
        await self.inner.set_channel(phone, channel, chat_address, at)

    async def choose_alerts(
        self,
        phone: str,
        *,
        rhythm: str | None = None,
        kinds: frozenset[str] | None = None,
        at: datetime | None = None,
    ) -> AlertsSetting:
        return await self.inner.choose_alerts(phone, rhythm=rhythm, kinds=kinds, at=at)


def remembered(
    preferences: Preferences | None, memo: LanguageMemo | None, user: str, raw: bytes | None
) -> Preferences | None:
    """The preferences of `user`'s turn (the turn's own, wrapped): its language from the first
    round trip (`raw`)."""
    if preferences is None or memo is None:
        return preferences
    return RememberedLanguage(preferences, memo, user, raw)
