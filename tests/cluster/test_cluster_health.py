"""The start-up probe reads every node of a real Redis Cluster (tests/cluster/conftest.py
starts three masters with `appendonly no` and `save ""`), and the start checks judge each by
name: production refuses the cluster, naming a node."""

from __future__ import annotations

import pytest

from gateway.checks import judge_engines
from gateway.migrate import head_revision
from gateway.settings import Settings
from gateway.state.connections import open_redis, warm_up
from gateway.state.health import DatabaseFacts, probe_redis
from tests.gateway.test_settings import STRONG

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_every_node_of_a_cluster_is_probed_and_judged(cluster_ports: list[int]) -> None:
    url = f"redis+cluster://127.0.0.1:{cluster_ports[0]}"
    client, _ = open_redis(url)
    try:
        await warm_up(client)
        facts = await probe_redis(client, url)
    finally:
        await client.aclose()
    assert facts.where == f"cluster 127.0.0.1:{cluster_ports[0]}"
    assert sorted(node.name for node in facts.nodes) == sorted(
        f"127.0.0.1:{port}" for port in cluster_ports
    )
    assert {(n.appendonly, n.save, n.policy) for n in facts.nodes} == {("no", "", "noeviction")}
    settings = Settings(**{**STRONG, "redis_url": url})  # type: ignore[arg-type]
    database = DatabaseFacts(where="sqlite:///gateway.db", revision=head_revision())
    verdict = judge_engines(settings, facts, database, head_revision())
    assert [f.check for f in verdict.refusals] == ["redis_persistence"] * len(cluster_ports)
    assert all("(node 127.0.0.1:" in f.text for f in verdict.refusals)
