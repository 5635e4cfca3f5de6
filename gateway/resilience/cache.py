"""A cache in front of the backend's reads, with a stale copy kept for bad days.

Each entry is the JSON of the answer plus the time it was fetched. It counts as *fresh* for
its kind's TTL (`backend_client.policy.CACHED`, DOMAIN.md §8) and is
kept up to `stale_s` (at most 24 h, DOMAIN.md §6) so that a failing backend can be answered
with "as of <date>". The entries live in Redis (`gateway.state.resilience.cache`): keys hold
no phone number or code, one hash tag per entry so the entry and its single-flight lease share
a cluster slot. A guardian lookup, whose only argument is the phone, takes the phone's own tag
(`gateway.state.keys`): the turn's first script reads it along with the session and hands it
over with `prime`, so a warm turn does not read it again.

Errors: the store's pass through; an unreadable entry counts as a miss.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar, cast

import pydantic

from backend_client import CACHED
from gateway.resilience.endpoints import CACHE_TTLS
from gateway.state.connections import RedisClient
from gateway.state.keyring import KeyRing
from gateway.state.keys import Keys
from gateway.state.resilience.cache import CacheStore

__all__ = ["DEFAULT_TTLS", "MAX_STALE_S", "STUDENT_KINDS", "USER_KINDS", "Cache", "Cached"]

T = TypeVar("T")

DEFAULT_TTLS: Mapping[str, int] = CACHE_TTLS
"""Fresh TTL in seconds per kind of data: the policy's (`backend_client.policy.CACHED`)."""

MAX_STALE_S = 24 * 3600
DECODED_KEPT = 4096  # decoded values kept per worker; all dropped at once when it fills
STUDENT_KINDS = frozenset(p.kind for p in CACHED.values() if p.per_student)
"""Kinds whose first argument is a student id (the policy's `per_student`): indexed per
student, dropped on a change."""
USER_KINDS = frozenset({"guardian"})
"""Kinds keyed by the user's phone alone: their entry shares the user's hash tag."""

# Entries a turn already read (its first script), served to the next `get` of that key in
# this context instead of a Redis read; per request task, so never shared between turns.
_primed: ContextVar[dict[str, bytes | None] | None] = ContextVar(
    "massar_cache_primed", default=None
)


@dataclass(frozen=True, slots=True)
class Cached(Generic[T]):
    """A cached answer, when it was fetched, and whether it is still within its TTL."""

    value: T
    fetched_at: datetime
    fresh: bool


class Cache:
    """`get`/`put` typed values per (kind, args); `key` names the entry (and its lease)."""

    def __init__(
        self,
        redis: RedisClient,
        *,
        key_secret: bytes | KeyRing,
        ttls: Mapping[str, int] | None = None,
        stale_s: int = MAX_STALE_S,
        prefix: str = "mg",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not key_secret:
            raise ValueError("key_secret must not be empty")
        if not 0 < stale_s <= MAX_STALE_S:
            raise ValueError("stale_s must be within (0, 86400]")
        self.ttls = dict(DEFAULT_TTLS if ttls is None else ttls)
        self.stale_s = stale_s
        self._keys = Keys(key_secret, prefix=prefix)
        self.store = CacheStore(redis, self._keys, stale_s=stale_s)
        self._clock = clock
        # The last value read per key, with the bytes it was read from: a guardian lookup is
        # read on every screen for an hour, and validating it is most of a warm turn's
        # pydantic time. Values are frozen models, safe to hand to every turn.
        self._decoded: dict[str, tuple[bytes | str, object, object, float]] = {}

    def key(self, kind: str, args: Sequence[str]) -> str:
        """`mg:c:{<32 hex>}`: a keyed hash of the kind and the arguments (which hold phones);
        for `USER_KINDS`, the phone's hash as its other keys carry it (`Keys.user_tag`)."""
        if kind in USER_KINDS and len(args) == 1:
            return self._keys.cache_user(args[0])
        return self._keys.cache_entry(kind, args)

    def ttl(self, kind: str) -> int:
        return self.ttls[kind]

    async def get(
        self, kind: str, args: Sequence[str], adapter: pydantic.TypeAdapter[T]
    ) -> Cached[T] | None:
        """The entry for (kind, args) read through `adapter`, fresh or stale, or None."""
        key = self.key(kind, args)
        primed = _primed.get()
        raw: bytes | str | None
        if primed is not None and key in primed:
            raw = primed.pop(key)  # once: a later read in the turn may follow a write
        else:
            raw = await self.store.read(key)
        if raw is None:
            return None
        decoded = self._decoded.get(key)
        if decoded is not None and decoded[0] == raw and decoded[1] is adapter:
            # The same bytes through the same adapter as last time: the same value.
            value, at = cast(T, decoded[2]), decoded[3]
        else:
            try:
                doc = json.loads(raw)
                value = adapter.validate_python(doc["v"])
                at = float(doc["at"])
            except (ValueError, KeyError, TypeError, pydantic.ValidationError):
                return None
            if len(self._decoded) >= DECODED_KEPT:
                self._decoded.clear()
            self._decoded[key] = (raw, adapter, value, at)
        fresh = self._clock() - at < self.ttl(kind)
        return Cached(value=value, fetched_at=datetime.fromtimestamp(at, UTC), fresh=fresh)

    def prime(self, key: str, raw: bytes | None) -> None:
        """Serve the next `get` of `key` in this context from `raw`, read by the caller in
        the same round trip as its session (None: there is no entry)."""
        _primed.set({key: raw})

    async def put(
        self, kind: str, args: Sequence[str], adapter: pydantic.TypeAdapter[T], value: T
    ) -> None:
        """Store `value` (dumped through `adapter`), fetched now. An entry about one student
        (`STUDENT_KINDS`, the student's id first in `args`) is noted in that student's index,
        so a change to the student drops it (`forget_students`)."""
        data = adapter.dump_python(value, mode="json")
        doc = json.dumps({"at": self._clock(), "v": data}, separators=(",", ":"))
        student = args[0] if kind in STUDENT_KINDS and args else None
        await self.store.write(self.key(kind, args), doc, student_id=student)

    def student_index(self, student_id: str) -> str:
        """`mg:c:ix:{<hmac>}`: the keys of a student's cached entries."""
        return self._keys.cache_student_index(student_id)

    async def forget_students(self, student_ids: Sequence[str]) -> int:
        """Drop every cached entry about these students (the backend said they changed:
        a new absence, published marks); how many entries went. Alerts call this."""
        keys = await self.store.forget_students(student_ids)
        for key in keys:
            self._decoded.pop(key, None)
        return len(keys)
