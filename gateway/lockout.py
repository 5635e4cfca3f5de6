"""Failed-verification lockout (DOMAIN §3), counted in Redis.

Per phone: from the 3rd failure within 24 h each failure starts a 15 min cool-off, and the 5th
locks the phone for 24 h. Per Massar code: the 10th failure within 24 h, from any phones, locks
the code for 24 h and logs an ops alert. Each subject (a phone, a code) has two keys under one
hash tag: a sorted set of failure times (a sliding 24 h window) and the time its lock ends.
Times come from the injected clock, so tests move time without sleeping; Redis TTLs only
collect what is no longer needed. Keys hold keyed hashes, never a phone number or a code:

    mg:{vp:<hmac of phone>}:fails   mg:{vp:<hmac of phone>}:until
    mg:{vc:<hmac of code>}:fails    mg:{vc:<hmac of code>}:until
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence

import structlog
from redis.asyncio import Redis

from gateway.store import Keys

__all__ = ["RedisLockout"]

log = structlog.get_logger("gateway.lockout")

DAY_S = 24 * 3600
_CODE_LABEL = "massar-code\0"

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


class RedisLockout:
    """The `Lockout` port on Redis; thresholds default to DOMAIN §3."""

    def __init__(
        self,
        redis: Redis,
        *,
        key_secret: bytes,
        clock: Callable[[], float] = time.time,
        prefix: str = "mg",
        phone_cooloff_after: int = 3,
        phone_cooloff_s: int = 15 * 60,
        phone_lock_after: int = 5,
        phone_lock_s: int = DAY_S,
        code_lock_after: int = 10,
        code_lock_s: int = DAY_S,
        window_s: int = DAY_S,
    ) -> None:
        if not 0 < phone_cooloff_after <= phone_lock_after or code_lock_after <= 0:
            raise ValueError("thresholds must be positive, the cool-off's not above the lock's")
        self.redis = redis
        self.keys = Keys(key_secret, prefix=prefix)
        self._clock = clock
        self._window_ms = window_s * 1000
        self._phone_rules: Rules = (
            (phone_lock_after, phone_lock_s),
            (phone_cooloff_after, phone_cooloff_s),
        )
        self._code_rules: Rules = ((code_lock_after, code_lock_s),)
        self._fail = redis.register_script(_FAIL_LUA)

    def _phone_tag(self, phone: str) -> str:
        # The same hash as the phone's session keys: its first 12 characters are the logs' phone_h.
        return f"{self.keys.prefix}:{{vp:{self.keys.digest(phone)}}}"

    def _code_digest(self, code: str) -> str:
        return self.keys.digest(code.strip().upper(), label=_CODE_LABEL)

    def _code_tag(self, code: str) -> str:
        return f"{self.keys.prefix}:{{vc:{self._code_digest(code)}}}"

    def _now_ms(self) -> int:
        return round(self._clock() * 1000)

    async def is_locked(self, phone: str, code: str | None = None) -> bool:
        """True while the phone is cooling off or locked, or `code` is locked."""
        keys = [self._phone_tag(phone) + ":until"]
        if code is not None:
            keys.append(self._code_tag(code) + ":until")
        now = self._now_ms()
        for key in keys:  # one GET each: the keys live in different cluster slots
            until = await self.redis.get(key)
            if until is not None and int(until) > now:
                return True
        return False

    async def locked_until(self, phone: str, code: str | None = None) -> float | None:
        """When the latest lock on the phone (or `code`) ends, epoch s; None when unlocked.
        A read for the refusal's wording ("try again in 15 minutes"), no rule of its own."""
        keys = [self._phone_tag(phone) + ":until"]
        if code is not None:
            keys.append(self._code_tag(code) + ":until")
        now = self._now_ms()
        ends = [int(v) for v in [await self.redis.get(k) for k in keys] if v is not None]
        latest = max((e for e in ends if e > now), default=None)
        return latest / 1000 if latest is not None else None

    async def record_failure(self, phone: str, code: str) -> bool:
        """Count one failed verification; True when the phone or the code is now locked."""
        now = self._now_ms()
        _, _, phone_until = await self._count(self._phone_tag(phone), now, self._phone_rules)
        failures, code_before, code_until = await self._count(
            self._code_tag(code), now, self._code_rules
        )
        if code_before <= now < code_until:
            # Phones keep failing on one child's code: ops must hear of it, never the code.
            log.warning(
                "verification_code_locked",
                code_h=self._code_digest(code)[:12],
                failures=failures,
                locked_s=(code_until - now) // 1000,
            )
        return phone_until > now or code_until > now

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
        tag = self._phone_tag(phone)
        now = self._now_ms()
        count = await self.redis.zcount(tag + ":fails", now - self._window_ms, "+inf")
        until = await self.redis.get(tag + ":until")
        ends = int(until) if until is not None and int(until) > now else None
        return int(count), ends / 1000 if ends is not None else None

    async def clear_phone(self, phone: str) -> None:
        """Forget the phone's failures and lock (a supervisor's decision, audited)."""
        tag = self._phone_tag(phone)
        await self.redis.delete(tag + ":fails", tag + ":until")
