"""A provider's opt-out refusal (Twilio 21610, a Telegram bot blocked) reaches the worker's
`on_opted_out` hook, which the gateway points at the alert preferences: no alert is tried
again. Other permanent errors do not mark anyone."""

from __future__ import annotations

from functools import partial

import anyio
import pytest
import sqlalchemy as sa

from gateway.outbox.model import OutChannel, SendError
from gateway.outbox.senders.twilio import classify
from gateway.state.alerts.preferences import SqlPreferences
from gateway.state.schema import alert_preference
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
    worker.sending.on_opted_out = hook  # one message's way: gateway.outbox.sending
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


async def test_the_gateway_hook_finds_the_phone_behind_a_chat_or_a_whatsapp_address(
    engine: sa.Engine,
) -> None:
    """The runtime's hook: a blocked Telegram bot opts out the phone that chat proved by
    sharing its contact; a WhatsApp address is its phone; a chat that never shared one marks
    no one."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from gateway.runtime import Runtime
    from gateway.state.telegram_links import TelegramLinks

    prefs = SqlPreferences(engine, key_secret=b"hook-test")
    links = TelegramLinks(engine, key_secret=b"hook-test")
    await links.link(4242, "+212600000033", datetime.now(UTC))
    runtime = SimpleNamespace(preferences=prefs, telegram_links=links)

    await Runtime._opted_out(runtime, OutChannel.TELEGRAM, "telegram:4242")  # type: ignore[arg-type]
    await Runtime._opted_out(runtime, OutChannel.TELEGRAM, "telegram:777")  # type: ignore[arg-type]
    await Runtime._opted_out(runtime, OutChannel.WHATSAPP, "whatsapp:+212600000044")  # type: ignore[arg-type]

    assert await prefs.is_opted_out("+212600000033")
    assert await prefs.is_opted_out("+212600000044")
    with engine.connect() as conn:  # the unknown chat left no row behind
        assert conn.scalar(sa.select(sa.func.count()).select_from(alert_preference)) == 2
