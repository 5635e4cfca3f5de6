"""The sink: a sender that records instead of sending (development, the demo, tests).

Each send is appended to the outbox's sink stream and its idempotency key marked sent, in
one script (`gateway.state.outbox.sink`): tests can count sends per key exactly, and a double
send shows. Production refuses it (`GATEWAY_SMS_SENDER=sink`). `latency_s`
(`GATEWAY_SINK_LATENCY_S`) makes it answer as late as a provider's API would, to see what a
stop or a crash does to sends in flight. The WhatsApp sink reads the 24-hour window as the
real senders do (`senders/window.py`): an alert outside it is recorded as its template's text,
and its record names the template.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio

from gateway.alerts.templates import render
from gateway.outbox.model import OutMessage, Receipt, SendError
from gateway.outbox.queue import Outbox
from gateway.outbox.senders.base import sms_text
from gateway.outbox.senders.window import Window, template_of
from gateway.state.outbox.sink import SinkStream

__all__ = ["SinkSender"]


class SinkSender:
    name = "sink"

    def __init__(
        self,
        stream: SinkStream,
        outbox: Outbox,
        *,
        fail: Callable[[OutMessage], SendError | None] | None = None,
        latency_s: float = 0.0,
        window: Window | None = None,
    ) -> None:
        self.stream = stream
        self.outbox = outbox
        # Tests make the sink answer like a failing provider (a 429, an invalid number).
        self._fail = fail
        self.latency_s = latency_s
        self._window = window  # WhatsApp's: alerts outside the 24-hour window as templates

    async def send(self, msg: OutMessage) -> Receipt:
        if self._fail is not None and (error := self._fail(msg)) is not None:
            raise error
        if self.latency_s:
            await anyio.sleep(self.latency_s)
        key_h = self.outbox.key_h(msg)
        template = await template_of(msg, self._window)
        text = sms_text(msg) if msg.channel == "sms" else msg.text
        fields = {
            "key_h": key_h,
            "id": msg.id,
            "channel": msg.channel.value,
            "to": msg.to,
            "text": render(template) if template is not None else text,
        }
        if template is not None:
            fields["template"] = template.label
        provider_id = f"sink-{await self.stream.record(key_h, fields)}"
        return Receipt(provider_id=provider_id, template=template.label if template else None)

    async def records(self, to: str | None = None) -> list[dict[str, str]]:
        """What the sink received, oldest first (all of it, or one address's)."""
        return [row for row in await self.stream.entries() if to is None or row["to"] == to]

    async def aclose(self) -> None:
        return None
