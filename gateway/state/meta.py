"""The Meta `wamid`s already answered: Meta delivers a webhook at least once, and retries a
failed delivery for up to 7 days, so a message seen in that time is not run again.

One marker per message, `mg:meta:seen:<hmac of the wamid>` (`Keys.meta_seen`), kept 7 days.
Errors: `StoreUnavailable`.
"""

from __future__ import annotations

from redis.asyncio import Redis

from gateway.state.errors import translated
from gateway.state.keys import Keys

__all__ = ["SEEN_S", "MetaSeen"]

SEEN_S = 7 * 24 * 3600  # Meta retries a failed delivery for up to 7 days


@translated
class MetaSeen:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    async def seen(self, message_id: str) -> bool:
        """Whether the message was answered already."""
        return bool(await self.redis.exists(self.keys.meta_seen(message_id)))

    async def mark(self, message_id: str) -> None:
        await self.redis.set(self.keys.meta_seen(message_id), b"1", ex=SEEN_S)
