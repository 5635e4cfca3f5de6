"""What one USSD turn costs in Redis round trips, counted on the gateway's own Redis client
(issue #23): a Kannel USSD turn, which also reads, forgets or keeps its provider session's end
(`gateway.state.ends`), costs what an Africa's Talking turn or an SMS turn costs: the turn
runner's two scripts, nothing more.

Every command, script call and pipeline the client sends is one round trip; the count runs
while one request is answered and nothing else in the app talks to Redis (no embedded worker
with a real Redis: `make_kannel` turns the sender off).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from redis.asyncio import Redis

from gateway.deps import runtime_of
from gateway.dialogs import texts
from tests.gateway.channels import test_kannel_sms
from tests.gateway.channels.test_at_ussd import main_menu, say
from tests.gateway.channels.test_kannel_sms import KannelGateway
from tests.gateway.channels.test_kannel_ussd import FR_GUARDIAN, ROOMY, OperatorPhone
from tests.gateway.conftest import SmsPhone, UssdPhone

pytestmark = pytest.mark.redis

make_kannel = test_kannel_sms.make_kannel  # the fixture: a gateway with the Kannel routes on
TURN = 2  # open_turn and close_turn (gateway.turns.turn)


class RoundTrips:
    """Counts what `redis` sends and waits for an answer to."""

    def __init__(self, redis: Redis) -> None:
        self.count = 0
        send = redis.execute_command  # every command and script call (EVALSHA) goes here
        make_pipeline = redis.pipeline

        async def counted(*args: Any, **options: Any) -> Any:
            self.count += 1
            return await send(*args, **options)

        def pipeline(*args: Any, **kwargs: Any) -> Any:
            pipe = make_pipeline(*args, **kwargs)
            execute = pipe.execute

            async def counted_execute(*a: Any, **k: Any) -> Any:
                self.count += 1  # a pipeline's commands leave together: one round trip
                return await execute(*a, **k)

            pipe.execute = counted_execute  # type: ignore[method-assign]
            return pipe

        redis.execute_command = counted  # type: ignore[method-assign]
        redis.pipeline = pipeline  # type: ignore[method-assign]

    @contextmanager
    def of(self) -> Iterator[list[int]]:
        """The round trips of the block, in the list it yields once the block is over."""
        counted: list[int] = []
        before = self.count
        yield counted
        counted.append(self.count - before)


@pytest.fixture
def gateway(make_kannel: Callable[..., KannelGateway]) -> TestClient:
    return make_kannel(ussd_budget_s=ROOMY, sms_budget_s=ROOMY).client


@pytest.fixture
def trips(gateway: TestClient) -> RoundTrips:
    return RoundTrips(runtime_of(gateway.app).redis)


def warm(gateway: TestClient, phone: str) -> None:
    """A first dial: the guardian lookup is cached and the language remembered after it."""
    assert UssdPhone(gateway, phone).dial().startswith("CON ")


def test_a_kannel_ussd_turn_costs_the_round_trips_of_an_africas_talking_turn(
    gateway: TestClient, trips: RoundTrips
) -> None:
    warm(gateway, FR_GUARDIAN)
    at = UssdPhone(gateway, FR_GUARDIAN)
    with trips.of() as at_dial:
        assert at.dial() == "CON " + main_menu("fr")
    with trips.of() as at_answer:
        assert at.press("7").startswith("CON ")  # no such option: the menu again
    kannel = OperatorPhone(gateway, FR_GUARDIAN)
    with trips.of() as kannel_dial:  # forgets an earlier end of this session number
        assert kannel.dial().text == main_menu("fr")
    with trips.of() as kannel_answer:  # checks the end before anything else
        menu_again = kannel.press("7")
    assert (menu_again.status, menu_again.end) == (200, False)
    assert at_dial == at_answer == [TURN]
    assert kannel_dial == kannel_answer == at_answer


def test_the_kannel_turn_that_ends_the_session_keeps_its_end_in_the_same_two(
    gateway: TestClient, trips: RoundTrips
) -> None:
    warm(gateway, FR_GUARDIAN)
    kannel = OperatorPhone(gateway, FR_GUARDIAN)
    kannel.dial()
    with trips.of() as ending:
        help_screen = kannel.press("4")  # help: a result, and the operator wants it closed
    assert help_screen.end
    with trips.of() as after_end:
        late = kannel.press("1")
    assert (late.text, late.end) == (say("fr", texts.SESSION_ENDED), True)
    assert ending == [TURN]
    assert after_end == [1]  # refused in the first script: no lock, no session, no save


def test_an_sms_turn_costs_the_same(gateway: TestClient, trips: RoundTrips) -> None:
    warm(gateway, FR_GUARDIAN)
    sms = SmsPhone(gateway, FR_GUARDIAN)
    sms.send("MENU")
    with trips.of() as menu:
        sms.send("MENU")
    assert menu == [TURN]
