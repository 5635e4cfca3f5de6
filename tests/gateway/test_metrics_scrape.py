"""What a scrape of /metrics reads from the engines (deploy/prometheus/rules.yml alerts on
it): Redis and the database up, Redis' memory against its limit, the outbox's backlog per
priority. Redis down is a 0, within the scrape's budget, never a failed scrape."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from gateway.deps import runtime_of
from gateway.outbox.model import Priority
from tests.databases import migrated
from tests.gateway.conftest import PUBLIC_URL, gateway_settings

pytestmark = pytest.mark.redis


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def test_a_scrape_reads_the_engines_and_the_backlog(
    make_gateway: Callable[..., TestClient],
) -> None:
    gateway = make_gateway()
    outbox = runtime_of(gateway.app).outbox
    stream = outbox.keys.stream(Priority.BULK)
    gateway.portal.call(outbox.redis.xadd, stream, {"m": "{}"})  # type: ignore[union-attr]
    found = samples(gateway)
    assert found[("massar_store_up", (("part", "redis"),))] == 1
    assert found[("massar_store_up", (("part", "database"),))] == 1
    if runtime_of(gateway.app).redis_kind == "redis":
        assert found[("massar_redis_memory_used_bytes", ())] > 0  # the stand-in has no INFO
        assert ("massar_redis_memory_max_bytes", ()) in found
    for priority in ("interactive", "followup", "bulk", "delayed"):
        assert ("massar_outbox_backlog", (("priority", priority),)) in found
    assert found[("massar_outbox_backlog", (("priority", "bulk"),))] == 1
    assert ("massar_breaker_state", ()) in found


def test_redis_down_reads_as_zero_and_the_scrape_still_answers(
    tmp_path: Path, sandbox_app: object
) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = gateway_settings(tmp_path, f"redis://127.0.0.1:{port}/0")
    app = create_app(
        migrated(settings),
        backend_transport=httpx.ASGITransport(app=sandbox_app),  # type: ignore[arg-type]
    )
    with TestClient(app, base_url=PUBLIC_URL) as gateway:
        found = samples(gateway)
    assert found[("massar_store_up", (("part", "redis"),))] == 0
    assert found[("massar_store_up", (("part", "database"),))] == 1
