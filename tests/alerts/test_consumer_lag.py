"""The alerts consumer's lag (deploy/prometheus/rules.yml): while pages remain, how old the
newest change it read is; 0 once it reads the feed to its head; and when it last read."""

from __future__ import annotations

import pytest

from gateway.resilience.metrics import Metrics
from gateway.state.alerts.store import AlertStore
from tests.alerts.conftest import World

pytestmark = pytest.mark.anyio


async def test_the_lag_is_the_age_of_the_last_change_read_until_the_head(world: World) -> None:
    metrics = Metrics()
    consumer = world.consumer(batch=1, metrics=metrics)
    while await consumer.step():  # to the head
        pass
    _, kids = await world.children()
    for start in ("08:30", "10:30"):
        await world.absence(kids[0], start=start)
    cursor = await AlertStore(world.engine, key_secret=world.key).cursor()
    page = await world.backend().changes(cursor=cursor, limit=1)  # what the consumer will read
    assert page.has_more
    assert await consumer.step()  # one event read, more wait
    value = metrics.registry.get_sample_value
    expected = max(0.0, (world.clock[0] - page.items[-1].occurred_at).total_seconds())
    assert expected > 0  # the sandbox's clock: an hour behind the test's
    assert value("massar_alerts_lag_seconds") == pytest.approx(expected)
    assert value("massar_alerts_last_read_timestamp_seconds") == world.clock[0].timestamp()
    while await consumer.step():
        pass
    assert value("massar_alerts_lag_seconds") == 0
