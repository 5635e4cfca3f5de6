"""How deep the outbox's bulk stream is: what `gateway.outbox.pressure.BulkGate` reads.

The depth is the stream's length (XLEN): every bulk entry queued and not yet done, those a
worker holds included (an entry leaves its stream only once acknowledged). Retries waiting
in the delayed set are not counted: they are few, and come back on their own.
"""

from __future__ import annotations

from redis.asyncio import Redis

from gateway.state.errors import translated
from gateway.state.outbox.keys import OutboxKeys
from gateway.state.outbox.priority import Priority

__all__ = ["BulkDepth"]


@translated
class BulkDepth:
    """The bulk stream's length, one XLEN (O(1)) a reading."""

    def __init__(self, redis: Redis, keys: OutboxKeys) -> None:
        self.redis = redis
        self.stream = keys.stream(Priority.BULK)

    async def read(self) -> int:
        return int(await self.redis.xlen(self.stream))
