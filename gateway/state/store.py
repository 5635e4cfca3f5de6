"""The Redis state of conversations: sessions, per-user locks, remembered answers.

`SessionStore` keeps, per channel and user: the session (a hash holding `rev` and the compact
JSON `doc`, written by a Lua compare-and-set), a lock (a random token with a lease, freed by
compare-and-delete) and the answers already given to provider message ids (dedupe). A turn
costs two round trips (`gateway.turns`), each one Lua script (`gateway.state.store_lua`):

    open_turn:  (ended?) -> remembered answer? -> rate limit -> take the lock -> the session
                (+ a cache entry, the remembered language)
    (the engine's step)
    close_turn: save (compare-and-set on rev) -> remember the answer (-> the end) -> free the lock

(ended, the end: a USSD provider session's, `gateway.state.ends`.)

A turn that finds the lock taken by another turn polls `open_turn` again (10 ms, doubling to
100 ms) for at most `wait_s`, as `lock()` does; a retry of the message being answered waits
for its answer that way, and is never counted by the rate limit or refused by it.

Key layout (`gateway.state.keys`): key names hold no phone number. A user is a keyed HMAC inside a
Redis Cluster hash tag, one tag per user (phone) for all of its keys on every channel, so a
script may touch any of them on one slot:

    mg:{<hmac>}:ussd:session      mg:{<hmac>}:ussd:lock      mg:{<hmac>}:ussd:seen:<hmac of id>
    mg:{<hmac>}:sms:session       ... (one set per channel)
    mg:{<hmac>}:turns             the rate limit, per phone across channels
    mg:{<hmac>}:lang              the language chosen with AR/FR, from SQL (`gateway.state.langs`)
    mg:c:{<hmac>}                 the phone's cached guardian lookup (`gateway.resilience.cache`)

Before issue #10 the tag was per channel (`mg:{ussd:<hmac>}:session`) and the rate limit had
its own (`mg:{rl:<hmac>}:turns`); nothing reads those keys any more. A deploy that moves to
this layout drops the sessions in flight (a USSD session lives 180 s, an SMS one 30 min: they
start again at the menu), remembered answers and rate-limit windows start empty, and each
phone's guardian lookup is fetched once more (docs/deploy.md).

Errors:

    StoreError
     ├── StoreUnavailable  Redis did not answer (`gateway.state.errors`)
     ├── SessionConflict   the stored rev is not the one the session was loaded at
     └── LockTimeout       another turn held the user's lock for longer than wait_s
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

import anyio
import pydantic
import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.dialogs.model import ChannelKind, Session
from gateway.state import store_lua
from gateway.state.ends import SessionEnd, end_doc
from gateway.state.errors import StoreError, translated
from gateway.state.keys import Keys, KeySecret
from gateway.state.lua import lua

__all__ = [
    "SESSION_TTL_S",
    "LockTimeout",
    "Opened",
    "Outcome",
    "SessionConflict",
    "SessionStore",
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

_WAIT = 3  # OPEN_TURN's code for "another turn holds the lock"
_POLL_FIRST_S = 0.01
_POLL_MAX_S = 0.1
_RELEASE_WITHIN_S = 1.0


# ---- errors ------------------------------------------------------------------------------------


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


# ---- a turn's first round trip -------------------------------------------------------------


class Outcome(IntEnum):
    """What `open_turn` found (the codes of `store_lua.OPEN_TURN`)."""

    RUN = 0  # the lock is ours and the turn counted: step, then `close_turn`
    REPLAY = 1  # the message was answered already: send `answer` again
    LIMITED = 2  # too many turns from this user: refused, not counted
    ENDED = 4  # the provider session ended on another request: `end` is its value


@dataclass(frozen=True, slots=True)
class Opened:
    outcome: Outcome
    token: str = ""  # the lock's value while the turn runs
    session: Session | None = None
    answer: bytes | None = None  # REPLAY
    entry: bytes | None = None  # the cache entry asked for, if stored
    lang: bytes | None = (
        None  # the remembered language asked for, if stored (`gateway.state.langs`)
    )
    end: bytes | None = None  # ENDED: the provider session's end (`gateway.state.ends`)


@translated
class SessionStore:
    """Sessions, per-user locks and message dedupe in Redis (or fakeredis, identically)."""

    def __init__(self, redis: Redis, *, key_secret: KeySecret, prefix: str = "mg") -> None:
        self.redis = redis
        self.keys = Keys(key_secret, prefix=prefix)
        self._save = lua(redis, store_lua.SAVE)
        self._release = lua(redis, store_lua.RELEASE)
        self._open = lua(redis, store_lua.OPEN_TURN)
        self._close = lua(redis, store_lua.CLOSE_TURN)

    async def load(self, channel: ChannelKind, user: str) -> Session | None:
        """The user's session on `channel`, or None when there is none (or it expired).

        A stored document that no longer parses restarts at the start state, keeping its rev
        so that the next save succeeds.
        """
        rev, doc = await self.redis.hmget(self.keys.session(channel, user), ["rev", "doc"])
        return _parse(channel, rev, doc)

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
            await self._free(channel, key, token)

    async def _free(self, channel: ChannelKind, key: str, token: str) -> None:
        # Shielded: a cancelled turn still frees its lock instead of holding it a lease.
        with anyio.move_on_after(_RELEASE_WITHIN_S, shield=True):
            try:
                await self._release(keys=[key], args=[token])
            except RedisError as exc:
                # The lease frees it anyway; do not hide the block's own outcome.
                log.warning("session_lock_release_failed", channel=channel.value, error=repr(exc))

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

    # ---- the two round trips of a turn --------------------------------------------------

    async def open_turn(
        self,
        channel: ChannelKind,
        user: str,
        message_id: str,
        *,
        lease_s: float = 5.0,
        wait_s: float = 2.0,
        rate_key: str | None = None,
        rate_limit: int = 0,
        rate_window_ms: int = 60_000,
        entry_key: str | None = None,
        lang_key: str | None = None,
        end: SessionEnd | None = None,
    ) -> Opened:
        """Start a turn of `user` on `channel` for `message_id`, in one script (see the module).

        `rate_key` names the user's sorted set of recent turns (`RateLimiter.key`), allowed
        `rate_limit` per `rate_window_ms` (0: no limit); `entry_key` a string key of the same
        hash tag to read along (a cached guardian lookup), `lang_key` another (the language
        the user chose, `gateway.state.langs`); `end` the provider session's end, forgotten
        or checked first (`gateway.state.ends`). While another turn holds the lock
        the script is run again, for at most `wait_s`; then `LockTimeout`. The lock's lease
        (`lease_s`) frees it if this worker dies; `close_turn` or `release_turn` frees it.
        """
        if lease_s <= 0:
            raise ValueError("lease_s must be positive")
        mark = ":" + self.keys.seen_digest(message_id)
        token = secrets.token_hex(16) + mark
        keys = [
            self.keys.seen(channel, user, message_id),
            self.keys.lock(channel, user),
            self.keys.session(channel, user),
            rate_key or self.keys.turns(user),
        ]
        optional = ""
        if entry_key is not None:
            keys.append(entry_key)
            optional += "e"
        if lang_key is not None:
            keys.append(lang_key)
            optional += "l"
        if end is not None:
            keys.append(end.key)
            optional += "n" if end.opens else "x"
        lease_ms = max(1, round(lease_s * 1000))
        # The token is unique to this turn: it is also its member in the rate limit's set.
        args: list[str | int] = [token, mark, lease_ms, rate_limit, rate_window_ms, token, optional]
        if end is not None:
            args.append(end.mark)
        started = time.monotonic()
        pause = _POLL_FIRST_S
        while True:
            reply = await self._open(keys=keys, args=args)
            code = int(reply[0])
            if code != _WAIT:
                break
            left = wait_s - (time.monotonic() - started)
            if left <= 0:
                raise LockTimeout(channel, wait_s)
            await anyio.sleep(min(pause, left))
            pause = min(pause * 2, _POLL_MAX_S)
        if code == Outcome.REPLAY:
            return Opened(Outcome.REPLAY, answer=_bytes(reply[1]))
        if code == Outcome.LIMITED:
            return Opened(Outcome.LIMITED)
        if code == Outcome.ENDED:
            return Opened(Outcome.ENDED, end=_bytes(reply[1]))
        return Opened(
            Outcome.RUN,
            token=token,
            session=_parse(channel, reply[1], reply[2]),
            entry=_bytes(reply[3]),
            lang=_bytes(reply[4]),
        )

    async def close_turn(
        self,
        channel: ChannelKind,
        user: str,
        message_id: str,
        opened: Opened,
        session: Session,
        answer: bytes,
        *,
        remember_s: int,
        ttl_s: int | None = None,
        end: tuple[SessionEnd, str | None] | None = None,
    ) -> Session:
        """Save `session` if the stored rev is still `session.rev`, remember `answer` for
        `remember_s`, keep `end` (the provider session's end the answer says, and in which
        language) and free the lock `opened` took, in one script; the session at rev + 1.

        Raises `SessionConflict` when another write came first: the answer is remembered and
        the lock freed all the same (the other writer's state stays).
        """
        ttl = SESSION_TTL_S[channel] if ttl_s is None else ttl_s
        if ttl <= 0 or remember_s <= 0:
            raise ValueError("ttl_s and remember_s must be positive")
        stored = session.with_(rev=session.rev + 1)
        keys = [
            self.keys.session(channel, user),
            self.keys.seen(channel, user, message_id),
            self.keys.lock(channel, user),
        ]
        args: list[str | int | bytes] = [
            session.rev,
            _dump(stored),
            ttl * 1000,
            answer,
            remember_s,
            opened.token,
        ]
        if end is not None:
            keys.append(end[0].key)
            args += [end_doc(*end), end[0].ttl_s]
        ok, rev = (int(x) for x in await self._close(keys=keys, args=args))
        if not ok:
            raise SessionConflict(channel, session.rev, rev)
        return stored

    async def release_turn(self, channel: ChannelKind, user: str, opened: Opened) -> None:
        """Free the lock `opened` took, if it is still ours (a turn that will not close)."""
        await self._free(channel, self.keys.lock(channel, user), opened.token)

    async def keep_end(self, end: SessionEnd, lang: str | None) -> None:
        """Keep the provider session's end outside a turn's round trips (`gateway.state.ends`)."""
        await self.redis.set(end.key, end_doc(end, lang), ex=end.ttl_s)


def _dump(session: Session) -> str:
    """Compact JSON; the schema version `v` is kept even when it is the default."""
    data = session.model_dump(mode="json", exclude_defaults=True)
    data["v"] = session.v
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _bytes(value: bytes | str | None) -> bytes | None:
    """A reply's value as bytes (a client opened with decode_responses=True gives str)."""
    return value.encode() if isinstance(value, str) else value


def _parse(
    channel: ChannelKind, rev: bytes | str | None, doc: bytes | str | None
) -> Session | None:
    """A stored session, or None. A document that no longer parses restarts at the start
    state, keeping its rev so that the next save succeeds."""
    if rev is None or doc is None:
        return None
    try:
        session = Session.model_validate_json(doc)
    except pydantic.ValidationError as exc:
        log.warning("session_unreadable", channel=channel.value, errors=exc.error_count())
        return Session(rev=int(rev))
    return session.with_(rev=int(rev))
