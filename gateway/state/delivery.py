"""Delivery records of outbound messages, fed by provider status callbacks.

Callbacks arrive out of order (a late `sent` after `delivered`): a record only moves forward.
Records keep the provider's message id, the status and the error code, never the number or
the text, and expire after 90 days (DOMAIN.md §6).
"""

from __future__ import annotations

from redis.asyncio import Redis

RETENTION_S = 90 * 24 * 3600

# KEYS[1] record; ARGV: status, rank, error code, ttl. Writes only when the rank grows.
_FORWARD_ONLY = """
local current = tonumber(redis.call('HGET', KEYS[1], 'rank') or '-1')
if tonumber(ARGV[2]) <= current then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'rank', ARGV[2], 'error', ARGV[3])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return 1
"""


class DeliveryLog:
    def __init__(self, redis: Redis, *, prefix: str = "mg:dlv") -> None:
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_FORWARD_ONLY)

    def key(self, provider_id: str) -> str:
        return f"{self._prefix}:{{{provider_id}}}"

    async def record(self, provider_id: str, status: str, rank: int, error: str | None) -> bool:
        """Store `status` unless the record already went further; True when it moved."""
        moved = await self._script(
            keys=[self.key(provider_id)], args=[status, rank, error or "", RETENTION_S]
        )
        return bool(moved)

    async def status(self, provider_id: str) -> str | None:
        value = await self._redis.hget(self.key(provider_id), "status")
        return value.decode() if isinstance(value, bytes) else value
