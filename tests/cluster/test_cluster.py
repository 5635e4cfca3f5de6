"""The key layout works on a real Redis Cluster: no CROSSSLOT, every multi-key op on one slot.

Each piece of shared state runs against three masters through the cluster client the gateway
opens for a cluster URL (`redis+cluster://…`): sessions, locks and dedupe, a turn's two
scripts (both channels' keys, the rate limit and the guardian entry on one slot), lockout counters,
delivery records, the backend cache with its single-flight lease, the breaker, the per-phone
rate limit, and a whole USSD session through `create_app`. A multi-key script whose keys
were on different slots would fail with CROSSSLOT; every key written must carry a hash tag.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import httpx
import pydantic
import pytest
import redis
from fastapi.testclient import TestClient

from backend_client import Deadline
from backend_client.models import Meta
from gateway.app import create_app
from gateway.dialogs import texts
from gateway.dialogs.model import ChannelKind, Session
from gateway.i18n import LANGS, translator
from gateway.resilience import (
    Breaker,
    BreakerConfig,
    BreakerOpen,
    BreakerState,
    Cache,
    SingleFlight,
)
from gateway.settings import Settings
from gateway.state.connections import open_redis, warm_up
from gateway.state.lockout import RedisLockout
from gateway.state.resilience.limits import RateLimiter
from gateway.state.store import Outcome, SessionStore
from tests.databases import migrated

PHONE = "+212600000001"  # a demo guardian with two children (Arabic)
TAG = re.compile(r"\{[^{}]+\}")
AT_TOKEN = "cluster-test-at-token"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def cluster_url(cluster_ports: list[int]) -> str:
    return f"redis+cluster://127.0.0.1:{cluster_ports[0]}"


@pytest.fixture
async def cluster(cluster_url: str) -> AsyncIterator[redis.asyncio.RedisCluster]:
    client, kind = open_redis(cluster_url)
    assert kind == "redis cluster"
    try:
        yield client  # type: ignore[misc]
    finally:
        await client.aclose()


@pytest.fixture
def secret() -> bytes:
    return f"cluster-test-{uuid.uuid4().hex}".encode()


def keys_by_node(ports: list[int]) -> dict[str, int]:
    """Every key in the cluster and the port of the master holding it."""
    found: dict[str, int] = {}
    for port in ports:
        node = redis.Redis(host="127.0.0.1", port=port)
        try:
            found.update({key.decode(): port for key in node.keys("*")})
        finally:
            node.close()
    return found


def assert_cluster_ready(keys: list[str]) -> None:
    """Every key carries a non-empty hash tag, so all of one owner's keys share a slot."""
    assert keys, "nothing was written"
    untagged = [key for key in keys if not TAG.search(key)]
    assert not untagged, f"keys without a hash tag: {untagged}"


pytestmark = [pytest.mark.slow, pytest.mark.anyio]


async def test_sessions_locks_and_dedupe_work_on_a_cluster(
    cluster: redis.asyncio.RedisCluster, cluster_ports: list[int], secret: bytes
) -> None:
    store = SessionStore(cluster, key_secret=secret)  # type: ignore[arg-type]
    async with store.lock(ChannelKind.USSD, PHONE):
        assert await store.load(ChannelKind.USSD, PHONE) is None
        saved = await store.save(ChannelKind.USSD, PHONE, Session())
        assert saved.rev == 1
        again = await store.save(ChannelKind.USSD, PHONE, saved)  # Lua CAS on one key
        assert again.rev == 2
        assert await store.remember(ChannelKind.USSD, PHONE, "m1", b"CON hi", ttl_s=60)
    assert await store.remembered(ChannelKind.USSD, PHONE, "m1") == b"CON hi"
    loaded = await store.load(ChannelKind.USSD, PHONE)
    assert loaded is not None
    assert loaded.rev == 2
    tag = store.keys.user_tag(PHONE)
    written = [key for key in keys_by_node(cluster_ports) if tag in key]
    assert len(written) == 2  # the session and the remembered answer; the lock is gone
    assert_cluster_ready(written)


async def test_a_turns_two_scripts_run_on_one_slot_of_a_cluster(
    cluster: redis.asyncio.RedisCluster, cluster_ports: list[int], secret: bytes
) -> None:
    """Both channels' keys, the rate limit and the guardian entry in one script: no CROSSSLOT."""
    store = SessionStore(cluster, key_secret=secret)  # type: ignore[arg-type]
    cache = Cache(cluster, key_secret=secret)  # type: ignore[arg-type]
    limiter = RateLimiter(cluster, key_secret=secret, limit=3)  # type: ignore[arg-type]
    entry = cache.key("guardian", [PHONE])
    await cluster.set(entry, b'{"at":1,"v":{}}', ex=60)
    limits = {"rate_key": limiter.key(PHONE), "rate_limit": 3, "entry_key": entry}
    opened = await store.open_turn(ChannelKind.USSD, PHONE, "m1", **limits)  # type: ignore[arg-type]
    assert opened.outcome is Outcome.RUN
    assert opened.entry == b'{"at":1,"v":{}}'
    saved = await store.close_turn(
        ChannelKind.USSD, PHONE, "m1", opened, Session(state="main"), b"CON hi", remember_s=60
    )
    assert saved.rev == 1
    replay = await store.open_turn(ChannelKind.USSD, PHONE, "m1", **limits)  # type: ignore[arg-type]
    assert replay.answer == b"CON hi"
    sms = await store.open_turn(ChannelKind.SMS, PHONE, "SM1", **limits)  # type: ignore[arg-type]
    assert sms.outcome is Outcome.RUN
    await store.release_turn(ChannelKind.SMS, PHONE, sms)
    tag = store.keys.user_tag(PHONE)
    nodes = {port for key, port in keys_by_node(cluster_ports).items() if tag in key}
    assert len(nodes) == 1  # the session, the answer, the turns and the entry: one master


async def test_lockout_works_on_a_cluster(
    cluster: redis.asyncio.RedisCluster, secret: bytes
) -> None:
    lockout = RedisLockout(cluster, key_secret=secret)  # type: ignore[arg-type]
    code = "Z990000001"
    locked = [await lockout.record_failure(PHONE, code) for _ in range(3)]
    assert locked == [False, False, True]  # the third failure cools the phone off
    assert await lockout.is_locked(PHONE, code)


async def test_single_flight_shares_one_fetch_among_concurrent_readers_on_a_cluster(
    cluster: redis.asyncio.RedisCluster, secret: bytes
) -> None:
    cache = Cache(cluster, key_secret=secret)  # type: ignore[arg-type]
    flight = SingleFlight(cluster)  # type: ignore[arg-type]
    key = cache.key("meta", [])
    meta = Meta(school_year="2025-2026", semester=2)
    adapter = pydantic.TypeAdapter(Meta)
    fetches = 0

    async def fetch() -> Meta:
        nonlocal fetches
        fetches += 1
        await anyio.sleep(0.2)
        await cache.put("meta", [], adapter, meta)
        return meta

    async def read() -> Meta | None:
        found = await cache.get("meta", [], adapter)
        return found.value if found is not None and found.fresh else None

    results: list[Meta] = []
    await _open_connections(cluster)

    async def reader() -> None:
        results.append(await flight.run(key, fetch, read, Deadline.after(5.0)))

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(reader)
    assert fetches == 1
    assert results == [meta] * 50
    assert TAG.search(key)  # the lease (key + ":sf") shares the entry's tag


async def _open_connections(cluster: redis.asyncio.RedisCluster, n: int = 60) -> None:
    """Open the client's connections with a burst of PINGs to every node (see the xfail below)."""
    for _ in range(3):
        await _burst(cluster, n)


async def _burst(cluster: redis.asyncio.RedisCluster, n: int) -> int:
    """`n` concurrent GET loops on one slot; how many failed."""
    failures = 0

    async def one() -> None:
        nonlocal failures
        try:
            for _ in range(3):
                await cluster.get("mg:bench:{burst}")
                await anyio.sleep(0.005)
        except AttributeError:
            failures += 1

    async with anyio.create_task_group() as tg:
        for _ in range(n):
            tg.start_soon(one)
    return failures


async def test_a_warmed_cluster_client_survives_a_concurrent_first_burst(cluster_url: str) -> None:
    """The gateway warms its cluster client at start-up (`gateway.state.store.warm_up`): without
    it, redis-py 8.1 fails commands that race a node's first connections (AttributeError
    'NoneType' object has no attribute 'writelines'), so a new worker's first burst of turns
    would answer "busy"."""
    client, _ = open_redis(cluster_url)
    try:
        await warm_up(client)
        assert await _burst(client, 50) == 0  # type: ignore[arg-type]
    finally:
        await client.aclose()


async def test_breaker_opens_for_every_worker_on_a_cluster(
    cluster: redis.asyncio.RedisCluster,
) -> None:
    config = BreakerConfig(failures=3, window_s=30.0, cooldown_s=30.0, probes=1)
    name = f"test-{uuid.uuid4().hex[:8]}"
    one = Breaker(cluster, name=name, config=config)  # type: ignore[arg-type]
    other = Breaker(cluster, name=name, config=config)  # type: ignore[arg-type]
    await one.allow()
    for _ in range(3):
        await one.record(False)
    assert await other.state() is BreakerState.OPEN
    with pytest.raises(BreakerOpen):
        await other.allow()
    await other.reset()
    await one.allow()


async def test_rate_limit_counts_per_phone_on_a_cluster(
    cluster: redis.asyncio.RedisCluster, secret: bytes
) -> None:
    limiter = RateLimiter(cluster, key_secret=secret, limit=3, window_s=60.0)  # type: ignore[arg-type]
    assert [await limiter.hit(PHONE) for _ in range(4)] == [True, True, True, False]
    assert await limiter.hit("+212600000002")
    assert TAG.search(limiter.key(PHONE))


# ---- a whole USSD session through the app, on the cluster URL ---------------------------------


@pytest.fixture(scope="module")
def sandbox_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from sandbox import db
    from sandbox.app import create_app as create_sandbox
    from sandbox.seed import seed_database
    from sandbox.settings import SandboxSettings

    path = tmp_path_factory.mktemp("cluster-sandbox") / "sandbox.db"
    settings = SandboxSettings(database_url=f"sqlite:///{path}", env="test")
    engine = db.make_engine(settings.database_url)
    seed_database(engine, students=60, seed=settings.seed, now=settings.now)
    engine.dispose()
    app = create_sandbox(settings)
    with TestClient(app):
        yield app


def _busy_texts() -> list[str]:
    return [
        translator(lang).gettext(message)
        for lang in LANGS
        for message in (texts.BUSY, texts.ANSWER_BY_SMS, texts.TOO_MANY)
    ]


def test_a_ussd_session_runs_through_the_app_on_a_cluster_url(
    cluster_url: str, cluster_ports: list[int], sandbox_app: object, tmp_path: Path
) -> None:
    settings = Settings(
        env="test",  # type: ignore[arg-type]
        redis_url=cluster_url,
        database_url=f"sqlite:///{tmp_path}/gateway.db",
        at_ussd_token=AT_TOKEN,  # type: ignore[arg-type]
        identity_key=f"cluster-{uuid.uuid4().hex}",  # type: ignore[arg-type]
        log_level="WARNING",
    )
    before = set(keys_by_node(cluster_ports))
    transport = httpx.ASGITransport(app=sandbox_app)  # type: ignore[arg-type]
    app = create_app(migrated(settings), backend_transport=transport)
    session_id = f"ATUid_{uuid.uuid4().hex[:10]}"
    screens = []
    with TestClient(app) as client:
        ready = client.get("/readyz").json()
        assert ready["checks"]["redis"]["ok"], ready
        assert ready["checks"]["redis"]["kind"] == "redis cluster"
        # Dial, Absences, the child's Massar code, its birth date (binds it), then More.
        for text in ("", "1", "1*Z990000001", "1*Z990000001*14092018"):
            response = client.post(
                "/channels/ussd/africastalking",
                params={"token": AT_TOKEN},
                data={
                    "sessionId": session_id,
                    "serviceCode": "*2020#",
                    "phoneNumber": PHONE,
                    "networkCode": "60400",
                    "text": text,
                },
            )
            assert response.status_code == 200, response.text
            screens.append(response.text)
        scrape = client.get("/metrics")
        assert scrape.status_code == 200
        # The scrape's reads work on a cluster too (deploy/prometheus/rules.yml): Redis up,
        # the node nearest its memory limit, the outbox's backlog on its one slot.
        assert 'massar_store_up{part="redis"} 1.0' in scrape.text
        assert "massar_redis_memory_used_bytes 0.0" not in scrape.text
        assert 'massar_outbox_backlog{priority="interactive"}' in scrape.text
    assert all(screen.startswith("CON ") for screen in screens), screens
    # A Redis error (CROSSSLOT among them) would have been answered with "busy".
    assert not any(busy in screen for screen in screens for busy in _busy_texts()), screens
    assert len(set(screens)) == len(screens)  # every step moved the dialog on
    written = sorted(set(keys_by_node(cluster_ports)) - before)
    assert_cluster_ready(written)
    # Sessions, dedupe, rate limit, cache entries and the breaker all landed somewhere.
    assert any(key.endswith(":session") for key in written), written
    assert any(":c:" in key for key in written), written
