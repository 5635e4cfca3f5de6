"""The engines' probes (gateway/state/health.py) against real `redis-server` processes started
here, each configured as a case needs, and real databases; and how an engine is named in a
log line: its address, never a password."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.logs import bare_url
from gateway.migrate import head_revision, upgrade
from gateway.state.connections import open_database, open_redis
from gateway.state.health import (
    STAND_IN,
    RedisFacts,
    RedisNode,
    describe_database,
    describe_redis,
    probe_database,
    probe_engines,
    probe_redis,
)
from tests.redis_servers import free_port, redis_server

pytestmark = pytest.mark.anyio

SECRET = "s3cret-Pa55word-for-tests"


@pytest.mark.parametrize(
    ("url", "named"),
    [
        (None, STAND_IN),
        ("redis://127.0.0.1:6379/10", "127.0.0.1:6379/10"),
        (f"redis://:{SECRET}@10.0.0.5:6380/2", "10.0.0.5:6380/2"),
        (f"redis://gateway:{SECRET}@redis.internal/0", "redis.internal:6379/0"),
        (f"rediss://default:{SECRET}@cache.example.net:6380", "cache.example.net:6380/0 TLS"),
        (f"redis+cluster://:{SECRET}@10.0.0.7:7000", "cluster 10.0.0.7:7000"),
        ("redis://10.0.0.7:7000/0?cluster=true", "cluster 10.0.0.7:7000"),
        (f"unix://:{SECRET}@/run/redis/redis.sock?db=3", "unix:/run/redis/redis.sock/3"),
        ("redis://[::1]:6379/4", "[::1]:6379/4"),
    ],
)
def test_a_redis_is_named_by_its_address_never_its_password(url: str | None, named: str) -> None:
    assert describe_redis(url) == named
    assert SECRET not in describe_redis(url)


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("sqlite:///var/gateway.db", "sqlite:///var/gateway.db"),
        (
            f"postgresql+psycopg://gateway:{SECRET}@db.internal:5432/gateway",
            "postgresql+psycopg://gateway@db.internal:5432/gateway",
        ),
        (
            f"postgresql+psycopg://gateway@db/gateway?sslmode=require&sslpassword={SECRET}",
            "postgresql+psycopg://gateway@db/gateway",
        ),
        (SECRET, "(not a database URL)"),  # a password pasted in the wrong variable
    ],
)
def test_a_database_is_named_without_its_password(url: str, named: str) -> None:
    described = describe_database(url)
    assert described == named
    assert SECRET not in described


@pytest.mark.parametrize(
    ("url", "bare"),
    [
        ("http://127.0.0.1:8100/api/v1", "http://127.0.0.1:8100/api/v1"),
        (f"https://massar:{SECRET}@api.example.ma/v1", "https://api.example.ma/v1"),
        (f"https://api.example.ma/v1?token={SECRET}#x", "https://api.example.ma/v1"),
    ],
)
def test_a_url_in_a_log_line_loses_its_userinfo_and_query(url: str, bare: str) -> None:
    assert bare_url(url) == bare


async def _probe(url: str) -> RedisFacts:
    client, _ = open_redis(url)
    try:
        return await probe_redis(client, url)
    finally:
        await client.aclose()


async def test_a_redis_that_does_not_persist_says_so(tmp_path: Path) -> None:
    with redis_server(tmp_path, appendonly="no", save="") as url:
        facts = await _probe(url)
    assert facts.reachable
    assert facts.config_refused is None
    [node] = facts.nodes
    assert (node.appendonly, node.save, node.policy) == ("no", "", "noeviction")
    assert facts.where == describe_redis(url)


@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-ttl"])
async def test_an_evicting_policy_and_snapshot_rules_are_read(tmp_path: Path, policy: str) -> None:
    with redis_server(tmp_path, appendonly="no", save="900 1 300 10", policy=policy) as url:
        [node] = (await _probe(url)).nodes
    assert node == RedisNode(name=node.name, appendonly="no", save="900 1 300 10", policy=policy)


async def test_an_append_only_redis_with_a_password(tmp_path: Path) -> None:
    with redis_server(tmp_path, appendonly="yes", password=SECRET) as url:
        facts = await _probe(url)
    [node] = facts.nodes
    assert node.appendonly == "yes"
    assert SECRET not in repr(facts)


@pytest.mark.parametrize("how", ["renamed", "acl"])
async def test_a_managed_redis_that_refuses_config_get(tmp_path: Path, how: str) -> None:
    with redis_server(tmp_path, config_refused=how) as url:
        facts = await _probe(url)
    assert facts.reachable
    assert facts.nodes == ()
    assert facts.config_refused is not None
    expected = "unknown command" if how == "renamed" else "NoPermissionError"
    assert expected in facts.config_refused


async def test_a_redis_that_does_not_answer() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # bound, released: nothing listens
    facts = await _probe(url)
    assert not facts.reachable
    assert facts.error == "ConnectionError"


async def test_the_stand_in_is_not_probed() -> None:
    client, _ = open_redis(None)
    facts = await probe_redis(client, None)
    assert (facts.stand_in, facts.nodes, facts.where) == (True, (), STAND_IN)


def test_the_database_revision_is_read(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/gateway.db"
    engine = open_database(url)
    try:
        assert probe_database(engine).revision is None  # never migrated
        upgrade(url)
        assert probe_database(engine).revision == head_revision()
    finally:
        engine.dispose()


def test_a_database_that_does_not_answer() -> None:
    engine = sa.create_engine(f"postgresql+psycopg://gateway:{SECRET}@127.0.0.1:{free_port()}/gw")
    try:
        facts = probe_database(engine)
    finally:
        engine.dispose()
    assert facts.error == "OperationalError"
    assert SECRET not in facts.where


async def test_probe_engines_opens_and_closes_its_own_connections(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/gateway.db"
    upgrade(url)
    with redis_server(tmp_path / "redis", appendonly="yes") as redis_url:
        redis, database = await probe_engines(redis_url, url)
        clients = _client_count(redis_url)
    assert database.revision == head_revision()
    assert [n.appendonly for n in redis.nodes] == ["yes"]
    assert clients == 1  # only the counting client: the probe's connection is closed


def _client_count(url: str) -> int:
    import redis as redis_sync

    client = redis_sync.Redis.from_url(url)
    try:
        return len(client.client_list())
    finally:
        client.close()
