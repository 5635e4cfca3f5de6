"""When each WhatsApp user last wrote to us: WhatsApp's 24-hour customer-service window.

Within 24 hours of a user's last message a business may send free-form messages; past it only
an approved template (CHANNELS.md §2, §3; Twilio error 63016, Meta's re-engagement error).
Every inbound WhatsApp message (Twilio's and Meta's webhooks) writes its time here; the
WhatsApp senders read it before an alert leaves (`gateway/outbox/senders/window.py`).

One key per user, `mg:{<user hmac>}:whatsapp:last-in` (`Keys.whatsapp_last_inbound`): under
the phone's hash tag like its sessions, so no phone number is stored and forgetting a
phone (`gateway.state.forget`, which scans the tag) drops it too. The value is the time in
milliseconds since the epoch; it only moves forward (a late redelivery of an old message
does not reopen a window), and the key lives `TTL_S`, a little over the window.
Errors: `StoreUnavailable`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from redis.asyncio import Redis

from gateway.state.errors import translated
from gateway.state.keys import Keys
from gateway.state.lua import lua

__all__ = ["MARGIN", "TTL_S", "WINDOW", "WhatsAppWindow"]

WINDOW: Final = timedelta(hours=24)
# A message judged inside the window may wait in the queue, and the provider's clock is not
# ours: within the last quarter hour of the window an alert goes out as a template already.
MARGIN: Final = timedelta(minutes=15)
TTL_S: Final = 25 * 3600  # a little over the window: the key never outlives its use

# SET the time only when it is later than the one kept (the TTL restarts with it).
_TOUCH: Final = """
local old = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tonumber(ARGV[1]) > old then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0
"""


@translated
class WhatsAppWindow:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self._touch = lua(redis, _TOUCH)

    async def touch(self, phone: str, at: datetime) -> None:
        """`phone` (E.164) wrote to us on WhatsApp at `at`."""
        if at.tzinfo is None:
            raise ValueError("an inbound time must be timezone-aware")
        ms = int(at.timestamp() * 1000)
        key = self.keys.whatsapp_last_inbound(phone)
        await self._touch(keys=[key], args=[ms, TTL_S])

    async def last_inbound(self, phone: str) -> datetime | None:
        """When `phone` last wrote on WhatsApp, if within the key's life."""
        raw = await self.redis.get(self.keys.whatsapp_last_inbound(phone))
        if raw is None:
            return None
        return datetime.fromtimestamp(int(raw) / 1000, UTC)

    async def is_open(self, phone: str, now: datetime) -> bool:
        """Whether a free-form message to `phone` still falls inside its window at `now`."""
        last = await self.last_inbound(phone)
        return last is not None and now - last < WINDOW - MARGIN
