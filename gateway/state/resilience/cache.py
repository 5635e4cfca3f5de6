"""The response cache's entries in Redis: one string per entry, one set per student.

An entry is `mg:c:{<hmac of kind and args>}` (a guardian lookup, keyed by the phone alone,
takes the phone's own tag: `mg:c:{<the phone's hmac>}`), kept for `stale_s`; an entry about
one student is also noted in `mg:c:ix:{<hmac of the student id>}`, so a change to the student
drops them all. What an entry holds, and when it counts as fresh, is `gateway.resilience.cache`'s.
Errors: `StoreUnavailable` when Redis does not answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

from gateway.state.errors import translated
from gateway.state.keys import Keys

__all__ = ["CacheStore"]


@translated
class CacheStore:
    """Reads, writes and drops cache entries by key; `keys` names them."""

    def __init__(self, redis: Redis, keys: Keys, *, stale_s: int) -> None:
        self.redis = redis
        self.keys = keys
        self.stale_s = stale_s

    async def read(self, key: str) -> bytes | str | None:
        raw: bytes | str | None = await self.redis.get(key)
        return raw

    async def write(self, key: str, doc: str, *, student_id: str | None = None) -> None:
        """Store `doc` under `key` for `stale_s`; noted in the student's index when one is named."""
        if student_id is None:
            await self.redis.set(key, doc, ex=self.stale_s)
            return
        index = self.keys.cache_student_index(student_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(key, doc, ex=self.stale_s)
            pipe.sadd(index, key)
            pipe.expire(index, self.stale_s)
            await pipe.execute()

    async def forget_students(self, student_ids: Sequence[str]) -> list[str]:
        """Drop every entry noted for these students, and their indexes: the keys dropped."""
        indexes = [self.keys.cache_student_index(sid) for sid in student_ids]
        async with self.redis.pipeline(transaction=False) as pipe:
            for index in indexes:
                pipe.smembers(index)
            members = await pipe.execute()
        keys = [k for found in members for k in found]
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.delete(key)  # one key per command: entries sit on different slots
            for index in indexes:
                pipe.delete(index)
            await pipe.execute()
        return [key.decode() if isinstance(key, bytes) else key for key in keys]
