"""The sink: a sender that records instead of sending (development, the demo, tests).

Each send appends `{key_h, id, channel, to, text}` to the stream `mg:{outbox}:sink` and marks
the idempotency key sent, in one script: unlike a real provider there is no moment between
"the provider took it" and "the outbox knows", so tests can count sends per key exactly. It
records every call, even a second one for the same key, so a double send shows. Production
refuses it (`GATEWAY_SMS_SENDER=sink`). `latency_s` (`GATEWAY_SINK_LATENCY_S`) makes it answer
as late as a provider's API would, to see what a stop or a crash does to sends in flight.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
from redis.asyncio import Redis

from gateway.outbox.model import OutMessage, Receipt, SendError
from gateway.outbox.queue import Outbox
from gateway.outbox.senders.base import sms_text
from gateway.state.outbox.streams import SENT_TTL_S, as_text

__all__ = ["SinkSender"]

SINK_MAXLEN = 100_000

# KEYS: sink stream, sent marker. ARGV: maxlen, sent ttl, then the record's field/value pairs.
_RECORD = """
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(fields))
redis.call('SET', KEYS[2], 'sink-' .. id, 'EX', ARGV[2])
return id
"""


class SinkSender:
    name = "sink"

    def __init__(
        self,
        redis: Redis,
        outbox: Outbox,
        *,
        fail: Callable[[OutMessage], SendError | None] | None = None,
        latency_s: float = 0.0,
    ) -> None:
        self.redis = redis
        self.outbox = outbox
        self.stream = f"{outbox.keys.prefix}:{outbox.keys.tag}:sink"
        self._record = redis.register_script(_RECORD)
        # Tests make the sink answer like a failing provider (a 429, an invalid number).
        self._fail = fail
        self.latency_s = latency_s

    async def send(self, msg: OutMessage) -> Receipt:
        if self._fail is not None and (error := self._fail(msg)) is not None:
            raise error
        if self.latency_s:
            await anyio.sleep(self.latency_s)
        key_h = self.outbox.key_h(msg)
        fields = {
            "key_h": key_h,
            "id": msg.id,
            "channel": msg.channel.value,
            "to": msg.to,
            "text": sms_text(msg) if msg.channel == "sms" else msg.text,
        }
        flat = [part for pair in fields.items() for part in pair]
        entry = await self._record(
            keys=[self.stream, self.outbox.keys.sent(key_h)],
            args=[SINK_MAXLEN, SENT_TTL_S, *flat],
        )
        return Receipt(provider_id=f"sink-{as_text(entry)}")

    async def records(self, to: str | None = None) -> list[dict[str, str]]:
        """What the sink received, oldest first (all of it, or one address's)."""
        rows: list[tuple[Any, dict[Any, Any]]] = await self.redis.xrange(self.stream)  # type: ignore[assignment]
        out = [{as_text(k): as_text(v) for k, v in fields.items()} for _, fields in rows]
        return [row for row in out if to is None or row["to"] == to]

    async def aclose(self) -> None:
        return None
