"""Twilio WhatsApp's sender (addresses, 63016; templates: test_whatsapp_window.py), and the
worker recording a "24-hour window" or "blocked" refusal once, never retried."""

from __future__ import annotations

import httpx
import pytest

from gateway.outbox.model import MessageKind, OutChannel, SendError
from gateway.outbox.throttle import Pacer
from gateway.state.outbox.bucket import TokenBucket
from tests.outbox.chat_fakes import (
    Recorder,
    chat_message,
    meta_sender,
    options,
    sent_form,
    telegram_sender,
    twilio_created,
    twilio_sender,
)
from tests.outbox.conftest import Rig
from tests.outbox.test_outbox_worker import until

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


async def test_twilio_whatsapp_sends_numbered_options_between_whatsapp_addresses() -> None:
    recorder = Recorder(twilio_created)
    sender, http = twilio_sender(recorder)
    await sender.send(chat_message(text="Quel enfant ?", opts=options("Youssef", "Salma")))
    await http.aclose()
    form = sent_form(recorder.requests[0])
    assert (form["To"], form["From"]) == ("whatsapp:+212600000001", "whatsapp:+212500000000")
    assert form["Body"] == "Quel enfant ?\n1. Youssef\n2. Salma"
    assert form["StatusCallback"] == "https://gw.test/channels/whatsapp/twilio/status"


async def test_a_twilio_63016_is_permanent() -> None:
    refused = {
        "code": 63016,
        "message": "Failed to send freeform message because you are outside the allowed window.",
        "status": 400,
    }
    sender, http = twilio_sender(lambda request: httpx.Response(400, json=refused))
    with pytest.raises(SendError) as raised:
        await sender.send(chat_message(kind=MessageKind.FOLLOWUP))
    await http.aclose()
    assert (raised.value.code, raised.value.retryable) == ("twilio:63016", False)


# --- through the worker: a permanent failure is sent once and recorded failed ------------------


@pytest.mark.parametrize(
    ("channel", "to", "refusal"),
    [
        (
            OutChannel.WHATSAPP,
            "+212600000001",
            (400, {"error": {"code": 131047, "message": "Re-engagement message"}}),
        ),
        (
            OutChannel.TELEGRAM,
            "telegram:42",
            (
                403,
                {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user",
                },
            ),
        ),
    ],
    ids=["meta-24h-window", "telegram-blocked"],
)
async def test_the_worker_records_a_permanent_refusal_once(
    rig: Rig, channel: OutChannel, to: str, refusal: tuple[int, dict[str, object]]
) -> None:
    import anyio

    from gateway.outbox.worker import OutboxWorker
    from gateway.outbox.worker_config import WorkerConfig

    status, body = refusal
    recorder = Recorder(lambda request: httpx.Response(status, json=body))
    if channel is OutChannel.WHATSAPP:
        sender, http = meta_sender(recorder)
    else:
        sender, http = telegram_sender(rig, recorder)  # type: ignore[assignment]
    msg = chat_message(channel=channel, to=to)
    await rig.outbox.enqueue(msg)
    bucket = TokenBucket(rig.redis, rig.outbox.keys.bucket(channel.value), rate=1000, burst=1000)
    worker = OutboxWorker(
        rig.outbox,
        senders={channel: sender},
        pacers={channel: Pacer(bucket)},
        records=rig.records,
        config=WorkerConfig(consumer="w-chat", backoff_base_s=0.01, backoff_cap_s=0.05),
    )

    async def failed() -> bool:
        record = await rig.records.get(msg.id)
        return record is not None and record["status"] == "failed"

    stop = anyio.Event()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(lambda: worker.run(stop=stop))
        await until(failed)
        stop.set()
    record = await rig.records.get(msg.id)
    assert record is not None
    await http.aclose()
    assert len(recorder.requests) == 1  # never retried
    assert record["attempts"] == 1
    assert record["error"] == (
        "meta:131047" if channel is OutChannel.WHATSAPP else "telegram:forbidden"
    )
