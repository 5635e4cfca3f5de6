"""Connections to the shared engines, and the Redis state of conversations.

With `GATEWAY_REDIS_URL` unset the gateway runs on an in-process Redis stand-in (fakeredis):
fine for the demo and the tests, never for more than one worker.

`SessionStore` keeps, per channel and user: the session (a hash holding `rev` and the compact
JSON `doc`, written by a Lua compare-and-set), a lock (SET NX PX with a random token, freed by
compare-and-delete) and the answers already given to provider message ids (dedupe). A turn runs

    remembered? -> reply stored bytes | lock -> load -> step -> save -> remember

Key names hold no phone number: a user is a keyed HMAC, inside a Redis Cluster hash tag so one
user's keys share a slot (`mg:{ussd:<hmac>}:session`, `...:lock`, `...:seen:<hmac of the id>`).

Errors:

    StoreError
     ├── SessionConflict   the stored rev is not the one the session was loaded at
     └── LockTimeout       another turn held the user's lock for longer than wait_s
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Final

import anyio
import pydantic
import sqlalchemy as sa
import structlog
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from gateway.dialogs.model import ChannelKind, Session

__all__ = [
    "SESSION_TTL_S",
    "Keys",
    "LockTimeout",
    "SessionConflict",
    "SessionStore",
    "StoreError",
    "open_database",
    "open_redis",
]

log = structlog.get_logger("gateway.store")

SESSION_TTL_S: Final[Mapping[ChannelKind, int]] = {
    ChannelKind.USSD: 180,
    ChannelKind.SMS: 1800,
    ChannelKind.WHATSAPP: 1800,
    ChannelKind.TELEGRAM: 1800,
    ChannelKind.VOICE: 600,
}
"""How long an idle session lives, per channel; every write sets it again."""


REDIS_MAX_CONNECTIONS = 512


def open_redis(url: str | None) -> tuple[Redis, str]:
    """A Redis client for `url`, or the in-process stand-in, and a word saying which.

    A Redis Cluster is named `redis+cluster://host:port` (`rediss+cluster://` with TLS) or
    `redis://host:port?cluster=true`; any node will do, the client discovers the others. Every
    key the gateway uses carries a hash tag, so multi-key scripts stay on one slot.
    """
    if url is None:
        import fakeredis

        stand_in = fakeredis.FakeAsyncRedis(max_connections=REDIS_MAX_CONNECTIONS)
        return stand_in, "in-process stand-in (fakeredis)"
    cluster_url = _cluster_url(url)
    if cluster_url is not None:
        from redis.asyncio.cluster import RedisCluster

        cluster = RedisCluster.from_url(cluster_url, socket_timeout=1.0, socket_connect_timeout=1.0)
        # RedisCluster offers the commands the gateway uses (GET/SET/EVALSHA/XADD...).
        return cluster, "redis cluster"  # type: ignore[return-value]
    # Turns wait (briefly) for a free connection at peak instead of failing at the 100th.
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=REDIS_MAX_CONNECTIONS,
        timeout=1.0,
        socket_timeout=1.0,
        socket_connect_timeout=1.0,
    )
    return Redis.from_pool(pool), "redis"


async def warm_up(redis: Redis) -> None:
    """Open a cluster client's node connections before the first turns arrive.

    redis-py 8.1's asyncio `RedisCluster` fails some commands that race a node's very first
    connections (`'NoneType' object has no attribute 'writelines'`); discovering the slots
    and pinging every node once at start-up avoids that burst. A single server needs nothing.
    """
    from redis.asyncio.cluster import RedisCluster

    if isinstance(redis, RedisCluster):
        await redis.initialize()
        await redis.execute_command("PING", target_nodes=RedisCluster.ALL_NODES)


def _cluster_url(url: str) -> str | None:
    """The plain redis:// URL of a cluster URL, or None when `url` names one server."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    flagged = any(k == "cluster" and v.lower() in ("1", "true", "yes") for k, v in query)
    if parts.scheme in ("redis+cluster", "rediss+cluster"):
        scheme = parts.scheme.split("+")[0]
    elif flagged:
        scheme = parts.scheme
    else:
        return None
    rest = urlencode([(k, v) for k, v in query if k != "cluster"])
    return urlunsplit((scheme, parts.netloc, parts.path, rest, parts.fragment))


def open_database(url: str) -> sa.Engine:
    """An engine for `url`; a SQLite file's folder is created when missing."""
    sa_url = sa.make_url(url)
    if sa_url.get_backend_name() == "sqlite" and sa_url.database not in (None, "", ":memory:"):
        Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(sa_url, pool_pre_ping=True)


# ---- errors ------------------------------------------------------------------------------------


class StoreError(Exception):
    """Something about the shared state stopped a write or a wait."""


class SessionConflict(StoreError):
    """The session changed (or vanished) since it was loaded at `expected` rev."""

    def __init__(self, channel: ChannelKind, expected: int, found: int) -> None:
        super().__init__(channel, expected, found)
        self.channel = channel
        self.expected = expected
        self.found = found  # 0 when no session is stored

    def __repr__(self) -> str:
        return (
            f"SessionConflict(channel={self.channel.value!r}, "
            f"expected={self.expected}, found={self.found})"
        )


class LockTimeout(StoreError):
    """The user's lock stayed taken for `waited_s` seconds."""

    def __init__(self, channel: ChannelKind, waited_s: float) -> None:
        super().__init__(channel, waited_s)
        self.channel = channel
        self.waited_s = waited_s

    def __repr__(self) -> str:
        return f"LockTimeout(channel={self.channel.value!r}, waited_s={self.waited_s})"


# ---- key names ---------------------------------------------------------------------------------


class Keys:
    """Redis key names for one deployment: `<prefix>:{<channel>:<user hmac>}:<what>`.

    The user part is the first 32 hex characters of HMAC-SHA256(key_secret, user); its first
    12 are the `phone_h` of the logs (`gateway.logs.phone_hash`), so an operator can find a
    caller's keys from a log line, and nobody can find them from a phone number alone.
    """

    def __init__(self, key_secret: bytes, *, prefix: str = "mg") -> None:
        if not key_secret:
            raise ValueError("key_secret must not be empty")
        self._secret = key_secret
        self.prefix = prefix

    def digest(self, value: str, *, label: str = "") -> str:
        """A keyed hash of `value` (128 bits, hex); `label` separates kinds of values."""
        return hmac.new(self._secret, (label + value).encode(), hashlib.sha256).hexdigest()[:32]

    def user_tag(self, channel: ChannelKind, user: str) -> str:
        """The hash tag shared by all of one user's keys on one channel."""
        return "{" + f"{channel.value}:{self.digest(user)}" + "}"

    def session(self, channel: ChannelKind, user: str) -> str:
        return f"{self.prefix}:{self.user_tag(channel, user)}:session"

    def lock(self, channel: ChannelKind, user: str) -> str:
        return f"{self.prefix}:{self.user_tag(channel, user)}:lock"

    def seen(self, channel: ChannelKind, user: str, message_id: str) -> str:
        # Provider ids can carry user input (the USSD text path): hash them too.
        seen_h = self.digest(message_id, label="seen\0")
        return f"{self.prefix}:{self.user_tag(channel, user)}:seen:{seen_h}"


# ---- Lua ---------------------------------------------------------------------------------------

# KEYS[1] session hash; ARGV: expected rev, new doc, ttl ms. Returns {1, new rev} or {0, stored}.
# A missing session counts as rev 0; stored revs start at 1.
_SAVE_LUA = """
local stored = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
local expected = tonumber(ARGV[1])
if stored ~= expected then
  return {0, stored}
end
redis.call('HSET', KEYS[1], 'rev', expected + 1, 'doc', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, expected + 1}
"""

# KEYS[1] lock; ARGV[1] the holder's token. Deletes only the holder's own lock.
_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_POLL_FIRST_S = 0.01
_POLL_MAX_S = 0.1
_RELEASE_WITHIN_S = 1.0


# ---- the store ---------------------------------------------------------------------------------


class SessionStore:
    """Sessions, per-user locks and message dedupe in Redis (or fakeredis, identically)."""

    def __init__(self, redis: Redis, *, key_secret: bytes, prefix: str = "mg") -> None:
        self.redis = redis
        self.keys = Keys(key_secret, prefix=prefix)
        self._save = redis.register_script(_SAVE_LUA)
        self._release = redis.register_script(_RELEASE_LUA)

    async def load(self, channel: ChannelKind, user: str) -> Session | None:
        """The user's session on `channel`, or None when there is none (or it expired).

        A stored document that no longer parses restarts at the start state, keeping its rev
        so that the next save succeeds.
        """
        rev, doc = await self.redis.hmget(self.keys.session(channel, user), ["rev", "doc"])
        if rev is None or doc is None:
            return None
        try:
            session = Session.model_validate_json(doc)
        except pydantic.ValidationError as exc:
            log.warning("session_unreadable", channel=channel.value, errors=exc.error_count())
            return Session(rev=int(rev))
        return session.with_(rev=int(rev))

    async def save(
        self, channel: ChannelKind, user: str, session: Session, *, ttl_s: int | None = None
    ) -> Session:
        """Store `session` if the stored rev is still `session.rev`; return it at rev + 1.

        `ttl_s` defaults to the channel's `SESSION_TTL_S`. Raises `SessionConflict` when another
        write came first, or when the session expired after it was loaded.
        """
        ttl = SESSION_TTL_S[channel] if ttl_s is None else ttl_s
        if ttl <= 0:
            raise ValueError("ttl_s must be positive")
        stored = session.with_(rev=session.rev + 1)
        result = await self._save(
            keys=[self.keys.session(channel, user)],
            args=[session.rev, _dump(stored), ttl * 1000],
        )
        ok, rev = (int(x) for x in result)
        if not ok:
            raise SessionConflict(channel, session.rev, rev)
        return stored

    async def delete(self, channel: ChannelKind, user: str) -> None:
        """Forget the user's session on `channel` (the next load gives None)."""
        await self.redis.delete(self.keys.session(channel, user))

    @asynccontextmanager
    async def lock(
        self, channel: ChannelKind, user: str, *, lease_s: float = 5.0, wait_s: float = 2.0
    ) -> AsyncIterator[None]:
        """Hold the user's lock on `channel` for the block; wait at most `wait_s` for it.

        The lock expires after `lease_s` even if its holder died; a holder whose lease ran out
        does not free a lock someone else took since. Raises `LockTimeout`.
        """
        if lease_s <= 0:
            raise ValueError("lease_s must be positive")
        key = self.keys.lock(channel, user)
        token = secrets.token_hex(16)
        lease_ms = max(1, round(lease_s * 1000))
        started = time.monotonic()
        pause = _POLL_FIRST_S
        while not await self.redis.set(key, token, nx=True, px=lease_ms):
            left = wait_s - (time.monotonic() - started)
            if left <= 0:
                raise LockTimeout(channel, wait_s)
            await anyio.sleep(min(pause, left))
            pause = min(pause * 2, _POLL_MAX_S)
        try:
            yield
        finally:
            # Shielded: a cancelled turn still frees its lock instead of holding it a lease.
            with anyio.move_on_after(_RELEASE_WITHIN_S, shield=True):
                try:
                    await self._release(keys=[key], args=[token])
                except RedisError as exc:
                    # The lease frees it anyway; do not hide the block's own outcome.
                    log.warning(
                        "session_lock_release_failed", channel=channel.value, error=repr(exc)
                    )

    async def remembered(self, channel: ChannelKind, user: str, message_id: str) -> bytes | None:
        """The answer already given to this provider message id, if any."""
        value = await self.redis.get(self.keys.seen(channel, user, message_id))
        if isinstance(value, str):  # a client opened with decode_responses=True
            return value.encode()
        return value

    async def remember(
        self, channel: ChannelKind, user: str, message_id: str, response: bytes, *, ttl_s: int
    ) -> bool:
        """Store the answer to a message id for `ttl_s`; False if one was already stored."""
        key = self.keys.seen(channel, user, message_id)
        return bool(await self.redis.set(key, response, nx=True, ex=ttl_s))


def _dump(session: Session) -> str:
    """Compact JSON; the schema version `v` is kept even when it is the default."""
    data = session.model_dump(mode="json", exclude_defaults=True)
    data["v"] = session.v
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
