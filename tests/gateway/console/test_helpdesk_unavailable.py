"""The helpdesk page when its Redis does not answer: the queue's store raises `StoreUnavailable`
and the page says the queue cannot be read now (a 200 with the message, no traceback)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from redis.asyncio import Redis

from gateway.deps import runtime_of
from tests.gateway.console.conftest import said


def test_the_queue_page_says_the_queue_cannot_be_read_when_redis_is_down(
    agent: TestClient,
) -> None:
    queue = runtime_of(agent.app).helpdesk
    working = queue.redis
    queue.redis = Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)  # nothing listens
    try:
        page = agent.get("/console/helpdesk")
    finally:
        queue.redis = working
    assert page.status_code == 200
    assert said("The queue cannot be read now: try again in a moment.") in page.text
