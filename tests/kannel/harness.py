"""A real Kannel on loopback: bearerbox and smsbox from Debian's `kannel` package, run on
`deploy/kannel/kannel.conf`, with fakesmsc (`kannel-extras`) standing for each operator.

`render_config` turns the deployed file into a test one: each `smsc = smpp` link becomes a
`smsc = fake` link of the same smsc-id on a free port, ports, paths and log levels become
the test's, and the CHANGE_ME secrets the test's own. Everything else is the file as shipped.
`Kannel` starts both boxes and stops them (by process id) when its block ends; `Fakesmsc` is
one operator: it sends SMS from phones (lines on its stdin) and collects what Kannel sends to
phones (its log lines). The tests in this folder, `tests/kannel/console.py` (a Kannel for
`make run`) and `bench/kannel.py` use it.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes

import httpx

ROOT = Path(__file__).resolve().parents[2]
DEPLOYED_CONFIG = ROOT / "deploy" / "kannel" / "kannel.conf"
FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")
START_WITHIN_S = 20.0
ADMIN_PASSWORD = "test-admin-password"
# Keys of an SMPP link that a fake link does not take.
_SMPP_ONLY = re.compile(
    r"^(host|port|transceiver-mode|smsc-username|smsc-password|system-type|source-addr-\w+|"
    r"dest-addr-\w+|throughput|enquire-link-interval|max-pending-submits|reconnect-delay)\s*="
)
# fakesmsc's log of a message to a phone: `Got message 3: <2020 +212600000001 text Bonjour>`.
# The fake link's protocol is one line per message: a text's newline starts a new "message"
# (`Got message 4: <1. Absences>`), which belongs to the one before it.
_GOT = re.compile(rb"Got message \d+: <(.*)>$")
_MT_START = re.compile(rb"Got message \d+: <\S+ \+?[0-9]+ (?:udh \S+ )?(?:text|ucs-2|data)")
_MT = re.compile(rb"(\S+) (\+?[0-9]+) ((?:udh \S+ )?(?:text|ucs-2|data)) ?(.*)$", re.DOTALL)


def binary(name: str) -> str | None:
    """Kannel's `name` on PATH, or where Debian puts it (/usr/sbin is not on every PATH)."""
    return shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )


def missing() -> str | None:
    """Why a real Kannel cannot run here, or None when it can."""
    absent = [name for name in ("bearerbox", "smsbox") if binary(name) is None]
    if not FAKESMSC.exists():
        absent.append(str(FAKESMSC))
    if not absent:
        return None
    return f"{', '.join(absent)} not installed (apt install kannel kannel-extras)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Ports:
    admin: int
    smsbox: int
    sendsms: int
    links: Mapping[str, int]  # smsc-id -> the fake link's port

    @classmethod
    def free(cls, link_ids: tuple[str, ...], sendsms: int | None = None) -> Ports:
        links = {i: free_port() for i in link_ids}
        return cls(free_port(), free_port(), sendsms or free_port(), links)


def link_ids(config: str) -> tuple[str, ...]:
    """The smsc-ids of the configuration's links (`group = smsc`), in order."""
    groups = [
        g for g in re.split(r"\n\s*\n", config) if re.search(r"^group\s*=\s*smsc\s*$", g, re.M)
    ]
    return tuple(i for g in groups for i in re.findall(r"^smsc-id\s*=\s*(\S+)", g, re.M))


def render_config(
    config: str,
    *,
    ports: Ports,
    workdir: Path,
    gateway_url: str,
    token: str,
    sendsms_password: str,
    queue_delay_s: int = 1,
    log_level: int = 0,
    smpp: Mapping[str, int] | None = None,
) -> str:
    """The deployed configuration with fake links, loopback ports and test secrets.

    The links named in `smpp` (smsc-id -> port) stay SMPP links, bound to an SMSC the test
    runs on that loopback port (`tests/kannel/smsc.py`) with test credentials."""
    smpp = smpp or {}
    values: dict[tuple[str, str], str] = {
        ("core", "admin-port"): str(ports.admin),
        ("core", "admin-password"): f'"{ADMIN_PASSWORD}"',
        ("core", "smsbox-port"): str(ports.smsbox),
        ("core", "store-location"): f'"{workdir}/kannel.store"',
        ("core", "log-file"): f'"{workdir}/bearerbox.log"',
        ("core", "log-level"): str(log_level),
        ("smsbox", "bearerbox-port"): str(ports.smsbox),
        ("smsbox", "sendsms-port"): str(ports.sendsms),
        ("smsbox", "http-queue-delay"): str(queue_delay_s),
        ("smsbox", "log-file"): f'"{workdir}/smsbox.log"',
        ("smsbox", "log-level"): str(log_level),
        ("sendsms-user", "password"): f'"{sendsms_password}"',
    }
    out: list[str] = []
    for group in re.split(r"\n\s*\n", config):
        lines = [line for line in group.splitlines() if line.strip() and line[0] != "#"]
        if not lines:
            continue
        fields = dict(_pair(line) for line in lines)
        name = fields.get("group", "")
        if fields.get("smsc") == "smpp" and fields.get("smsc-id") in smpp:
            lines = [_smpp_line(line, smpp[fields["smsc-id"]]) for line in lines]
        elif fields.get("smsc") == "smpp":
            lines = ["smsc = fake" if _pair(line) == ("smsc", "smpp") else line for line in lines]
            lines = [line for line in lines if not _SMPP_ONLY.match(line)]
            lines += [f"port = {ports.links[fields['smsc-id']]}", 'connect-allow-ip = "127.0.0.1"']
        rendered: list[str] = []
        for line in lines:
            key, value = _pair(line)
            if (name, key) in values:
                line = f"{key} = {values[(name, key)]}"
            elif name == "sms-service" and key == "post-url":
                value = value.replace("http://127.0.0.1:8000", gateway_url)
                line = f"{key} = {value.replace('CHANGE_ME_CALLBACK_TOKEN', token)}"
            elif "CHANGE_ME" in value:
                raise ValueError(f"no test value for {name}.{key}")
            rendered.append(line)
        out.append("\n".join(rendered))
    return "\n\n".join(out) + "\n"


SMPP_USERNAME = "test-ussd"
SMPP_PASSWORD = "test-pw"  # SMPP 3.4 passwords hold at most 8 characters


def _smpp_line(line: str, port: int) -> str:
    """One line of an SMPP link kept for the test's SMSC: its address and credentials."""
    key = _pair(line)[0]
    if key == "host":
        return "host = 127.0.0.1"
    if key == "port":
        return f"port = {port}"
    if key == "smsc-username":
        return f'smsc-username = "{SMPP_USERNAME}"'
    if key == "smsc-password":
        return f'smsc-password = "{SMPP_PASSWORD}"'
    return line


def _pair(line: str) -> tuple[str, str]:
    key, _, value = line.partition("=")
    return key.strip(), value.strip()


@dataclass(frozen=True, slots=True)
class Mt:
    """One message Kannel sent to a phone, as fakesmsc logged it."""

    sender: str
    to: str
    coding: str  # "text" (UTF-8), "ucs-2" (UTF-16BE) or "data" (a concatenated part's bytes)
    data: bytes
    udh: bytes = b""

    @property
    def text(self) -> str:
        return self.data.decode("utf-16-be" if self.coding == "ucs-2" else "utf-8")

    @property
    def part(self) -> tuple[int, int, int] | None:
        """(reference, total, index) of a concatenated part, from its UDH."""
        if len(self.udh) >= 6 and self.udh[1] == 0x00:
            return self.udh[3], self.udh[4], self.udh[5]
        return None


def parse_mts(lines: list[bytes]) -> list[Mt]:
    """The messages to phones in fakesmsc's log lines."""
    found: list[Mt] = []
    for line in lines:
        got = _GOT.search(line.rstrip(b"\r\n"))
        if got is None:
            continue
        mt = _MT.fullmatch(got.group(1))
        if mt is None:
            if found and found[-1].coding == "text":  # the rest of a text after a newline
                last = found[-1]
                found[-1] = Mt(last.sender, last.to, last.coding, last.data + b"\n" + got.group(1))
            continue
        sender, to, kind, data = mt.groups()
        udh = b""
        if kind.startswith(b"udh "):
            _, udh_text, kind = kind.split(b" ", 2)
            udh = _unquote(udh_text)
        coding = kind.decode("ascii")
        body = data if coding == "text" else _unquote(data)
        found.append(Mt(sender.decode("latin-1"), to.decode("latin-1"), coding, body, udh))
    return found


def joined(parts: list[Mt], encoding: str) -> str:
    """The text of a concatenated message from its parts, in UDH order."""
    ordered = sorted(parts, key=lambda mt: mt.part or (0, 0, 0))
    return b"".join(mt.data for mt in ordered).decode(encoding)


def _unquote(data: bytes) -> bytes:
    # fakesmsc URL-encodes with `+` for the byte 0x20 (a space, or half of a UCS-2 space).
    return unquote_to_bytes(data.replace(b"+", b"%20"))


def mo_line(sender: str, to: str, text: str) -> str:
    """A fakesmsc input line: `text` as GSM text when it is ASCII, else as UCS-2."""
    if text.isascii() and "\n" not in text:
        return f"{sender} {to} text {text}"
    return f"{sender} {to} ucs2 {quote(text.encode('utf-16-be'), safe='')}"


@dataclass
class Fakesmsc:
    """One operator's SMSC: `send` an SMS from a phone, `received` what reached phones."""

    proc: subprocess.Popen[bytes]
    lines: list[bytes] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)  # time.monotonic() of each line
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _reader: threading.Thread | None = None

    def start_reading(self) -> None:
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def stop_reading(self) -> None:
        """After the process ended: the reader has read to the end; close the pipes."""
        if self._reader is not None:
            self._reader.join(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stderr):
            if pipe is not None:
                pipe.close()

    def send(self, sender: str, to: str, text: str) -> None:
        """One SMS from a phone. fakesmsc reads its stdin 256 bytes at a time and loses a line
        cut across two reads: to send many, leave a millisecond between them."""
        assert self.proc.stdin is not None
        self.proc.stdin.write((mo_line(sender, to, text) + "\n").encode("ascii"))
        self.proc.stdin.flush()

    def received(self, to: str | None = None) -> list[Mt]:
        with self._lock:
            lines = list(self.lines)
        return [mt for mt in parse_mts(lines) if to is None or mt.to == to]

    def received_at(self) -> list[float]:
        """When each message to a phone arrived (monotonic seconds), in order."""
        with self._lock:
            pairs = list(zip(self.lines, self.arrivals, strict=True))
        return [at for line, at in pairs if _GOT.search(line.rstrip()) and _MT_START.search(line)]

    def clear(self) -> None:
        with self._lock:
            self.lines.clear()
            self.arrivals.clear()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            with self._lock:
                self.lines.append(raw)
                self.arrivals.append(time.monotonic())


@dataclass
class Kannel:
    sendsms_url: str
    links: dict[str, Fakesmsc]
    ports: Ports
    workdir: Path


@contextmanager
def run_kannel(
    workdir: Path,
    *,
    gateway_url: str,
    token: str,
    sendsms_password: str,
    operators: tuple[str, ...] = ("IAM",),
    log_level: int = 0,
    sendsms_port: int | None = None,
    smpp: Mapping[str, int] | None = None,
) -> Iterator[Kannel]:
    """bearerbox + smsbox on the deployed configuration, and a fakesmsc per operator named;
    the links in `smpp` bind to the test's SMSCs on those ports instead."""
    deployed = DEPLOYED_CONFIG.read_text(encoding="utf-8")
    ports = Ports.free(link_ids(deployed), sendsms_port)
    config = workdir / "kannel.conf"
    config.write_text(
        render_config(
            deployed,
            ports=ports,
            workdir=workdir,
            gateway_url=gateway_url,
            token=token,
            sendsms_password=sendsms_password,
            log_level=log_level,
            smpp=smpp,
        ),
        encoding="utf-8",
    )
    procs: list[subprocess.Popen[bytes]] = []
    links: dict[str, Fakesmsc] = {}

    def start(*args: str, stdin: int | None = None) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(  # noqa: S603 - Kannel's own binaries, fixed arguments
            list(args),
            stdin=stdin,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            cwd=workdir,
        )
        procs.append(proc)
        return proc

    try:
        start(binary("bearerbox") or "bearerbox", str(config))
        _wait_port(ports.admin, "bearerbox")
        start(binary("smsbox") or "smsbox", str(config))
        _wait_port(ports.sendsms, "smsbox")
        for smsc_id in operators:
            proc = start(
                str(FAKESMSC), "-H", "127.0.0.1", "-r", str(ports.links[smsc_id]), "-i", "0.001",
                stdin=subprocess.PIPE,
            )  # fmt: skip
            fake = Fakesmsc(proc)
            fake.start_reading()
            links[smsc_id] = fake
        _wait_links(ports.admin, operators + tuple(smpp or {}))
        yield Kannel(
            sendsms_url=f"http://127.0.0.1:{ports.sendsms}/cgi-bin/sendsms",
            links=links,
            ports=ports,
            workdir=workdir,
        )
    finally:
        for proc in reversed(procs):  # fakesmsc, then smsbox, then bearerbox
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for fake in links.values():
            fake.stop_reading()


def _wait_port(port: int, what: str) -> None:
    deadline = time.monotonic() + START_WITHIN_S
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {START_WITHIN_S:.0f} s")


def _wait_links(admin_port: int, operators: tuple[str, ...]) -> None:
    """Until bearerbox reports each fake link online (its admin status page)."""
    deadline = time.monotonic() + START_WITHIN_S
    while time.monotonic() < deadline:
        try:
            status = httpx.get(
                f"http://127.0.0.1:{admin_port}/status.txt",
                params={"password": ADMIN_PASSWORD},
                timeout=1,
            ).text
        except httpx.HTTPError:
            status = ""
        if all(re.search(rf"^\s*{re.escape(i)}\[.*online", status, re.M) for i in operators):
            return
        time.sleep(0.1)
    raise RuntimeError(f"the fake links {operators} did not come online")
