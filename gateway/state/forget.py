"""What the state layer keeps about one phone, erased at once (a supervisor's "forget this
number", `gateway.console.forget`).

`forget_rows`: the phone's bindings (`phone_binding`), alert preferences and held alerts
(`alert_preference`, `alert_held`), the texts of the messages sent to the phone and to its
Telegram chat (`outbound_message`: the records stay, without text) and the chat's link to the
phone (`telegram_link`), in one transaction. `forget_keys`: every Redis key under the phone's
hash tag (sessions on each channel, locks, remembered answers, its rate limit) and the keys
named besides. Errors: `StoreUnavailable`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import anyio.to_thread
import sqlalchemy as sa
from redis.asyncio import Redis

from gateway.state.errors import translated
from gateway.state.keyring import KeyRing
from gateway.state.keys import Keys
from gateway.state.schema import (
    alert_held,
    alert_preference,
    outbound_message,
    phone_binding,
    telegram_link,
)

__all__ = ["forget_keys", "forget_rows"]


@translated
async def forget_rows(
    engine: sa.Engine, key_secret: bytes | KeyRing, phone: str, chat: str | None
) -> dict[str, int]:
    """Delete or empty the phone's rows (and its chat's, when it proved one); how many of
    each: `bindings`, `preferences`, `held_alerts`, `message_texts`, `telegram_links`."""
    return await anyio.to_thread.run_sync(partial(_forget_rows, engine, key_secret, phone, chat))


def _forget_rows(
    engine: sa.Engine, secret: bytes | KeyRing, phone: str, chat: str | None
) -> dict[str, int]:
    ring = KeyRing.of(secret)  # every generation a rekey under way may have left rows under
    phone_hs = ring.address_hs(phone)
    chat_hs = ring.address_hs(chat) if chat else []
    addresses = phone_hs + chat_hs
    with engine.begin() as conn:
        bindings = conn.execute(
            sa.delete(phone_binding).where(phone_binding.c.phone_h.in_(phone_hs))
        )
        held = conn.execute(sa.delete(alert_held).where(alert_held.c.phone_h.in_(phone_hs)))
        prefs = conn.execute(
            sa.delete(alert_preference).where(alert_preference.c.phone_h.in_(phone_hs))
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
            conn.execute(sa.delete(telegram_link).where(telegram_link.c.chat_h.in_(chat_hs)))
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


@translated
async def forget_keys(redis: Redis, keys: Keys, phone: str, also: Sequence[str] = ()) -> int:
    """Delete every key under the phone's hash tag, and `also`; how many there were."""
    found = [key async for key in redis.scan_iter(match=keys.user_keys(phone), count=500)]
    found.extend(also)
    return int(await redis.delete(*found)) if found else 0
