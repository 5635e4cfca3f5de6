"""A supervisor's "forget this number" (Law 09-08's erasure and opposition, issue #21): what
the gateway keeps about one phone, erased at once.

- bindings of children to the phone (`phone_binding`);
- alert preferences and alerts held for the morning (`alert_preference`, `alert_held`);
- helpdesk items, open or closed (`HelpdeskQueue.forget`);
- the texts of the messages sent to the phone and to its Telegram chat (`outbound_message`:
  the records stay, as delivery records, for DOMAIN.md §6's 90 days, without text);
- the Telegram chat's link to the phone (`telegram_link`);
- conversations on every channel, remembered answers, the rate limit and the cached guardian
  lookup (every Redis key under the phone's hash tag).

The lockout counters are kept (they protect the family; a supervisor clears them apart), and
so is the audit (12 months, DOMAIN.md §6), which holds the number masked only. What the
backend (Massar) holds is Massar's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import anyio.to_thread
import sqlalchemy as sa

from gateway.state.schema import (
    address_h,
    alert_held,
    alert_preference,
    outbound_message,
    phone_binding,
    telegram_link,
)

if TYPE_CHECKING:  # a type only: the runtime imports the modules that route to this one
    from gateway.runtime import Runtime

__all__ = ["Forgotten", "forget_number"]


@dataclass(frozen=True, slots=True)
class Forgotten:
    bindings: int
    preferences: int
    held_alerts: int
    message_texts: int
    telegram_links: int
    helpdesk_items: int
    redis_keys: int

    def summary(self) -> str:
        return (
            f"bindings {self.bindings}, preferences {self.preferences}, held alerts "
            f"{self.held_alerts}, texts {self.message_texts}, telegram {self.telegram_links}, "
            f"helpdesk {self.helpdesk_items}, conversation keys {self.redis_keys}"
        )


async def forget_number(state: Runtime, phone: str) -> Forgotten:
    secret = state.settings.identity_key.get_secret_value().encode()
    prefs = await state.preferences.for_phones([phone])
    chat = prefs[phone].chat_address if phone in prefs else None
    counts = await anyio.to_thread.run_sync(partial(_forget_sql, state.db, secret, phone, chat))
    items = await state.helpdesk.forget(phone)
    keys = await _forget_redis(state, phone)
    return Forgotten(**counts, helpdesk_items=items, redis_keys=keys)


def _forget_sql(engine: sa.Engine, secret: bytes, phone: str, chat: str | None) -> dict[str, int]:
    phone_h = address_h(secret, phone)
    addresses = [phone_h] + ([address_h(secret, chat)] if chat else [])
    with engine.begin() as conn:
        bindings = conn.execute(sa.delete(phone_binding).where(phone_binding.c.phone_h == phone_h))
        held = conn.execute(sa.delete(alert_held).where(alert_held.c.phone_h == phone_h))
        prefs = conn.execute(
            sa.delete(alert_preference).where(alert_preference.c.phone_h == phone_h)
        )
        texts = conn.execute(
            sa.update(outbound_message)
            .where(
                outbound_message.c.to_h.in_(addresses),
                outbound_message.c.text.is_not(None) | outbound_message.c.options.is_not(None),
            )
            .values(text=None, options=None)
        )
        links = (
            conn.execute(sa.delete(telegram_link).where(telegram_link.c.chat_h == addresses[1]))
            if chat
            else None
        )
    return {
        "bindings": bindings.rowcount,
        "preferences": prefs.rowcount,
        "held_alerts": held.rowcount,
        "message_texts": texts.rowcount,
        "telegram_links": links.rowcount if links is not None else 0,
    }


async def _forget_redis(state: Runtime, phone: str) -> int:
    """Every key under the phone's hash tag (sessions on each channel, locks, remembered
    answers, its rate limit, the cached guardian lookup)."""
    keys = state.sessions.keys
    pattern = f"{keys.prefix}:{keys.user_tag(phone)}:*"
    found = [key async for key in state.redis.scan_iter(match=pattern, count=500)]
    cached = state.backend.resilient.cache.key("guardian", [phone])
    found.append(cached)
    return int(await state.redis.delete(*found)) if found else 0
