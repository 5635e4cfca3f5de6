"""Failed-verification lockout (DOMAIN §3), counted in Redis.

Per phone: from the 3rd failure within 24 h each failure starts a 15 min cool-off, and the 5th
locks the phone for 24 h. Per Massar code: the 10th failure within 24 h, from any phones, locks
the code for 24 h and logs an ops alert. Each subject (a phone, a code) has two keys under one
hash tag: a sorted set of failure times (a sliding 24 h window) and the time its lock ends.
Times come from the injected clock, so tests move time without sleeping; Redis TTLs only
collect what is no longer needed. Keys hold keyed hashes, never a phone number or a code:

    mg:{vp:<hmac of phone>}:fails   mg:{vp:<hmac of phone>}:until
    mg:{vc:<hmac of code>}:fails    mg:{vc:<hmac of code>}:until

Lockouts no stranger can turn against a family (issue #21):

- A voice call's caller ID proves nothing (anyone on a SIP trunk picks it): a failure on a
  call (`call=` its id) locks that call and the caller ID's *voice* attempts, never the
  phone's own counter, which only channels whose operator vouches for the number (SMS, USSD,
  WhatsApp, Telegram) move. Two failures lock either for 24 h: the backend's own per-phone
  counter sees the claimed number too, and starts its cool-off at the third.

      mg:{vv:<hmac of phone>}:fails|until   the caller ID's voice attempts
      mg:{vk:<hmac of call id>}:fails|until the call

- A locked code does not block a phone Massar links to that child (`holder=True`): its own
  counter (the phone's, or on a call the call's and the caller ID's) still applies.

An identity key rotation renames every key (the hash chain, gateway/state/keyring.py). For
`REDIS_CARRY` after it (`KeyRing.carry`) each failure is counted under the old names too and
a lock under either name holds: nobody escapes a lockout, nor restarts a count, by a rotation.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence

import structlog
from redis.asyncio import Redis

from gateway.state.errors import translated
from gateway.state.keyring import KeyRing
from gateway.state.keys import Keys
from gateway.state.lua import lua

__all__ = ["RedisLockout"]

log = structlog.get_logger("gateway.lockout")

DAY_S = 24 * 3600

# KEYS: failure times (sorted set), lock end (string, ms). ARGV: now ms, a unique member,
# window ms, how many failures to keep, then (threshold, duration ms) pairs, highest first.
# Returns {failures in the window, lock end before, lock end after} (ms, 0 = none).
_FAIL_LUA = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[4]) + 1))
redis.call('PEXPIRE', KEYS[1], window)
local count = redis.call('ZCARD', KEYS[1])
local before = tonumber(redis.call('GET', KEYS[2]) or '0')
local after = before
for i = 5, #ARGV, 2 do
  if count >= tonumber(ARGV[i]) then
    local candidate = now + tonumber(ARGV[i + 1])
    if candidate > after then after = candidate end
    break
  end
end
if after > before then
  redis.call('SET', KEYS[2], string.format('%d', after), 'PX', string.format('%d', after - now))
end
return {count, before, after}
"""

Rules = Sequence[tuple[int, int]]  # (failures, lock seconds), highest threshold first


@translated
class RedisLockout:
    """The `Lockout` port on Redis; thresholds default to DOMAIN §3."""

    def __init__(
        self,
        redis: Redis,
        *,
        key_secret: bytes | KeyRing,
        clock: Callable[[], float] = time.time,
        prefix: str = "mg",
        phone_cooloff_after: int = 3,
        phone_cooloff_s: int = 15 * 60,
        phone_lock_after: int = 5,
        phone_lock_s: int = DAY_S,
        code_lock_after: int = 10,
        code_lock_s: int = DAY_S,
        voice_lock_after: int = 2,
        voice_lock_s: int = DAY_S,
        window_s: int = DAY_S,
    ) -> None:
        if (
            not 0 < phone_cooloff_after <= phone_lock_after
            or code_lock_after <= 0
            or voice_lock_after <= 0
        ):
            raise ValueError("thresholds must be positive, the cool-off's not above the lock's")
        self.redis = redis
        self.keys = Keys(key_secret, prefix=prefix)
        ring, previous = self.keys.ring, self.keys.ring.previous
        # The names under the previous key generation, read and counted after a rotation.
        self._names = [self.keys] + (
            [Keys(previous, prefix=prefix)] if ring.carry and previous else []
        )
        self._clock = clock
        self._window_ms = window_s * 1000
        self._phone_rules: Rules = (
            (phone_lock_after, phone_lock_s),
            (phone_cooloff_after, phone_cooloff_s),
        )
        self._code_rules: Rules = ((code_lock_after, code_lock_s),)
        self._voice_rules: Rules = ((voice_lock_after, voice_lock_s),)
        self._fail = lua(redis, _FAIL_LUA)

    def _phone_tags(self, phone: str) -> list[str]:
        return [keys.lockout_phone(phone) for keys in self._names]

    def _voice_tags(self, phone: str) -> list[str]:
        return [keys.lockout_voice(phone) for keys in self._names]

    def _call_tags(self, call: str) -> list[str]:
        return [keys.lockout_call(call) for keys in self._names]

    def _code_digest(self, code: str) -> str:
        return self.keys.code_digest(code)

    def _code_tags(self, code: str) -> list[str]:
        return [keys.lockout_code(code) for keys in self._names]

    def _now_ms(self) -> int:
        return round(self._clock() * 1000)

    def _own_tags(self, phone: str, call: str | None) -> list[tuple[str, Rules]]:
        """The subjects a failure counts against besides the code: the phone where the
        operator vouches for it; on a call, the call and the caller ID's voice attempts."""
        if call is None:
            return [(tag, self._phone_rules) for tag in self._phone_tags(phone)]
        tags = [(tag, self._voice_rules) for tag in self._call_tags(call)]
        if phone:  # a withheld caller ID is nobody's: only the call counts
            tags += [(tag, self._voice_rules) for tag in self._voice_tags(phone)]
        return tags

    def _until_keys(
        self, phone: str, code: str | None, call: str | None, holder: bool
    ) -> list[str]:
        keys = [tag + ":until" for tag in self._phone_tags(phone)] if phone else []
        if call is not None:
            keys += [tag + ":until" for tag, _ in self._own_tags(phone, call)]
        if code is not None and not holder:
            keys += [tag + ":until" for tag in self._code_tags(code)]
        return keys

    async def is_locked(
        self,
        phone: str,
        code: str | None = None,
        *,
        call: str | None = None,
        holder: bool = False,
    ) -> bool:
        """True while the phone is cooling off or locked, or `code` is locked.

        `call`: the voice call asking (its caller ID is only a claim); its own and the caller
        ID's voice locks apply, as does the phone's (which only vouched channels set).
        `holder`: Massar links this phone to the code's child; a locked code does not stop it.
        """
        return await self.locked_until(phone, code, call=call, holder=holder) is not None

    async def locked_until(
        self,
        phone: str,
        code: str | None = None,
        *,
        call: str | None = None,
        holder: bool = False,
    ) -> float | None:
        """When the latest lock that `is_locked` would see ends, epoch s; None when unlocked.
        Also read for the refusal's text ("try again in 15 minutes")."""
        now, latest = self._now_ms(), 0
        for key in self._until_keys(phone, code, call, holder):
            until = await self.redis.get(key)  # one GET each: the keys live in different slots
            if until is not None and int(until) > now:
                latest = max(latest, int(until))
        return latest / 1000 if latest else None

    async def record_failure(
        self, phone: str, code: str, *, call: str | None = None, holder: bool = False
    ) -> bool:
        """Count one failed verification; True when this caller is now locked out: its own
        counters (see `is_locked`), or the code unless the phone is the child's `holder`."""
        now = self._now_ms()
        own_until = 0
        for tag, rules in self._own_tags(phone, call):
            _, _, until = await self._count(tag, now, rules)
            own_until = max(own_until, until)
        failures, code_before, code_until = 0, 0, 0
        for tag in self._code_tags(code):
            counted, before, until = await self._count(tag, now, self._code_rules)
            if until > code_until:
                failures, code_before, code_until = counted, before, until
        if code_before <= now < code_until:
            # Phones keep failing on one child's code: ops must hear of it, never the code.
            log.warning(
                "verification_code_locked",
                code_h=self._code_digest(code)[:12],
                failures=failures,
                locked_s=(code_until - now) // 1000,
            )
        return own_until > now or (code_until > now and not holder)

    async def _count(self, tag: str, now: int, rules: Rules) -> tuple[int, int, int]:
        args: list[int | str] = [
            now,
            f"{now}:{secrets.token_hex(4)}",
            self._window_ms,
            max(threshold for threshold, _ in rules),
        ]
        for threshold, seconds in rules:
            args += [threshold, seconds * 1000]
        count, before, after = await self._fail(keys=[tag + ":fails", tag + ":until"], args=args)
        return int(count), int(before), int(after)

    # --- for the operators' console (issue #16) ----------------------------------------------

    async def phone_state(self, phone: str) -> tuple[int, float | None]:
        """Failures of the phone in the window, and when its lock ends (epoch s; None: none)."""
        now, count, latest = self._now_ms(), 0, 0
        for tag in self._phone_tags(phone):  # after a rotation, the old name counted more
            found = await self.redis.zcount(tag + ":fails", now - self._window_ms, "+inf")
            until = await self.redis.get(tag + ":until")
            count = max(count, int(found))
            latest = max(latest, int(until) if until is not None else 0)
        return count, latest / 1000 if latest > now else None

    async def clear_phone(self, phone: str) -> None:
        """Forget the phone's failures and lock, its voice attempts' too (a supervisor's
        decision, audited)."""
        for tag in self._phone_tags(phone) + self._voice_tags(phone):
            await self.redis.delete(tag + ":fails", tag + ":until")  # one slot per tag
