"""WhatsApp's 24-hour window (issue #26 item 5): the last inbound time per user in Redis, and
the WhatsApp senders sending an alert as a session message inside the window and as its
approved template outside it (Meta `type: template`, Twilio `ContentSid` +
`ContentVariables`), the message record naming the template. The window is set by writing
the last-inbound key with a past time; no test waits for a clock."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import anyio
import httpx
import pytest
import structlog
from redis.asyncio import Redis

from gateway.outbox.entries import decode, encode
from gateway.outbox.model import MessageKind, OutChannel, OutMessage, SendError, TemplateCall
from gateway.outbox.senders import build_senders
from gateway.outbox.senders.sink import SinkSender
from gateway.outbox.senders.twilio_whatsapp import TwilioWhatsAppSender
from gateway.outbox.senders.window import template_of
from gateway.outbox.throttle import Pacer
from gateway.outbox.worker import OutboxWorker
from gateway.outbox.worker_config import WorkerConfig
from gateway.settings import Settings
from gateway.state.errors import StoreUnavailable
from gateway.state.keys import Keys
from gateway.state.outbox.bucket import TokenBucket
from gateway.state.outbox.sink import SinkStream
from gateway.state.whatsapp import MARGIN, TTL_S, WINDOW, WhatsAppWindow
from tests.outbox.chat_fakes import (
    WAMID,
    Recorder,
    chat_message,
    meta_sender,
    sent_form,
    twilio_created,
    twilio_sender,
)
from tests.outbox.conftest import Rig
from tests.outbox.test_outbox_worker import until

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

PHONE = "+212600000001"
FULL = TemplateCall(name="massar_absence_full", lang="fr", params=("Youssef", "07/12 08:30-10:30"))
MINIMAL = TemplateCall(name="massar_absence", lang="ar")
SIDS = {"absence_full.fr": "HX" + "b" * 32, "absence.ar": "HX" + "c" * 32}


@pytest.fixture
async def window(redis: Redis) -> AsyncIterator[WhatsAppWindow]:
    keys = Keys(f"window-test-{uuid.uuid4().hex}".encode())
    yield WhatsAppWindow(redis, keys)
    await redis.delete(keys.whatsapp_last_inbound(PHONE))


def alert(
    template: TemplateCall | None = FULL, kind: MessageKind = MessageKind.ALERT
) -> OutMessage:
    return chat_message(to=PHONE, text="Massar: Youssef absent", kind=kind, template=template)


def meta_ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"messages": [{"id": WAMID}]})


# --- the store ---------------------------------------------------------------------------------


async def test_the_last_inbound_time_is_kept_under_the_phones_hash_only(
    redis: Redis, window: WhatsAppWindow
) -> None:
    now = datetime.now(UTC)
    assert await window.last_inbound(PHONE) is None
    await window.touch(PHONE, now)
    key = window.keys.whatsapp_last_inbound(PHONE)
    assert "600000001" not in key
    assert PHONE not in key
    assert abs((await window.last_inbound(PHONE) or now) - now) < timedelta(milliseconds=2)
    ttl = await redis.ttl(key)
    assert WINDOW.total_seconds() < ttl <= TTL_S  # a little over the window, never forever


async def test_the_time_only_moves_forward(window: WhatsAppWindow) -> None:
    now = datetime.now(UTC)
    await window.touch(PHONE, now)
    await window.touch(PHONE, now - timedelta(hours=30))  # Meta redelivering an old message
    last = await window.last_inbound(PHONE)
    assert last is not None
    assert abs(last - now) < timedelta(milliseconds=2)


@pytest.mark.parametrize(
    ("silent", "inside"),
    [
        (timedelta(0), True),
        (timedelta(hours=23), True),
        (WINDOW - MARGIN + timedelta(seconds=1), False),  # the last quarter hour: a template
        (timedelta(hours=30), False),
    ],
    ids=["just-wrote", "23h", "window-margin", "30h"],
)
async def test_the_window_is_open_for_24_hours_less_a_margin(
    window: WhatsAppWindow, silent: timedelta, inside: bool
) -> None:
    now = datetime.now(UTC)
    await window.touch(PHONE, now - silent)
    assert await window.is_open(PHONE, now) is inside


async def test_a_phone_that_never_wrote_has_no_window(window: WhatsAppWindow) -> None:
    assert not await window.is_open(PHONE, datetime.now(UTC))


# --- the choice ----------------------------------------------------------------------------------


class BrokenWindow:
    async def is_open(self, phone: str, now: datetime) -> bool:
        raise StoreUnavailable("redis down")


async def test_only_alerts_with_a_template_outside_the_window_become_templates(
    window: WhatsAppWindow,
) -> None:
    assert await template_of(alert(), window) == FULL
    assert await template_of(alert(template=None), window) is None
    reply = alert(kind=MessageKind.REPLY)  # a reply answers a message: always in session
    assert await template_of(reply, window) is None
    await window.touch(PHONE, datetime.now(UTC) - timedelta(hours=2))
    assert await template_of(alert(), window) is None
    # The store down: the template, which arrives in or out of the window.
    assert await template_of(alert(), BrokenWindow()) == FULL
    assert await template_of(alert(), None) is None


def test_a_queued_alert_keeps_its_template() -> None:
    msg = alert()
    entry = decode("s", "1-0", {"m": encode(msg)})
    assert entry.message == msg
    assert entry.message.template == FULL


# --- Meta --------------------------------------------------------------------------------------


async def test_meta_sends_the_template_outside_the_window(window: WhatsAppWindow) -> None:
    recorder = Recorder(meta_ok)
    sender, http = meta_sender(recorder, window)
    receipt = await sender.send(alert())
    await http.aclose()
    assert json.loads(recorder.requests[0].content) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "212600000001",
        "type": "template",
        "template": {
            "name": "massar_absence_full",
            "language": {"code": "fr"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Youssef"},
                        {"type": "text", "text": "07/12 08:30-10:30"},
                    ],
                }
            ],
        },
    }
    assert receipt.template == "massar_absence_full.fr"


async def test_meta_sends_a_minimal_template_without_parameters(window: WhatsAppWindow) -> None:
    recorder = Recorder(meta_ok)
    sender, http = meta_sender(recorder, window)
    await sender.send(alert(template=MINIMAL))
    await http.aclose()
    sent = json.loads(recorder.requests[0].content)
    assert sent["template"] == {"name": "massar_absence", "language": {"code": "ar"}}


async def test_meta_sends_the_text_inside_the_window(window: WhatsAppWindow) -> None:
    await window.touch(PHONE, datetime.now(UTC) - timedelta(hours=1))
    recorder = Recorder(meta_ok)
    sender, http = meta_sender(recorder, window)
    receipt = await sender.send(alert())
    await http.aclose()
    sent = json.loads(recorder.requests[0].content)
    assert sent["type"] == "text"
    assert sent["text"]["body"] == "Massar: Youssef absent"
    assert receipt.template is None


async def test_a_refused_meta_template_names_it_in_the_error(window: WhatsAppWindow) -> None:
    refused = {"error": {"code": 132001, "message": "Template name does not exist"}}
    sender, http = meta_sender(lambda request: httpx.Response(400, json=refused), window)
    with pytest.raises(SendError) as raised:
        await sender.send(alert())
    await http.aclose()
    assert (raised.value.code, raised.value.template) == ("meta:132001", "massar_absence_full.fr")


# --- Twilio -------------------------------------------------------------------------------------


async def test_twilio_sends_the_content_template_outside_the_window(
    window: WhatsAppWindow,
) -> None:
    recorder = Recorder(twilio_created)
    sender, http = twilio_sender(recorder, SIDS, window)
    receipt = await sender.send(alert())
    await http.aclose()
    form = sent_form(recorder.requests[0])
    assert "Body" not in form
    assert form["To"] == "whatsapp:+212600000001"
    assert form["ContentSid"] == SIDS["absence_full.fr"]
    assert json.loads(form["ContentVariables"]) == {"1": "Youssef", "2": "07/12 08:30-10:30"}
    assert receipt.template == "massar_absence_full.fr"


async def test_twilio_minimal_template_has_no_variables(window: WhatsAppWindow) -> None:
    recorder = Recorder(twilio_created)
    sender, http = twilio_sender(recorder, SIDS, window)
    await sender.send(alert(template=MINIMAL))
    await http.aclose()
    form = sent_form(recorder.requests[0])
    assert form["ContentSid"] == SIDS["absence.ar"]
    assert "ContentVariables" not in form
    assert "Body" not in form


async def test_twilio_sends_the_body_inside_the_window(window: WhatsAppWindow) -> None:
    await window.touch(PHONE, datetime.now(UTC) - timedelta(hours=1))
    recorder = Recorder(twilio_created)
    sender, http = twilio_sender(recorder, SIDS, window)
    receipt = await sender.send(alert())
    await http.aclose()
    form = sent_form(recorder.requests[0])
    assert form["Body"] == "Massar: Youssef absent"
    assert "ContentSid" not in form
    assert receipt.template is None


async def test_twilio_without_the_templates_content_sid_fails_without_calling(
    window: WhatsAppWindow,
) -> None:
    recorder = Recorder(twilio_created)
    sender, http = twilio_sender(recorder, {}, window)
    with pytest.raises(SendError) as raised:
        await sender.send(alert())
    await http.aclose()
    assert recorder.requests == []
    error = raised.value
    assert (error.code, error.retryable, error.template) == (
        "no_content_sid",
        False,
        "massar_absence_full.fr",
    )


# --- through the worker: the record names the template ------------------------------------------


async def test_the_record_of_an_alert_outside_the_window_names_its_template(
    rig: Rig, window: WhatsAppWindow
) -> None:
    recorder = Recorder(meta_ok)
    sender, http = meta_sender(recorder, window)
    msg = alert()
    await rig.outbox.enqueue(msg)
    channel = OutChannel.WHATSAPP
    bucket = TokenBucket(rig.redis, rig.outbox.keys.bucket(channel.value), rate=1000, burst=1000)
    worker = OutboxWorker(
        rig.outbox,
        senders={channel: sender},
        pacers={channel: Pacer(bucket)},
        records=rig.records,
        config=WorkerConfig(consumer="w-window"),
    )

    async def sent() -> bool:
        record = await rig.records.get(msg.id)
        return record is not None and record["status"] == "sent"

    async with anyio.create_task_group() as tg:
        tg.start_soon(worker.run)
        await until(sent)
        tg.cancel_scope.cancel()
    await http.aclose()
    record = await rig.records.get(msg.id)
    assert record is not None
    assert record["template"] == "massar_absence_full.fr"
    listed = await rig.records.for_address(PHONE)
    assert [m["template"] for m in listed] == ["massar_absence_full.fr"]


# --- the sink (development, the simulator) -------------------------------------------------------


async def test_the_whatsapp_sink_records_the_template_as_the_parent_reads_it(
    rig: Rig, window: WhatsAppWindow
) -> None:
    sink = SinkSender(SinkStream(rig.redis, rig.outbox.keys), rig.outbox, window=window)
    receipt = await sink.send(alert())
    [row] = await sink.records(PHONE)
    assert receipt.template == row["template"] == "massar_absence_full.fr"
    assert row["text"] == "Massar : absence non justifiée de Youssef : 07/12 08:30-10:30. " + (
        "Répondez ABS pour le détail."
    )
    await window.touch(PHONE, datetime.now(UTC))
    receipt = await sink.send(alert())
    assert receipt.template is None
    assert (await sink.records(PHONE))[-1]["text"] == "Massar: Youssef absent"


async def test_twilio_whatsapp_says_at_start_which_content_sids_are_missing(rig: Rig) -> None:
    settings = Settings(
        whatsapp_sender="twilio",  # type: ignore[arg-type]
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token="test-twilio-token-0123",  # type: ignore[arg-type]
        twilio_whatsapp_from="whatsapp:+212500000000",
        twilio_whatsapp_content_sids={"absence.fr": "HX" + "a" * 32, "absense.fr": "HX" + "b" * 32},
    )
    async with httpx.AsyncClient() as http:
        with structlog.testing.capture_logs() as logs:
            senders = build_senders(settings, redis=rig.redis, outbox=rig.outbox, http=http)
    assert isinstance(senders[OutChannel.WHATSAPP], TwilioWhatsAppSender)
    [warning] = [e for e in logs if e["event"] == "twilio_whatsapp_content_sids_incomplete"]
    assert "absence.ar" in warning["missing"]
    assert "absence.fr" not in warning["missing"]
    assert warning["unknown"] == ["absense.fr"]  # a typo is named, not silently unused
