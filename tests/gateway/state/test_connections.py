"""The Redis client the gateway opens: redis-py's, minus a task per command and a retry wrapper
per checkout (gateway/state/connections.py), and scripts run by their SHA (gateway/state/lua.py).
Each shortcut is checked against what it must not lose: a bound on a Redis that stops
answering, reconnection after a dropped connection, and a script Redis forgot."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.exceptions
from redis.asyncio import Redis

from gateway.state.connections import open_redis
from gateway.state.lua import lua
from tests.conftest import REAL_REDIS, REDIS_TIMEOUT_S, REDIS_URL
from tests.redis_servers import redis_server

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not REAL_REDIS, reason="needs a Redis server: the client's own sockets"),
]

ECHO = "return {KEYS[1], ARGV[1]}"


async def test_a_command_makes_no_task_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    real = asyncio.wait_for

    async def counting(aw: Any, bound: float | None) -> Any:
        calls.append(aw)
        return await real(aw, bound)

    monkeypatch.setattr(asyncio, "wait_for", counting)
    client, _ = open_redis(REDIS_URL, timeout_s=REDIS_TIMEOUT_S)
    try:
        await client.ping()  # connects (redis-py's own path, which may use wait_for)
        calls.clear()
        for n in range(50):
            await client.set(f"mgtest-conn:{n}", n, ex=5)
        assert calls == []
    finally:
        await client.aclose()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts and reads, and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


async def test_a_redis_that_stops_answering_still_times_out(silent_server: int) -> None:
    client, _ = open_redis(f"redis://127.0.0.1:{silent_server}/0", timeout_s=0.3)
    try:
        with pytest.raises(redis.exceptions.TimeoutError):
            await client.get("anything")
    finally:
        await client.aclose()


async def test_a_dropped_connection_is_opened_again() -> None:
    client, _ = open_redis(REDIS_URL, timeout_s=REDIS_TIMEOUT_S)
    admin = Redis.from_url(REDIS_URL)
    try:
        name = "mgtest-conn-dropped"
        await client.client_setname(name)
        await client.set("mgtest-conn:x", "1", ex=5)
        ids = [c["id"] for c in await admin.client_list() if c.get("name") == name]
        assert ids
        for client_id in ids:
            await admin.client_kill_filter(_id=client_id)
        assert await client.get("mgtest-conn:x") == b"1"  # the pool's next checkout reconnects
    finally:
        await admin.aclose()
        await client.aclose()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[str]:
    """A server of this test's own: SCRIPT FLUSH empties a whole server's scripts."""
    with redis_server(tmp_path / "redis") as url:
        yield url


async def test_a_script_redis_forgot_is_loaded_again_and_pipelines_still_run_it(
    own_redis: str,
) -> None:
    client, _ = open_redis(own_redis, timeout_s=REDIS_TIMEOUT_S)
    try:
        echo = lua(client, ECHO)
        assert await echo(keys=["k"], args=["a"]) == [b"k", b"a"]
        await client.script_flush()  # a restarted Redis, or a failover to a fresh replica
        assert await echo(keys=["k"], args=["b"]) == [b"k", b"b"]
        await client.script_flush()
        async with client.pipeline(transaction=True) as pipe:
            await echo(keys=["k"], args=["c"], client=pipe)
            assert await pipe.execute() == [[b"k", b"c"]]
    finally:
        await client.aclose()
