"""A WhatsApp guardian silent for more than 24 hours gets a template alert (issue #26, "Done
when"): the sandbox records an absence, the consumer queues the alert with its template, the
outbox's worker sends it through Meta's sender (a fake Graph API) as `type: template`, and the
message record names the template. A guardian who wrote within the window gets the text; one
who chose full detail gets the child's name as a parameter, the default says no name at all
(DOMAIN.md §6, `notify_detail=minimal`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest

from gateway.outbox.model import OutChannel
from gateway.outbox.senders.meta import MetaSender
from gateway.outbox.throttle import Pacer
from gateway.outbox.worker import OutboxWorker
from gateway.outbox.worker_config import WorkerConfig
from gateway.state.keys import Keys
from gateway.state.outbox.bucket import TokenBucket
from gateway.state.outbox.records import MessageRecords
from gateway.state.whatsapp import WhatsAppWindow
from tests.alerts.conftest import KHADIJA, World
from tests.alerts.test_consumer import drain
from tests.outbox.test_outbox_worker import until

pytestmark = pytest.mark.anyio


class Graph:
    """Meta's Graph API as the sender meets it: every request kept, each one accepted."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"messages": [{"id": f"wamid.{uuid.uuid4().hex}"}]})


@pytest.fixture
async def window(world: World) -> AsyncIterator[WhatsAppWindow]:
    keys = Keys(world.key)
    yield WhatsAppWindow(world.redis, keys)
    await world.redis.delete(keys.whatsapp_last_inbound(KHADIJA))


async def send_queued(world: World, window: WhatsAppWindow) -> tuple[Graph, list[dict[str, Any]]]:
    """Run a worker with Meta's sender until every queued message has a sent record."""
    graph = Graph()
    http = httpx.AsyncClient(transport=httpx.MockTransport(graph))
    sender = MetaSender(
        access_token="test-meta-token",
        phone_number_id="106540352242922",
        graph_url="http://graph.test/v21.0",
        http=http,
        window=window,
    )
    records = MessageRecords(world.engine, key_secret=world.key)
    channels = (OutChannel.WHATSAPP, OutChannel.SMS)
    pacers = {
        c: Pacer(TokenBucket(world.redis, world.outbox.keys.bucket(c.value), rate=1000, burst=99))
        for c in channels
    }
    worker = OutboxWorker(
        world.outbox,
        senders=dict.fromkeys(channels, sender),
        pacers=pacers,
        records=records,
        config=WorkerConfig(consumer="w-templates"),
    )

    async def done() -> bool:
        found = await records.for_address(KHADIJA)
        return bool(found) and all(r["status"] == "sent" for r in found)

    async with anyio.create_task_group() as tg:
        tg.start_soon(worker.run)
        await until(done)
        tg.cancel_scope.cancel()
    await http.aclose()
    return graph, await records.for_address(KHADIJA)


async def whatsapp_alert_for_khadija(world: World, *, detail: str | None = None) -> None:
    consumer = world.consumer()
    await drain(consumer)
    await world.preferences.set_channel(KHADIJA, "whatsapp")
    if detail is not None:
        await world.preferences.set_detail(KHADIJA, detail)
    _, kids = await world.children()
    await world.absence(kids[0], start="08:30")
    await drain(consumer)


async def test_a_whatsapp_guardian_silent_for_more_than_a_day_gets_a_template_alert(
    world: World, window: WhatsAppWindow
) -> None:
    await window.touch(KHADIJA, datetime.now(UTC) - timedelta(hours=25))
    await whatsapp_alert_for_khadija(world)
    graph, records = await send_queued(world, window)
    to_khadija = [b for b in graph.bodies if b["to"] == KHADIJA.removeprefix("+")]
    assert len(to_khadija) == 1
    sent = to_khadija[0]
    assert sent["type"] == "template"
    lang = sent["template"]["language"]["code"]
    assert sent["template"] == {"name": "massar_absence", "language": {"code": lang}}
    assert "text" not in sent  # minimal: no name, no day, no hours leave for Meta
    whatsapp = [r for r in records if r["channel"] == "whatsapp"]
    assert [r["template"] for r in whatsapp] == [f"massar_absence.{lang}"]


async def test_a_guardian_who_wrote_within_the_window_gets_the_text(
    world: World, window: WhatsAppWindow
) -> None:
    await window.touch(KHADIJA, datetime.now(UTC) - timedelta(hours=3))
    await whatsapp_alert_for_khadija(world)
    graph, records = await send_queued(world, window)
    sent = next(b for b in graph.bodies if b["to"] == KHADIJA.removeprefix("+"))
    assert sent["type"] == "text"
    assert "08:30" in sent["text"]["body"]
    assert [r["template"] for r in records if r["channel"] == "whatsapp"] == [None]


async def test_full_detail_names_the_child_and_the_hours(
    world: World, window: WhatsAppWindow
) -> None:
    await whatsapp_alert_for_khadija(world, detail="full")  # never wrote: no window
    graph, _records = await send_queued(world, window)
    sent = next(b for b in graph.bodies if b["to"] == KHADIJA.removeprefix("+"))
    assert sent["template"]["name"] == "massar_absence_full"
    params = [p["text"] for p in sent["template"]["components"][0]["parameters"]]
    assert len(params) == 2
    assert params[1] == "20/05 08:30-10:30"
    assert params[0]
    assert params[0] != "-"
