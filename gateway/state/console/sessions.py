"""The console's server-side state in Redis: sessions, sign-in counters, an operator's failed
checks and the children revealed to a session (issue #21).

```
mg:{console}:s:<h>            hash: name, role, csrf, created      TTL: the idle timeout
mg:{console}:s:<h>:reveal     hash: "<phone h>:<student>" -> until  TTL: the idle timeout
mg:{console}:op:<name h>      set of <h>: the operator's sessions  (ended all at once)
mg:{console}:pending:<h>      a supervisor's sign-in waiting for its second factor
mg:{console}:f:pair:<name h>:<address h>, f:addr:<address h>, f:name:<name h>, f:slot:<name h>
mg:{console}:checks:<name h>  an operator's failed checks of a child
```

The cookie holds only the opaque session id (256 random bits); Redis holds a keyed hash of
it (`<h>`), so a copy of Redis signs nobody in. A session ends at sign-out, after the idle
timeout, after `console_session_max_s`, and at once when its operator is disabled or their
password changes (`OperatorStore.state`, read on every request). Every key shares the hash tag
`{console}`: the scripts below touch several at once on one Redis Cluster slot.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from gateway.state.errors import translated
from gateway.state.keyring import KeyRing
from gateway.state.keys import Keys
from gateway.state.lua import lua
from gateway.state.outbox.streams import as_text

__all__ = ["CheckCounter", "ConsoleSessions", "SessionData", "SigninGate"]

SID_BYTES = 32


@dataclass(frozen=True, slots=True)
class SessionData:
    sid_h: str  # the keyed hash of the cookie's id: what reveals are kept under
    name: str
    role: str
    csrf: str
    created: float


@translated
class ConsoleSessions:
    def __init__(
        self, redis: Redis, *, key_secret: bytes | KeyRing, idle_s: int, max_s: int
    ) -> None:
        self.redis, self.keys = redis, Keys(key_secret)
        self.idle_s, self.max_s = idle_s, max_s

    def sid_h(self, sid: str) -> str:
        return self.keys.digest(sid, label="console-session\0")

    def name_h(self, name: str) -> str:
        return self.keys.operator_h(name)

    def _key(self, sid_h: str) -> str:
        return self.keys.console_session(sid_h)

    def _operator_key(self, name: str) -> str:
        return self.keys.console_operator(name)

    async def create(self, name: str, role: str) -> tuple[str, SessionData]:
        """A new session (a fresh id: sign-in never keeps an id it was handed)."""
        sid = secrets.token_urlsafe(SID_BYTES)
        data = SessionData(self.sid_h(sid), name, role, secrets.token_urlsafe(24), time.time())
        key = self._key(data.sid_h)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key,
                mapping={"name": name, "role": role, "csrf": data.csrf, "created": data.created},
            )
            pipe.expire(key, self.idle_s)
            pipe.sadd(self._operator_key(name), data.sid_h)
            pipe.expire(self._operator_key(name), self.max_s)
            await pipe.execute()
        return sid, data

    async def get(self, sid: str) -> SessionData | None:
        """The live session of this id, its idle time renewed; None if there is none."""
        sid_h = self.sid_h(sid)
        key = self._key(sid_h)
        raw = await self.redis.hgetall(key)
        if not raw:
            return None
        doc = {as_text(k): as_text(v) for k, v in raw.items()}
        try:
            data = SessionData(sid_h, doc["name"], doc["role"], doc["csrf"], float(doc["created"]))
        except (KeyError, ValueError):
            return None
        if time.time() - data.created > self.max_s:
            await self.end_hash(sid_h, data.name)
            return None
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.expire(key, self.idle_s)
            pipe.expire(f"{key}:reveal", self.idle_s)
            await pipe.execute()
        return data

    async def end(self, sid: str) -> None:
        sid_h = self.sid_h(sid)
        name = await self.redis.hget(self._key(sid_h), "name")
        await self.end_hash(sid_h, as_text(name) if name is not None else None)

    async def end_hash(self, sid_h: str, name: str | None) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(sid_h), self.keys.console_reveals(sid_h))
            if name is not None:
                pipe.srem(self._operator_key(name), sid_h)
            await pipe.execute()

    async def end_all(self, name: str) -> int:
        """End every session of `name` (disabled, password changed, number forgotten)."""
        members = await self.redis.smembers(self._operator_key(name))
        hashes = [as_text(m) for m in members]
        async with self.redis.pipeline(transaction=True) as pipe:
            for sid_h in hashes:
                pipe.delete(self._key(sid_h), self.keys.console_reveals(sid_h))
            pipe.delete(self._operator_key(name))
            await pipe.execute()
        return len(hashes)

    # --- children shown after a check -----------------------------------------------------

    async def reveal(self, data: SessionData, phone_h: str, student: str, seconds: int) -> None:
        key = self.keys.console_reveals(data.sid_h)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, f"{phone_h}:{student}", str(time.time() + seconds))
            pipe.expire(key, self.idle_s)
            await pipe.execute()

    async def revealed(self, data: SessionData, phone_h: str) -> dict[str, float]:
        """The children of this phone the session may see, with until when (epoch s)."""
        raw = await self.redis.hgetall(self.keys.console_reveals(data.sid_h))
        now, found = time.time(), {}
        for field, value in raw.items():
            owner, _, student = as_text(field).partition(":")
            until = float(as_text(value))
            if owner == phone_h and until > now:
                found[student] = until
        return found

    # --- a supervisor's sign-in between the password and the second factor ---------------

    async def hold(self, doc: dict[str, Any], seconds: int = 300) -> str:
        token = secrets.token_urlsafe(SID_BYTES)
        await self.redis.set(
            self.keys.console_pending(self.sid_h(token)), json.dumps(doc), ex=seconds
        )
        return token

    async def held(self, token: str) -> dict[str, Any] | None:
        raw = await self.redis.get(self.keys.console_pending(self.sid_h(token)))
        doc = json.loads(raw) if raw is not None else None
        return doc if isinstance(doc, dict) else None

    async def release(self, token: str) -> None:
        await self.redis.delete(self.keys.console_pending(self.sid_h(token)))

    async def first_use(self, name: str, step: int) -> bool:
        """Whether TOTP time step `step` is used for the first time by `name` (a code seen
        once, even by a shoulder-surfer, signs in once)."""
        key = self.keys.console_totp(name, step)
        return bool(await self.redis.set(key, "1", nx=True, ex=180))


# KEYS: pair (name, address), address, name, name's slot. ARGV: pair limit, address limit,
# window s, name slow-down threshold, name interval ms. The check and the count in one step:
# an attempt is counted before its password is checked, so parallel attempts cannot all
# pass the limit. Returns "locked", "slow" or "go".
_RESERVE = """
if tonumber(redis.call('GET', KEYS[1]) or '0') >= tonumber(ARGV[1]) then return 'locked' end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[2]) then return 'locked' end
if tonumber(redis.call('GET', KEYS[3]) or '0') >= tonumber(ARGV[4]) then
  if not redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[5]) then return 'slow' end
end
for i = 1, 3 do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[3])
end
return 'go'
"""

# KEYS: pair, address, name. A right answer: the pair starts again from zero, and the
# attempt counted against the address and the name is taken back.
_SUCCEEDED = """
redis.call('DEL', KEYS[1])
for i = 2, 3 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 1
"""


@translated
class SigninGate:
    """Failed sign-ins counted per (name, client address), per address and per name, the
    check and the count one atomic step (issue #21). A pair or an address past its limit is
    locked for the window; a name alone is only slowed down, never locked."""

    def __init__(
        self,
        redis: Redis,
        *,
        key_secret: bytes | KeyRing,
        limit: int,
        address_limit: int,
        lock_s: int,
        slow_after: int,
        interval_s: float,
    ) -> None:
        self.redis, self.keys = redis, Keys(key_secret)
        self.limit, self.address_limit, self.lock_s = limit, address_limit, lock_s
        self.slow_after, self.interval_ms = slow_after, max(1, int(interval_s * 1000))
        self._reserve = lua(redis, _RESERVE)
        self._succeeded = lua(redis, _SUCCEEDED)

    def _keys(self, name: str, address: str) -> list[str]:
        return self.keys.console_signin(name, address)

    async def reserve(self, name: str, address: str) -> str:
        """ "go" (check the password: the attempt is counted), "locked" or "slow"."""
        result = await self._reserve(
            keys=self._keys(name, address),
            args=[self.limit, self.address_limit, self.lock_s, self.slow_after, self.interval_ms],
        )
        return as_text(result)

    async def succeeded(self, name: str, address: str) -> None:
        await self._succeeded(keys=self._keys(name, address)[:3])


# KEYS: counter. ARGV: limit, window s. Counted before the check: "go" or "locked".
_CHECK = """
if tonumber(redis.call('GET', KEYS[1]) or '0') >= tonumber(ARGV[1]) then return 'locked' end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 'go'
"""


@translated
class CheckCounter:
    """An operator's failed checks of a child (code + birth date typed in the lookup): the
    console's failures count against the operator, never against the phone typed, so an
    agent cannot lock a family out, nor try codes without end (issue #21 item 5)."""

    def __init__(
        self,
        redis: Redis,
        *,
        key_secret: bytes | KeyRing,
        limit: int,
        window_s: int,
        what: str = "checks",
    ) -> None:
        self.redis, self.keys, self.limit, self.window_s = redis, Keys(key_secret), limit, window_s
        self._check = lua(redis, _CHECK)
        # "checks": a child's code and birth date; "totp": a supervisor's second-factor codes
        self._key_of = (
            self.keys.console_checks if what == "checks" else self.keys.console_totp_failures
        )

    def _key(self, name: str) -> str:
        return self._key_of(name)

    async def reserve(self, name: str) -> bool:
        """True: the check may run (it is counted as a failure until `succeeded`)."""
        result = await self._check(keys=[self._key(name)], args=[self.limit, self.window_s])
        return as_text(result) == "go"

    async def succeeded(self, name: str) -> None:
        key = self._key(name)
        if int(as_text(await self.redis.get(key) or b"0")) > 0:
            await self.redis.decr(key)

    async def failures(self, name: str) -> int:
        return int(as_text(await self.redis.get(self._key(name)) or b"0"))
