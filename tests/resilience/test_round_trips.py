"""What a turn costs Redis, counted by a Redis server of the test's own (nobody else talks to
it): the requests it read from its clients (`INFO stats total_reads_processed`), one per
command sent, scripts included as one. A counted figure, not a timed one."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import redis as redis_sync
from fastapi.testclient import TestClient

from tests.gateway.conftest import SmsPhone, UssdPhone
from tests.resilience.conftest import FaultyTransport
from tests.resilience.test_faults import RedisServer, own_redis  # noqa: F401 (fixture)

pytestmark = [pytest.mark.redis, pytest.mark.slow]

GUARDIAN = "+212600000001"
Make = Callable[..., tuple[TestClient, FaultyTransport]]


class Counter:
    """Reads the server's count on one connection of its own, opened before the counting:
    a new connection's handshake would be counted too."""

    def __init__(self, server: RedisServer) -> None:
        self.client = redis_sync.Redis(port=server.port)
        self.client.ping()

    def reads(self) -> int:
        return int(self.client.info("stats")["total_reads_processed"])

    def sent_during(self, action: Callable[[], object]) -> int:
        before = self.reads()
        action()
        return self.reads() - before - 1  # the INFO that read `after` was read itself


@pytest.fixture
def counter(own_redis: RedisServer) -> Iterator[Counter]:  # noqa: F811
    counting = Counter(own_redis)
    yield counting
    counting.client.close()


def test_a_warm_ussd_dial_sends_two_commands_to_redis(
    faulty_gateway: Make,
    own_redis: RedisServer,  # noqa: F811
    counter: Counter,
) -> None:
    client, transport = faulty_gateway(redis_url=f"redis://127.0.0.1:{own_redis.port}/0")
    UssdPhone(client, GUARDIAN).dial()  # caches the guardian lookup
    lookups = transport.called("/guardians/lookup")
    phone = UssdPhone(client, GUARDIAN)
    assert counter.sent_during(phone.dial) == 2
    assert transport.called("/guardians/lookup") == lookups  # served by the first command
    # The aggregator repeats the request: its answer is replayed, one command.
    assert counter.sent_during(lambda: phone.post("")) == 1


def test_a_warm_sms_turn_sends_two_commands_to_redis(
    faulty_gateway: Make,
    own_redis: RedisServer,  # noqa: F811
    counter: Counter,
) -> None:
    client, _ = faulty_gateway(redis_url=f"redis://127.0.0.1:{own_redis.port}/0")
    phone = SmsPhone(client, GUARDIAN)
    phone.send("MENU")
    sid = f"SM{uuid.uuid4().hex}"
    assert counter.sent_during(lambda: phone.send("AIDE", sid=sid)) == 2
    assert counter.sent_during(lambda: phone.send("AIDE", sid=sid)) == 1  # a retry
