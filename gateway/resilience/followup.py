"""Answers that follow by SMS when a live turn (USSD, voice) ran out of time.

`Outbound` is where a follow-up SMS goes. Until the alerts issue brings the real sender,
`StreamOutbound` stands in: it appends the message to the Redis stream `mg:{outbound}:sms`
(fields `to`, `text`, `key`), after recording its idempotency key with SET NX so a retry never
queues it twice, and logs one line without the phone or the text.

`FollowUps` runs the background work: at most `limit` pending per worker (beyond that the
caller says "busy" instead of promising an SMS); `drain()` awaits them (shutdown, tests).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Coroutine
from typing import Any, Protocol

import structlog
from redis.asyncio import Redis

__all__ = ["OUTBOUND_STREAM", "FollowUps", "Outbound", "StreamOutbound"]

log = structlog.get_logger("gateway.followup")

OUTBOUND_STREAM = "mg:{outbound}:sms"
IDEMPOTENCY_TTL_S = 24 * 3600
STREAM_MAXLEN = 100_000


class Outbound(Protocol):
    async def send_sms(self, phone: str, text: str, idempotency_key: str) -> bool:
        """Queue one SMS; False when this idempotency key was already queued."""
        ...


class StreamOutbound:
    """The stand-in sender: a Redis stream that the alerts issue's workers will consume."""

    def __init__(self, redis: Redis, *, key_secret: bytes, stream: str = OUTBOUND_STREAM) -> None:
        self.redis = redis
        self.stream = stream
        self._secret = key_secret

    def idempotency_key(self, key: str) -> str:
        digest = hmac.new(self._secret, b"idem\0" + key.encode(), hashlib.sha256).hexdigest()
        return f"mg:{{outbound}}:idem:{digest[:32]}"

    async def send_sms(self, phone: str, text: str, idempotency_key: str) -> bool:
        if not await self.redis.set(
            self.idempotency_key(idempotency_key), b"1", nx=True, ex=IDEMPOTENCY_TTL_S
        ):
            log.info("sms_already_queued")
            return False
        entry_id = await self.redis.xadd(
            self.stream,
            {"to": phone, "text": text, "key": idempotency_key},
            maxlen=STREAM_MAXLEN,
            approximate=True,
        )
        log.info("sms_queued", stream=self.stream, entry=str(entry_id))
        return True


class FollowUps:
    """Background tasks owned by the app: spawned by turns, awaited on shutdown."""

    def __init__(self, *, limit: int = 1000) -> None:
        self.limit = limit
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, None]) -> bool:
        """Start `work` unless `limit` are pending (then `work` is closed, not run)."""
        if len(self._tasks) >= self.limit:
            work.close()
            return False
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def drain(self, timeout_s: float = 60.0) -> None:
        """Wait for pending work; cancel what is still running after `timeout_s`."""
        if not self._tasks:
            return
        done, pending = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.warning("followup_failed", error=repr(task.exception()))
