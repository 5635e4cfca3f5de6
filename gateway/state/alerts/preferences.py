"""Each phone's alert preferences in SQL (`alert_preference`, keyed by the phone's HMAC).

The dialogs write through the `Preferences` port (`STOP`/`START`, `AR`/`FR`, the alerts
menu: which kinds, and at once, daily or weekly); the senders'
opt-out errors (Twilio 21610, a Telegram bot blocked) and Twilio's own STOP words write
through `opt_out`; the alerts consumer reads many phones at once (`for_phones`) and marks the
first alert a phone gets (`welcome`). No phone number is stored. Calls run in a worker thread
so the event loop never waits on the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import anyio.to_thread
import sqlalchemy as sa

from gateway.dialogs.model import AlertTimes
from gateway.preferences import AlertsSetting
from gateway.state.errors import translated
from gateway.state.keyring import KeyRing
from gateway.state.schema import alert_preference, dialect_insert

__all__ = ["ALERT_KINDS", "RHYTHMS", "AlertPreference", "SqlPreferences"]

ALERT_KINDS = frozenset({"absence", "marks", "enrolment"})
CHANNELS = frozenset({"sms", "whatsapp", "telegram"})
RHYTHMS = ("instant", "daily", "weekly")  # at once, a daily digest, a weekly summary
DETAILS = frozenset({"minimal", "full"})  # what a WhatsApp template says (DOMAIN.md §6)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertPreference:
    """What one phone asked for; the defaults are a phone that never said anything."""

    opted_out: bool = False
    opted_out_at: datetime | None = None
    lang: str | None = None
    channel: str | None = None  # None: SMS
    chat_address: str | None = None
    kinds: frozenset[str] = ALERT_KINDS
    rhythm: str = "instant"  # RHYTHMS
    welcomed: bool = False
    detail: str = "minimal"  # "full": WhatsApp templates name the child and the change

    @property
    def digest(self) -> bool:
        """One message a day for all the phone's alerts (`GATEWAY_ALERTS_DIGEST_AT`)."""
        return self.rhythm == "daily"

    @property
    def weekly(self) -> bool:
        """A summary a week per child (`GATEWAY_ALERTS_WEEKLY_AT`) instead of each alert."""
        return self.rhythm == "weekly"

    def wants(self, kind: str) -> bool:
        return not self.opted_out and kind in self.kinds


@translated
class SqlPreferences:
    """The dialogs' `Preferences` port, and the consumer's batch reads, on SQLAlchemy."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        key_secret: bytes | KeyRing,
        times: AlertTimes | None = None,
    ) -> None:
        self.engine = engine
        self._ring = KeyRing.of(key_secret)
        self.times = times or AlertTimes()  # when the summaries go out (the alerts' settings)

    def phone_h(self, phone: str) -> str:
        return self._ring.address_h(phone)

    def _adopt(self, conn: sa.Connection, hashes: list[str]) -> None:
        """Before a write: the phone's row under an older key generation moves to the newest
        hash (the rekey then skips it), so a write never starts a second, blank row beside an
        opt-out the rekey has not moved yet."""
        new, older = hashes[0], hashes[1:]
        if not older:
            return
        t = alert_preference
        if conn.execute(sa.select(t.c.phone_h).where(t.c.phone_h == new)).first() is not None:
            return
        latest = conn.execute(
            sa.select(t.c.phone_h, t.c.key_gen)
            .where(t.c.phone_h.in_(older))
            .order_by(t.c.updated_at.desc())
            .limit(1)
        ).first()
        if latest is not None:
            conn.execute(
                sa.update(t)
                .where(t.c.phone_h == latest.phone_h, t.c.key_gen == latest.key_gen)
                .values(phone_h=new, key_gen=self._ring.gen)
            )

    # --- writes ---------------------------------------------------------------------------

    async def opt_out(self, phone: str, at: datetime | None = None) -> None:
        """No alert goes to `phone` any more (answers to its own questions still do)."""
        at = at or datetime.now(UTC)
        await self._upsert(phone, {"opted_out": True, "opted_out_at": at}, at)

    async def opt_in(self, phone: str, at: datetime | None = None) -> None:
        at = at or datetime.now(UTC)
        await self._upsert(phone, {"opted_out": False, "opted_out_at": None}, at)

    async def set_lang(self, phone: str, lang: str, at: datetime | None = None) -> None:
        if lang not in ("ar", "fr"):
            raise ValueError(f"unsupported language {lang!r}")
        await self._upsert(phone, {"lang": lang}, at or datetime.now(UTC))

    async def set_channel(
        self, phone: str, channel: str, chat_address: str | None = None, at: datetime | None = None
    ) -> None:
        """Alerts for `phone` go on `channel` (a guardian who bound a child on WhatsApp or
        Telegram); Telegram needs the chat's address (`telegram:<chat id>`)."""
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
        if channel == "telegram" and not (chat_address or "").startswith("telegram:"):
            raise ValueError("a Telegram channel needs its telegram:<chat id> address")
        values = {"channel": channel, "chat_address": chat_address}
        await self._upsert(phone, values, at or datetime.now(UTC))

    async def set_kinds(
        self, phone: str, kinds: Iterable[str], *, digest: bool, at: datetime | None = None
    ) -> None:
        chosen = frozenset(kinds)
        if not chosen <= ALERT_KINDS:
            raise ValueError(f"unknown alert kinds {sorted(chosen - ALERT_KINDS)}")
        rhythm = "daily" if digest else "instant"
        values = {"kinds": ",".join(sorted(chosen)), "digest": digest, "rhythm": rhythm}
        await self._upsert(phone, values, at or datetime.now(UTC))

    async def choose_alerts(
        self,
        phone: str,
        *,
        rhythm: str | None = None,
        kinds: frozenset[str] | None = None,
        at: datetime | None = None,
    ) -> AlertsSetting:
        """The alerts menu's choice: alerts on again, with a new rhythm (and every kind of
        alert again), or with only `kinds` (the rhythm kept); what the phone gets now."""
        if rhythm is not None and rhythm not in RHYTHMS:
            raise ValueError(f"unknown rhythm {rhythm!r}")
        if kinds is not None and not (kinds and kinds <= ALERT_KINDS):
            raise ValueError(f"unknown alert kinds {sorted(kinds)}")
        at = at or datetime.now(UTC)
        values: dict[str, Any] = {"opted_out": False, "opted_out_at": None}
        if rhythm is not None:
            values.update(kinds=None, rhythm=rhythm, digest=rhythm == "daily")
        if kinds is not None:
            values["kinds"] = ",".join(sorted(kinds))
        await self._upsert(phone, values, at)
        now = (await self.for_phones([phone]))[phone]
        return AlertsSetting(rhythm=now.rhythm, kinds=now.kinds, times=self.times)

    async def set_detail(self, phone: str, detail: str, at: datetime | None = None) -> None:
        """How much a WhatsApp template alert says: minimal (default) or full."""
        if detail not in DETAILS:
            raise ValueError(f"unknown detail {detail!r}")
        await self._upsert(phone, {"detail": detail}, at or datetime.now(UTC))

    async def welcome(self, phones: Sequence[str], at: datetime) -> None:
        """Mark that these phones got their first alert (the one that says how to stop)."""
        if phones:
            await anyio.to_thread.run_sync(partial(self._welcome, list(phones), at))

    async def _upsert(self, phone: str, values: Mapping[str, Any], at: datetime) -> None:
        hashes = self._ring.address_hs(phone)
        await anyio.to_thread.run_sync(partial(self._write, hashes, values, at))

    def _blank(self, phone_h: str, at: datetime) -> dict[str, Any]:
        return {
            "phone_h": phone_h,
            "opted_out": False,
            "digest": False,
            "updated_at": at,
            "key_gen": self._ring.gen,
        }

    def _write(self, hashes: list[str], values: Mapping[str, Any], at: datetime) -> None:
        row = self._blank(hashes[0], at)
        insert = dialect_insert(self.engine)(alert_preference).values(**{**row, **values})
        statement = insert.on_conflict_do_update(
            index_elements=[alert_preference.c.phone_h], set_={**values, "updated_at": at}
        )
        with self.engine.begin() as conn:
            self._adopt(conn, hashes)
            conn.execute(statement)

    def _welcome(self, phones: list[str], at: datetime) -> None:
        every = {p: self._ring.address_hs(p) for p in dict.fromkeys(phones)}
        rows = [self._blank(hashes[0], at) for hashes in every.values()]
        table = alert_preference
        insert = dialect_insert(self.engine)(table)
        statement = insert.on_conflict_do_update(
            index_elements=[table.c.phone_h],
            set_={"welcomed_at": sa.func.coalesce(table.c.welcomed_at, insert.excluded.updated_at)},
        )
        with self.engine.begin() as conn:
            for hashes in every.values():
                self._adopt(conn, hashes)
            conn.execute(statement, [{**r, "welcomed_at": at} for r in rows])

    # --- reads ----------------------------------------------------------------------------

    async def lang(self, phone: str) -> str | None:
        """The language this phone chose with AR/FR, if it ever did."""
        found = await self.for_phones([phone])
        return found[phone].lang

    async def is_opted_out(self, phone: str) -> bool:
        return (await self.for_phones([phone]))[phone].opted_out

    async def for_phones(self, phones: Sequence[str]) -> dict[str, AlertPreference]:
        """Every phone's preferences (the defaults for a phone with no row), in one query."""
        if not phones:
            return {}
        return await anyio.to_thread.run_sync(partial(self._for_phones, list(phones)))

    def _for_phones(self, phones: list[str]) -> dict[str, AlertPreference]:
        every = {p: self._ring.address_hs(p) for p in phones}
        wanted = [h for hashes in every.values() for h in hashes]
        query = sa.select(alert_preference).where(alert_preference.c.phone_h.in_(wanted))
        with self.engine.connect() as conn:
            rows = {row.phone_h: row for row in conn.execute(query)}
        out: dict[str, AlertPreference] = {}
        for phone, hashes in every.items():
            # Under two generations (a rekey under way, an old process's write): the later.
            found = [rows[h] for h in hashes if h in rows]
            row = max(found, key=lambda r: r.updated_at) if found else None
            out[phone] = AlertPreference() if row is None else _preference(row)
        return out


def _preference(row: sa.Row[Any]) -> AlertPreference:
    kinds = frozenset(k for k in (row.kinds or "").split(",") if k) if row.kinds else ALERT_KINDS
    rhythm = row.rhythm if row.rhythm in RHYTHMS else "daily" if row.digest else "instant"
    return AlertPreference(
        opted_out=bool(row.opted_out),
        opted_out_at=row.opted_out_at if row.opted_out else None,
        lang=row.lang,
        channel=row.channel,
        chat_address=row.chat_address,
        kinds=kinds & ALERT_KINDS,
        rhythm=rhythm,
        welcomed=row.welcomed_at is not None,
        detail=row.detail if row.detail in DETAILS else "minimal",
    )
