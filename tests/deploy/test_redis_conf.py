"""deploy/redis/redis.conf, run by a real redis-server (only its port and data directory
changed): the outbox's settings read back with CONFIG GET, no command without the password,
and at the memory limit a write is refused while keys with a TTL stay (noeviction)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from tests.deploy.units import DEPLOY, free_port, tool, why_missing

CONF = DEPLOY / "redis" / "redis.conf"
PASSWORD = "CHANGE_ME_REDIS_PASSWORD"  # the file's placeholder
START_WAIT_S = 20.0


def _setting(name: str) -> str:
    for line in CONF.read_text().splitlines():
        key, _, value = line.strip().partition(" ")
        if key == name:
            return value.strip()
    raise AssertionError(f"{name} is not in {CONF.name}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    binary = tool("redis-server")
    if binary is None:
        pytest.skip(why_missing("redis-server", "redis-server"))
    data = tmp_path_factory.mktemp("redis")
    port = free_port()
    log = data / "redis.log"
    proc = subprocess.Popen(  # noqa: S603 - the host's redis-server on our file
        [binary, str(CONF), "--port", str(port), "--dir", str(data), "--logfile", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, password=PASSWORD, socket_timeout=2)
    deadline = time.monotonic() + START_WAIT_S
    try:
        while True:  # a bound that fails, not a measure of speed
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None:
                    out = log.read_text() if log.exists() else ""
                    raise AssertionError(f"redis-server refused the file:\n{out}") from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield port
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


def config(port: int, name: str) -> str:
    client = redis.Redis(port=port, password=PASSWORD, decode_responses=True)
    try:
        answer: dict[str, str] = client.config_get(name)  # type: ignore[assignment]
        return answer[name]
    finally:
        client.close()


def test_the_outbox_settings_are_in_force(server: int) -> None:
    assert config(server, "appendonly") == "yes"
    assert config(server, "appendfsync") == "everysec"
    assert config(server, "maxmemory-policy") == "noeviction"
    assert int(config(server, "maxmemory")) == 3200 * 1024**2  # the capacity plan's example
    assert config(server, "requirepass") == PASSWORD
    assert config(server, "bind").split()[0] == "127.0.0.1"
    assert config(server, "protected-mode") == "yes"
    assert config(server, "save") == _setting("save")


def test_nothing_is_answered_without_the_password(server: int) -> None:
    stranger = redis.Redis(port=server, socket_timeout=2)
    try:
        with pytest.raises(redis.AuthenticationError):
            stranger.get("mg:anything")
    finally:
        stranger.close()


def test_at_the_limit_a_write_is_refused_and_no_key_is_evicted(server: int) -> None:
    client = redis.Redis(port=server, password=PASSWORD)
    limit = config(server, "maxmemory")
    try:
        used = int(client.info("memory")["used_memory"])
        client.config_set("maxmemory", used + 2 * 1024**2)  # 2 MiB of room
        value = b"x" * 100_000

        def fill() -> None:
            for n in range(1_000):  # 100 MB: far past the room
                client.set(f"mg:{{outbox:test}}:idem:{n}", value, ex=7 * 86400)

        with pytest.raises(redis.exceptions.OutOfMemoryError):
            fill()
        assert client.exists("mg:{outbox:test}:idem:0") == 1  # the oldest marker is kept
    finally:
        client.config_set("maxmemory", limit)
        client.flushall()
        client.close()
