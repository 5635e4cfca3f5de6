"""The sink sender's stream: what it "sent", kept in Redis for tests and the demo to read.

Each send appends `{key_h, id, channel, to, text}` to `mg:{outbox:<ns>}:sink`
(`OutboxKeys.sink`) and marks the idempotency key sent, in one script: unlike a real provider
there is no moment between "the provider took it" and "the outbox knows", so tests can count
sends per key exactly. Every call is kept, even a second one for the same key, so a double
send shows. The stream is capped at `SINK_MAXLEN` entries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis

from gateway.state.errors import translated
from gateway.state.lua import lua
from gateway.state.outbox.keys import OutboxKeys
from gateway.state.outbox.streams import SENT_TTL_S, as_text

__all__ = ["SINK_MAXLEN", "SinkStream"]

SINK_MAXLEN = 100_000

# KEYS: sink stream, sent marker. ARGV: maxlen, sent ttl, then the record's field/value pairs.
_RECORD = """
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(fields))
redis.call('SET', KEYS[2], 'sink-' .. id, 'EX', ARGV[2])
return id
"""


@translated
class SinkStream:
    """One deployment's sink (`keys`: its outbox's)."""

    def __init__(self, redis: Redis, keys: OutboxKeys) -> None:
        self.redis = redis
        self.keys = keys
        self.key = keys.sink
        self._record = lua(redis, _RECORD)

    async def record(self, key_h: str, fields: Mapping[str, str]) -> str:
        """Append one send and mark `key_h` sent; the entry's id."""
        flat = [part for pair in fields.items() for part in pair]
        entry = await self._record(
            keys=[self.key, self.keys.sent(key_h)], args=[SINK_MAXLEN, SENT_TTL_S, *flat]
        )
        return as_text(entry)

    async def entries(self) -> list[dict[str, str]]:
        """Every send kept, oldest first."""
        rows: list[tuple[Any, dict[Any, Any]]] = await self.redis.xrange(self.key)  # type: ignore[assignment]
        return [{as_text(k): as_text(v) for k, v in fields.items()} for _, fields in rows]
