"""The outbox's Redis side: a stream per priority, a delayed set, and idempotency markers.

```
enqueue ──SET NX idem──> XADD mg:{outbox}:q:<priority>  ──XREADGROUP (group "senders")──> worker
                                   ▲                                                    │
 mg:{outbox}:delayed (ZSET, due ms) ┘<── retry later (ZADD + XACK + XDEL, one script) ───┘
```

- `enqueue` records the idempotency key with SET NX before the entry exists, in one script:
  the same key is queued once, however often it is enqueued. A follow-up may also name a
  `guard` (one pending answer per phone and question), freed by `release_guard` when done.
- A worker `claim`s an entry before sending: if its key is already marked sent (a crashed
  worker sent it but did not acknowledge it), it is acknowledged and skipped; if another live
  worker holds its lease, it is left alone. After the send, `finish` marks the key sent.
- A stream entry holds the address and text until it is acknowledged, then it is deleted
  (XDEL): message bodies do not linger in Redis.

Every key shares the hash tag `{outbox:<ns>}`, so each script stays on one Redis Cluster slot.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from gateway.dialogs.model import Option
from gateway.outbox.model import MessageKind, OutChannel, OutMessage, Priority

__all__ = [
    "GROUP",
    "Claim",
    "Entry",
    "Malformed",
    "Outbox",
    "OutboxKeys",
    "as_text",
    "decode",
    "encode",
]

GROUP = "senders"
IDEMPOTENCY_TTL_S = 7 * 24 * 3600  # longer than any retry or follow-up can wait
SENT_TTL_S = 7 * 24 * 3600
STREAM_MAXLEN = 1_000_000  # a bound against a runaway producer, far above any real backlog
DEAD_MAXLEN = 10_000


class Malformed(ValueError):
    """A stream entry that cannot be read back as a message (moved aside, counted)."""


@dataclass(frozen=True, slots=True)
class OutboxKeys:
    """`<prefix>:{outbox:<ns>}:<what>`: one deployment's outbox (`ns` comes from its identity
    key, so two deployments, or two test runs, sharing a Redis never read each other's)."""

    prefix: str = "mg"
    ns: str = ""

    @property
    def tag(self) -> str:
        return "{outbox:" + self.ns + "}" if self.ns else "{outbox}"

    def stream(self, priority: Priority) -> str:
        return f"{self.prefix}:{self.tag}:q:{int(priority)}"

    @property
    def delayed(self) -> str:
        return f"{self.prefix}:{self.tag}:delayed"

    @property
    def dead(self) -> str:
        return f"{self.prefix}:{self.tag}:dead"

    def idem(self, key_h: str) -> str:
        return f"{self.prefix}:{self.tag}:idem:{key_h}"

    def sent(self, key_h: str) -> str:
        return f"{self.prefix}:{self.tag}:sent:{key_h}"

    def lease(self, key_h: str) -> str:
        return f"{self.prefix}:{self.tag}:lease:{key_h}"

    def guard(self, guard_h: str) -> str:
        return f"{self.prefix}:{self.tag}:guard:{guard_h}"

    def bucket(self, channel: str) -> str:
        return f"{self.prefix}:{self.tag}:tb:{channel}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One message read from a stream: where it sits, and what it asks."""

    stream: str
    entry_id: str
    message: OutMessage
    job: Mapping[str, Any] | None = None  # a follow-up's input, composed when it is sent
    guard: str | None = None  # the follow-up's guard key hash, freed when it is done
    tries: int = 0  # follow-up compositions tried (the backend was still unavailable)
    raw: Mapping[str, str] = field(default_factory=dict)


# --- encoding -----------------------------------------------------------------------------


def encode(
    msg: OutMessage,
    *,
    job: Mapping[str, Any] | None = None,
    guard: str | None = None,
    tries: int = 0,
) -> str:
    """The entry's one field, compact JSON."""
    doc: dict[str, Any] = {
        "id": msg.id,
        "key": msg.key,
        "ch": msg.channel.value,
        "to": msg.to,
        "text": msg.text,
        "kind": msg.kind.value,
        "pri": int(msg.priority),
        "at": msg.created_at.timestamp(),
        "n": msg.attempt,
    }
    if msg.options:
        doc["opts"] = [[o.key, o.id, o.label] for o in msg.options]
    if msg.sender_id is not None:
        doc["from"] = msg.sender_id
    if msg.route is not None:
        doc["via"] = msg.route
    if msg.student is not None:
        doc["stu"] = msg.student
    if job is not None:
        doc["job"] = job
    if guard is not None:
        doc["guard"] = guard
    if tries:
        doc["tries"] = tries
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def decode(stream: str, entry_id: str, fields: Mapping[bytes | str, bytes | str]) -> Entry:
    """An `Entry`, or `Malformed` when the fields are not one of ours."""
    raw = {as_text(k): as_text(v) for k, v in fields.items()}
    try:
        doc = json.loads(raw["m"])
        msg = OutMessage(
            id=str(doc["id"]),
            key=str(doc["key"]),
            channel=OutChannel(doc["ch"]),
            to=str(doc["to"]),
            text=str(doc["text"]),
            options=tuple(
                Option(key=str(k), id=str(i), label=str(label))
                for k, i, label in doc.get("opts", ())
            ),
            kind=MessageKind(doc["kind"]),
            priority=Priority(int(doc["pri"])),
            created_at=datetime.fromtimestamp(float(doc["at"]), UTC),
            attempt=int(doc.get("n", 0)),
            sender_id=_optional(doc.get("from")),
            route=_optional(doc.get("via")),
            student=_optional(doc.get("stu")),
        )
        job = doc.get("job")
        if job is not None and not isinstance(job, dict):
            raise TypeError("job")
        guard = doc.get("guard")
        return Entry(
            stream=stream,
            entry_id=entry_id,
            message=msg,
            job=job,
            guard=str(guard) if guard is not None else None,
            tries=int(doc.get("tries", 0)),
            raw=raw,
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise Malformed(type(exc).__name__) from None


def as_text(value: object) -> str:
    """A Redis reply as text (clients may or may not decode responses)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


# --- scripts --------------------------------------------------------------------------------

# KEYS: idem, stream, guard. ARGV: entry, idem ttl s, maxlen, guard ttl s, "1" if guarded.
# (Without a guard KEYS[3] repeats KEYS[1]: an empty key name would hash to another slot.)
# Returns the new entry id, or "dup" (key already queued) or "guarded" (one already pending).
_ENQUEUE = """
local guarded = ARGV[5] == '1'
if guarded and redis.call('EXISTS', KEYS[3]) == 1 then return 'guarded' end
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then return 'dup' end
if guarded then redis.call('SET', KEYS[3], '1', 'EX', ARGV[4]) end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'm', ARGV[1])
"""

# KEYS: sent marker, lease. ARGV: token, lease ms.
# Returns {"sent", provider id} | {"busy"} | {"ok"}.
_CLAIM = """
local sent = redis.call('GET', KEYS[1])
if sent then return {'sent', sent} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'ok'} end
return {'busy'}
"""

# KEYS: sent marker, lease, guard (the lease again when there is none).
# ARGV: provider id, sent ttl s, token. Marks the key sent, frees the lease and the guard.
_FINISH = """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
if KEYS[3] ~= KEYS[2] then redis.call('DEL', KEYS[3]) end
return 1
"""

# KEYS: sent marker, lease. ARGV: token, lease ms.
# Just before a send: 1 when the lease is still ours (and is renewed), 0 when it ran out
# (another worker may have the message now) or the key was sent meanwhile.
_RENEW = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""

# KEYS: lease. ARGV: token.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: delayed, stream (the entry's). ARGV: group, entry id, new entry, due ms.
_LATER = """
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
return 1
"""

# KEYS: delayed, stream 0, stream 1, stream 2. ARGV: limit, maxlen.
# Moves entries due by Redis' clock to their priority's stream; returns how many.
_PROMOTE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, ARGV[1])
for _, entry in ipairs(due) do
  local pri = tonumber(string.match(entry, '"pri":(%d)')) or 2
  redis.call('XADD', KEYS[2 + pri], 'MAXLEN', '~', ARGV[2], '*', 'm', entry)
  redis.call('ZREM', KEYS[1], entry)
end
return #due
"""


@dataclass(frozen=True, slots=True)
class Claim:
    outcome: str  # "ok" (send it), "sent" (already sent: acknowledge), "busy" (leave it)
    token: str = ""
    provider_id: str = ""


class Outbox:
    """Producers' and workers' view of the outbox streams."""

    def __init__(self, redis: Redis, *, key_secret: bytes, prefix: str = "mg") -> None:
        if not key_secret:
            raise ValueError("key_secret must not be empty")
        self.redis = redis
        self._secret = key_secret
        self.keys = OutboxKeys(prefix, self.digest("", label="namespace")[:8])
        self._enqueue = redis.register_script(_ENQUEUE)
        self._claim = redis.register_script(_CLAIM)
        self._finish = redis.register_script(_FINISH)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)
        self._later = redis.register_script(_LATER)
        self._promote = redis.register_script(_PROMOTE)

    @property
    def streams(self) -> list[str]:
        """The streams in the order they are served."""
        return [self.keys.stream(p) for p in Priority]

    def digest(self, value: str, *, label: str) -> str:
        """A keyed hash: idempotency keys and guards may hold what a user typed."""
        return hmac.new(self._secret, f"{label}\0{value}".encode(), hashlib.sha256).hexdigest()[:32]

    def key_h(self, msg: OutMessage) -> str:
        return self.digest(msg.key, label="idem")

    # --- producers ------------------------------------------------------------------------

    async def enqueue(
        self,
        msg: OutMessage,
        *,
        job: Mapping[str, Any] | None = None,
        guard: str | None = None,
        guard_ttl_s: int = 0,
    ) -> str | None:
        """Queue `msg`; its stream entry id, or None when its key (or `guard`) is taken."""
        guard_h = self.digest(guard, label="guard") if guard is not None else None
        idem = self.keys.idem(self.key_h(msg))
        result = await self._enqueue(
            keys=[
                idem,
                self.keys.stream(msg.priority),
                self.keys.guard(guard_h) if guard_h is not None else idem,
            ],
            args=[
                encode(msg, job=job, guard=guard_h),
                IDEMPOTENCY_TTL_S,
                STREAM_MAXLEN,
                max(1, guard_ttl_s),
                "1" if guard_h is not None else "0",
            ],
        )
        text = as_text(result)
        return None if text in ("dup", "guarded") else text

    async def enqueue_many(self, msgs: Sequence[OutMessage]) -> int:
        """Queue many messages in one round trip (alerts); how many were new. Each is
        queued once per key, exactly as `enqueue` would (no job, no guard)."""
        if not msgs:
            return 0
        async with self.redis.pipeline(transaction=False) as pipe:
            for msg in msgs:
                idem = self.keys.idem(self.key_h(msg))
                await self._enqueue(
                    keys=[idem, self.keys.stream(msg.priority), idem],
                    args=[encode(msg), IDEMPOTENCY_TTL_S, STREAM_MAXLEN, 1, "0"],
                    client=pipe,
                )
            results = await pipe.execute()
        return sum(1 for r in results if as_text(r) not in ("dup", "guarded"))

    async def ensure_group(self) -> None:
        """Create the consumer group on every stream (idempotent)."""
        for stream in self.streams:
            try:
                await self.redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    # --- workers --------------------------------------------------------------------------

    async def claim(self, entry: Entry, *, lease_ms: int) -> Claim:
        token = secrets.token_hex(8)
        key_h = self.key_h(entry.message)
        result = await self._claim(
            keys=[self.keys.sent(key_h), self.keys.lease(key_h)], args=[token, lease_ms]
        )
        outcome = as_text(result[0])
        if outcome == "sent":
            return Claim("sent", provider_id=as_text(result[1]))
        return Claim(outcome, token=token)

    async def renew(self, entry: Entry, claim: Claim, *, lease_ms: int) -> bool:
        """Whether the claim still holds (renewed for `lease_ms`): asked just before a send,
        so a message that waited past its lease is never sent by two workers."""
        key_h = self.key_h(entry.message)
        held = await self._renew(
            keys=[self.keys.sent(key_h), self.keys.lease(key_h)], args=[claim.token, lease_ms]
        )
        return bool(held)

    async def finish(self, entry: Entry, claim: Claim, provider_id: str) -> None:
        """Mark the key sent (before the entry is acknowledged), free the lease and the
        follow-up's guard, in one script."""
        key_h = self.key_h(entry.message)
        lease = self.keys.lease(key_h)
        guard = self.keys.guard(entry.guard) if entry.guard is not None else lease
        await self._finish(
            keys=[self.keys.sent(key_h), lease, guard],
            args=[provider_id, SENT_TTL_S, claim.token],
        )

    async def release(self, entry: Entry, claim: Claim) -> None:
        await self._release(keys=[self.keys.lease(self.key_h(entry.message))], args=[claim.token])

    async def release_guard(self, entry: Entry) -> None:
        if entry.guard is not None:
            await self.redis.delete(self.keys.guard(entry.guard))

    async def later(
        self,
        entry: Entry,
        msg: OutMessage,
        *,
        due_ms: int,
        tries: int = 0,
        job: Mapping[str, Any] | None = None,
    ) -> None:
        """Acknowledge `entry` and queue `msg` (with `job`, when it still has to be composed)
        again once Redis' clock passes `due_ms`."""
        again = encode(msg, job=job, guard=entry.guard, tries=tries)
        await self._later(
            keys=[self.keys.delayed, entry.stream], args=[GROUP, entry.entry_id, again, due_ms]
        )

    async def promote(self, *, limit: int = 500) -> int:
        """Move delayed entries that are due into their streams."""
        moved = await self._promote(
            keys=[self.keys.delayed, *self.streams], args=[limit, STREAM_MAXLEN]
        )
        return int(moved)

    async def ack(self, entries: Sequence[Entry]) -> None:
        """Acknowledge and delete entries (their bodies leave Redis with them)."""
        if not entries:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for entry in entries:
                pipe.xack(entry.stream, GROUP, entry.entry_id)
                pipe.xdel(entry.stream, entry.entry_id)
            await pipe.execute()

    async def dead_letter(self, stream: str, entry_id: str, fields: Mapping[str, str]) -> None:
        """Note an entry that cannot be read in `…:dead` (where it was, its field names and
        sizes: never its values, which may hold a phone and a text) and acknowledge it."""
        async with self.redis.pipeline(transaction=False) as pipe:
            shape = ",".join(f"{name}:{len(value)}" for name, value in fields.items())
            pipe.xadd(
                self.keys.dead,
                {"stream": stream, "entry": entry_id, "fields": shape[:500]},
                maxlen=DEAD_MAXLEN,
                approximate=True,
            )
            pipe.xack(stream, GROUP, entry_id)
            pipe.xdel(stream, entry_id)
            await pipe.execute()

    async def server_ms(self) -> int:
        seconds, micros = await self.redis.time()
        return int(seconds) * 1000 + int(micros) // 1000

    async def backlog(self) -> dict[str, int]:
        """Entries waiting per priority, and delayed ones (metrics, tests)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for stream in self.streams:
                pipe.xlen(stream)
            pipe.zcard(self.keys.delayed)
            counts = await pipe.execute()
        names = [p.name.lower() for p in Priority] + ["delayed"]
        return dict(zip(names, (int(c) for c in counts), strict=True))
