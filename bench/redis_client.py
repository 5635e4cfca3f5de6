"""The Redis client path of a turn, measured alone, for each client configuration.

Usage: python bench/redis_client.py [--turns 20000] [--tasks 32] [--repeats 3]

A "turn" here is what the gateway sends Redis on a warm USSD dial: `SessionStore.open_turn`
(a session and a cached entry read along) and `close_turn` (a session document of the usual
size), run by `--tasks` concurrent tasks on uvloop against a throw-away redis-server. The
figure is this process's CPU time per turn (`time.process_time`): the client's cost, not
the server's. Each configuration runs `--repeats` times, interleaved; on a shared machine
the least of them is the steadiest figure (other processes only ever add to it), so it is
the one compared; the median is shown too.

Configurations, each one change from the one above it:

    blocking+python         BlockingConnectionPool, redis-py's pure-Python parser (before #10)
    blocking+hiredis        the hiredis parser (redis-py picks it when hiredis is installed)
    pool+hiredis            a plain ConnectionPool (no condition variable, no wait timeout)
    pool+hiredis+maint off  maintenance notifications off (nothing asks for them on connect)
    pool+hiredis+RESP2      RESP2, not redis-py 8's RESP3 (not taken: within the noise, and
                            the code and tests run on RESP3's reply shapes)
    untimed (maint off)     no socket timeout (not taken: within the noise, and only turns
                            have a deadline of their own; /readyz and callbacks would hang)
    gateway                 what `gateway.state.connections.open_redis` builds now
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from redis._parsers import _AsyncHiredisParser, _AsyncRESP2Parser
from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis
from redis.maint_notifications import MaintNotificationsConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import redis_server
from gateway.dialogs.model import ChannelKind, Session
from gateway.state.connections import REDIS_MAX_CONNECTIONS, open_redis
from gateway.state.store import SessionStore

SOCKET = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}
SESSION = Session(state="main", data={"page": 0}, channel={"sid": "0" * 16, "plen": "0"})
ENTRY = b'{"at":1750000000.0,"v":' + b'{"guardian":{"id":"gdn_x"},"students":[]}' * 20 + b"}"


def blocking_python(url: str) -> Redis:
    pool = BlockingConnectionPool.from_url(
        url, max_connections=REDIS_MAX_CONNECTIONS, timeout=1.0, parser_class=_AsyncRESP2Parser,
        **SOCKET,
    )  # fmt: skip
    return Redis.from_pool(pool)


def blocking_hiredis(url: str) -> Redis:
    pool = BlockingConnectionPool.from_url(
        url, max_connections=REDIS_MAX_CONNECTIONS, timeout=1.0, parser_class=_AsyncHiredisParser,
        **SOCKET,
    )  # fmt: skip
    return Redis.from_pool(pool)


def pool_hiredis(url: str) -> Redis:
    pool = ConnectionPool.from_url(
        url, max_connections=REDIS_MAX_CONNECTIONS, parser_class=_AsyncHiredisParser, **SOCKET
    )
    return Redis.from_pool(pool)


def pool_hiredis_maint_off(url: str) -> Redis:
    pool = ConnectionPool.from_url(
        url, max_connections=REDIS_MAX_CONNECTIONS, parser_class=_AsyncHiredisParser,
        maint_notifications_config=MaintNotificationsConfig(enabled=False), **SOCKET,
    )  # fmt: skip
    return Redis.from_pool(pool)


def pool_hiredis_resp2(url: str) -> Redis:
    pool = ConnectionPool.from_url(
        url, max_connections=REDIS_MAX_CONNECTIONS, parser_class=_AsyncHiredisParser,
        protocol=2, **SOCKET,
    )  # fmt: skip
    return Redis.from_pool(pool)


def pool_hiredis_untimed(url: str) -> Redis:
    pool = ConnectionPool.from_url(
        url, max_connections=REDIS_MAX_CONNECTIONS, parser_class=_AsyncHiredisParser,
        maint_notifications_config=MaintNotificationsConfig(enabled=False),
        socket_connect_timeout=1.0,
    )  # fmt: skip
    return Redis.from_pool(pool)


def gateway(url: str) -> Redis:
    return open_redis(url)[0]


CONFIGS: dict[str, Callable[[str], Redis]] = {
    "blocking+python": blocking_python,
    "blocking+hiredis": blocking_hiredis,
    "pool+hiredis": pool_hiredis,
    "pool+hiredis+maint off": pool_hiredis_maint_off,
    "pool+hiredis+RESP2": pool_hiredis_resp2,
    "untimed (maint off)": pool_hiredis_untimed,
    "gateway": gateway,
}


async def measure(make: Callable[[str], Redis], url: str, turns: int, tasks: int) -> float:
    """CPU microseconds of this process per turn (two round trips)."""
    redis = make(url)
    store = SessionStore(redis, key_secret=b"bench")
    entry_key = "mg:c:" + store.keys.user_tag("+212600000000")
    await redis.set(entry_key, ENTRY)

    async def worker(n: int, first: int) -> None:
        for i in range(first, first + n):
            phone = f"+2126{i % 1000:08d}"
            opened = await store.open_turn(
                ChannelKind.USSD, phone, f"m{i}", rate_limit=1_000_000, entry_key=entry_key
            )
            base = opened.session or SESSION
            await store.close_turn(
                ChannelKind.USSD, phone, f"m{i}", opened, base, b"CON Menu\n1. A", remember_s=60
            )

    await asyncio.gather(*(worker(50, t * 50) for t in range(tasks)))  # connections, scripts
    per_task = turns // tasks
    started = time.process_time()
    await asyncio.gather(*(worker(per_task, 10_000_000 + t * per_task) for t in range(tasks)))
    used = time.process_time() - started
    await redis.flushdb()
    await redis.aclose()
    return used * 1e6 / (per_task * tasks)


def main(argv: list[str] | None = None) -> int:
    import uvloop

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20_000)
    parser.add_argument("--tasks", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    results: dict[str, list[float]] = {name: [] for name in CONFIGS}
    with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as url:
        for _ in range(args.repeats):
            for name, make in CONFIGS.items():
                results[name].append(uvloop.run(measure(make, url, args.turns, args.tasks)))
    print(f"client CPU per turn (2 round trips), {args.turns} turns, {args.tasks} tasks")
    print(f"  {'configuration':<24} {'least':>7}  {'change':>9}  {'median':>7}")
    previous = None
    for name, values in results.items():
        least, median = min(values), statistics.median(values)
        change = f"{least - previous:+7.1f} us" if previous is not None else ""
        print(f"  {name:<24} {least:7.1f}  {change:>9}  {median:7.1f}  (us)")
        previous = least
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
