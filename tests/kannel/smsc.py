"""A small SMPP 3.4 SMSC on loopback, standing for an operator's USSD gateway, that Kannel's
bearerbox binds to (`tests/kannel/test_real_kannel_ussd.py`).

It speaks what a USSD session needs, PDUs packed by hand with `struct` (SMPP 3.4 §4; the
Python SMPP libraries choke on the USSD TLVs, CHANNELS.md §15.A3): bind_transceiver,
bind_receiver and bind_transmitter (answered with their _resp), enquire_link, unbind,
deliver_sm to Kannel (service_type "USSD", the `ussd_service_op` 0x0501 and
`its_session_info` 0x1383 TLVs), submit_sm from Kannel (kept, with its TLVs, and answered
with a message id), and generic_nack for anything else. It runs its own asyncio loop on a
thread; `deliver` and `submits` are called from the test's thread.
"""

from __future__ import annotations

import asyncio
import itertools
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import gsm0338  # noqa: F401 - registers the "gsm03.38" codec

BIND_RECEIVER = 0x00000001
BIND_TRANSMITTER = 0x00000002
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
UNBIND = 0x00000006
BIND_TRANSCEIVER = 0x00000009
ENQUIRE_LINK = 0x00000015
GENERIC_NACK = 0x80000000
RESP = 0x80000000  # the bit that makes a command its response
BINDS = frozenset({BIND_RECEIVER, BIND_TRANSMITTER, BIND_TRANSCEIVER})
ESME_RINVCMDID = 0x00000003

USSD_SERVICE_OP = 0x0501
ITS_SESSION_INFO = 0x1383
DC_DEFAULT = 0x00  # the SMSC's default alphabet (GSM 03.38), one character per octet
DC_UCS2 = 0x08


def pack(command: int, sequence: int, body: bytes = b"", status: int = 0) -> bytes:
    return struct.pack(">IIII", 16 + len(body), command, status, sequence) + body


def cstring(value: str) -> bytes:
    return value.encode("ascii") + b"\0"


def tlv(tag: int, value: bytes) -> bytes:
    return struct.pack(">HH", tag, len(value)) + value


@dataclass(frozen=True)
class ShortMessage:
    """A deliver_sm or submit_sm body (they share one layout)."""

    service_type: str
    source: str
    source_ton: int
    destination: str
    data_coding: int
    data: bytes
    tlvs: dict[int, bytes]

    @property
    def text(self) -> str:
        codec = "utf-16-be" if self.data_coding == DC_UCS2 else "gsm03.38"
        return self.data.decode(codec)

    def pack(self) -> bytes:
        head = cstring(self.service_type)
        head += bytes([self.source_ton, 1]) + cstring(self.source)
        head += bytes([0, 0]) + cstring(self.destination)
        # esm_class, protocol_id, priority_flag, schedule time, validity, registered_delivery,
        # replace_if_present, data_coding, sm_default_msg_id, sm_length, short_message
        head += bytes([0, 0, 0]) + cstring("") + cstring("") + bytes([0, 0, self.data_coding, 0])
        head += bytes([len(self.data)]) + self.data
        return head + b"".join(tlv(tag, value) for tag, value in self.tlvs.items())

    @classmethod
    def unpack(cls, body: bytes) -> ShortMessage:
        at = 0

        def text() -> str:
            nonlocal at
            end = body.index(b"\0", at)
            value, at = body[at:end].decode("latin-1"), end + 1
            return value

        def octets(n: int) -> bytes:
            nonlocal at
            value, at = body[at : at + n], at + n
            return value

        service_type = text()
        source_ton, _npi = octets(2)
        source = text()
        octets(2)  # dest_addr_ton, dest_addr_npi
        destination = text()
        octets(3)  # esm_class, protocol_id, priority_flag
        text(), text()  # schedule_delivery_time, validity_period
        _registered, _replace, data_coding, _default_id, length = octets(5)
        data = octets(length)
        tlvs: dict[int, bytes] = {}
        while at + 4 <= len(body):
            tag, size = struct.unpack(">HH", octets(4))
            tlvs[tag] = octets(size)
        return cls(service_type, source, source_ton, destination, data_coding, data, tlvs)


@dataclass
class Smsc:
    """The SMSC: `deliver` a USSD step from a phone, read what Kannel `submits` back."""

    port: int = 0
    binds: list[tuple[int, str, str]] = field(default_factory=list)  # command, id, password
    submits: list[ShortMessage] = field(default_factory=list)
    submitted_at: list[float] = field(default_factory=list)  # time.monotonic() of each
    enquire_links: int = 0
    nacked: list[int] = field(default_factory=list)
    delivered_ok: list[int] = field(default_factory=list)  # deliver_sm_resp statuses
    _loop: asyncio.AbstractEventLoop | None = None
    _writer: asyncio.StreamWriter | None = None
    _sequence: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- the test's side ----------------------------------------------------------------

    def deliver(
        self,
        phone: str,
        text: str,
        *,
        op: int | None,
        session: bytes | None,
        to: str = "*2020#",
        coding: int = DC_DEFAULT,
    ) -> None:
        """A deliver_sm from `phone` (international, without +): one USSD step."""
        tlvs = {}
        if op is not None:
            tlvs[USSD_SERVICE_OP] = bytes([op])
        if session is not None:
            tlvs[ITS_SESSION_INFO] = session
        data = text.encode("utf-16-be" if coding == DC_UCS2 else "gsm03.38")
        sm = ShortMessage("USSD", phone, 1, to, coding, data, tlvs)
        self._send(pack(DELIVER_SM, next(self._sequence), sm.pack()))

    def received(self) -> list[ShortMessage]:
        with self._lock:
            return list(self.submits)

    def received_at(self) -> list[tuple[float, ShortMessage]]:
        """Each submit_sm with when it arrived (monotonic seconds), in order."""
        with self._lock:
            return list(zip(self.submitted_at, self.submits, strict=True))

    def bound(self) -> bool:
        return self._writer is not None

    def _send(self, data: bytes) -> None:
        loop, writer = self._loop, self._writer
        if loop is None or writer is None:
            raise RuntimeError("Kannel is not bound")
        loop.call_soon_threadsafe(writer.write, data)

    # --- the SMSC's side ------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                header = await reader.readexactly(16)
                length, command, status, sequence = struct.unpack(">IIII", header)
                body = await reader.readexactly(length - 16)
                if not await self._answer(writer, command, status, sequence, body):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if self._writer is writer:
                self._writer = None
            writer.close()

    async def _answer(
        self, writer: asyncio.StreamWriter, command: int, status: int, sequence: int, body: bytes
    ) -> bool:
        if command in BINDS:
            system_id, password = body.split(b"\0")[:2]
            self.binds.append((command, system_id.decode(), password.decode()))
            writer.write(pack(command | RESP, sequence, cstring("ussd-stub")))
            if command != BIND_TRANSMITTER:  # a transmitter takes no deliver_sm
                self._writer = writer
        elif command == ENQUIRE_LINK:
            self.enquire_links += 1
            writer.write(pack(ENQUIRE_LINK | RESP, sequence))
        elif command == SUBMIT_SM:
            with self._lock:
                self.submits.append(ShortMessage.unpack(body))
                self.submitted_at.append(time.monotonic())
                message_id = f"ussd{len(self.submits)}"
            writer.write(pack(SUBMIT_SM | RESP, sequence, cstring(message_id)))
        elif command == DELIVER_SM | RESP:
            self.delivered_ok.append(status)
        elif command == UNBIND:
            writer.write(pack(UNBIND | RESP, sequence))
            await writer.drain()
            return False
        elif not command & RESP:
            self.nacked.append(command)
            writer.write(pack(GENERIC_NACK, sequence, status=ESME_RINVCMDID))
        await writer.drain()
        return True


@contextmanager
def run_smsc(port: int) -> Iterator[Smsc]:
    """The SMSC listening on 127.0.0.1:`port` until the block ends."""
    smsc = Smsc(port=port)
    ready = threading.Event()
    stop: asyncio.Event | None = None

    async def main() -> None:
        nonlocal stop
        smsc._loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        server = await asyncio.start_server(smsc._serve, "127.0.0.1", port)
        ready.set()
        async with server:
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError(f"the SMSC did not listen on {port}")
    try:
        yield smsc
    finally:
        assert smsc._loop is not None
        assert stop is not None
        smsc._loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)


def wait_bound(smsc: Smsc, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not smsc.bound():
        if time.monotonic() > deadline:
            raise RuntimeError("Kannel did not bind to the SMSC")
        time.sleep(0.05)
