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

The rows and keys are erased by `gateway.state.forget`. The lockout counters are kept (they
protect the family; a supervisor clears them apart), and so is the audit (12 months,
DOMAIN.md §6), which holds the number masked only. What the backend (Massar) holds is
Massar's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.state.forget import forget_keys, forget_rows

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
    prefs = await state.preferences.for_phones([phone])
    chat = prefs[phone].chat_address if phone in prefs else None
    counts = await forget_rows(state.db, state.keyring, phone, chat)
    items = await state.helpdesk.forget(phone)
    # Every key under the phone's hash tag, and the cached guardian lookup.
    cached = state.backend.resilient.cache.key("guardian", [phone])
    keys = await forget_keys(state.redis, state.sessions.keys, phone, also=[cached])
    return Forgotten(**counts, helpdesk_items=items, redis_keys=keys)
