"""A provider's opt-out refusal (Twilio 21610, a Telegram bot blocked) reaches the worker's
`on_opted_out` hook, which the gateway points at the alert preferences: no alert is tried
again. Other permanent errors do not mark anyone."""

from __future__ import annotations

from functools import partial

import anyio
import pytest
import sqlalchemy as sa

from gateway.alerts.preferences import SqlPreferences
from gateway.outbox.model import OutChannel, SendError
from gateway.outbox.senders.twilio import classify
from tests.outbox.conftest import Rig, message
from tests.outbox.test_outbox_worker import running, settled, until

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


def test_twilio_21610_is_an_opt_out_and_21211_is_not() -> None:
    assert classify(400, 21610, {}).opted_out
    assert not classify(400, 21211, {}).opted_out
    assert not classify(503, 21610, {}).opted_out  # retryable, whatever the body says


async def test_an_opted_out_refusal_marks_the_address_in_the_preferences(
    rig: Rig, engine: sa.Engine
) -> None:
    prefs = SqlPreferences(engine, key_secret=b"hook-test")
    refused, invalid = message(1, to="+212600000011"), message(2, to="+212600000022")
    rig.failing.plan[refused.id] = [SendError("twilio:21610", retryable=False, opted_out=True)]
    rig.failing.plan[invalid.id] = [SendError("twilio:21211", retryable=False)]
    marked: list[tuple[OutChannel, str]] = []

    async def hook(channel: OutChannel, address: str) -> None:
        marked.append((channel, address))
        await prefs.opt_out(address)

    worker = rig.worker()
    worker.on_opted_out = hook
    for msg in (refused, invalid):
        await rig.outbox.enqueue(msg)
    async with running(worker):
        await until(partial(settled, rig))
        with anyio.fail_after(10):
            while not marked:  # noqa: ASYNC110 - the worker's outcome
                await anyio.sleep(0.02)
    assert marked == [(OutChannel.SMS, "+212600000011")]
    assert await prefs.is_opted_out("+212600000011")
    assert not await prefs.is_opted_out("+212600000022")
    assert await rig.sent() == []  # neither went out, neither is retried
