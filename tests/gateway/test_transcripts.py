"""Golden conversations (issue 22), in the manner of goflow's flow tests: each file of
`tests/fixtures/dialogs/` is one conversation on one channel kind, in one language: what the
phone sends, and what it must show (or say) back, word for word. One parametrised test
plays them all through the real routes against the seeded sandbox.

A file (TOML):

    channel = "sms"            # ussd | sms | whatsapp | telegram | voice
    lang = "fr"                # the language the parent reads
    phone = "+212700000001"    # a demo guardian (sandbox/demo.py)
    path = "absences"          # what it shows: first contact, absences, marks...

    [[turn]]
    send = "ABS"               # USSD: "" dials, anything else is typed at the prompt;
                               # voice: "call" starts a call, digits are keys pressed;
                               # telegram: "contact" shares the phone number
    expect = '''...'''         # the screen, the SMS, the chat message or what is said

    [[turn]]
    backend = "down"           # a step that changes the world: Massar stops answering

    [[turn]]
    alerts = "weekly, absence" # a check: what the phone's alert preferences now hold
                               # (the rhythm, then the one kind chosen; or "stopped")

New behaviour adds a transcript. To write the first draft of a new one, set
`GATEWAY_TRANSCRIPTS_RECORD=1`: the test writes what the gateway said into `expect`. Then
read every line against the rules (DOMAIN.md, the issue) before committing it: a transcript
that freezes a wrong answer is worse than none.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.deps import runtime_of
from tests.gateway.channels.voice_call import VoiceCall
from tests.gateway.chat.conftest import make_chat_gateway  # noqa: F401 (fixture)
from tests.gateway.chat.handsets import ChatGateway, Screen, TelegramHandset, TwilioHandset
from tests.gateway.conftest import SmsPhone, UssdPhone

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dialogs"
FILES = sorted(FIXTURES.glob("*.toml"))
RECORD = os.environ.get("GATEWAY_TRANSCRIPTS_RECORD") == "1"
SANDBOX_ADMIN = {"Authorization": "Bearer sandbox-admin"}
AGENTS = "+212522000000"  # the hotline's agents, for "press zero"
CHANNELS = ("ussd", "sms", "whatsapp", "telegram", "voice")


def chat_screen(screen: Screen) -> str:
    """A Telegram message as the app draws it: the text, then its buttons."""
    buttons = " ".join(f"[{label}]" for _, _, label in screen.options)
    return f"{screen.text}\n{buttons}" if buttons else screen.text


@dataclass
class Handset:
    """One phone on one channel kind, answering `send` with what the parent sees."""

    channel: str
    phone: str
    client: TestClient
    chat: ChatGateway | None = None
    state: dict[str, Any] = field(default_factory=dict)

    def send(self, text: str) -> str:
        if self.channel == "ussd":
            ussd = self.state.setdefault("ussd", UssdPhone(self.client, self.phone))
            return ussd.dial() if text == "" else ussd.press(text)
        if self.channel == "sms":
            return SmsPhone(self.client, self.phone).send(text)
        if self.channel == "whatsapp":
            assert self.chat is not None
            wa = self.state.setdefault("wa", TwilioHandset(self.chat, self.phone))
            wa.type(text)
            return str(wa.last)
        if self.channel == "telegram":
            assert self.chat is not None
            tg = self.state.setdefault("tg", TelegramHandset(self.chat, self.phone))
            return chat_screen(tg.share_contact() if text == "contact" else tg.type(text))
        call = self.state.get("call")
        if text == "call" or call is None:
            call = self.state["call"] = VoiceCall(self.client, self.phone)
            return call.start().text()
        return str(call.press(text).text())


def load(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def test_every_channel_language_and_main_path_has_transcripts() -> None:
    docs = [load(p) for p in FILES]
    assert len(docs) >= 70
    assert {d["channel"] for d in docs} == set(CHANNELS)
    for channel in CHANNELS:
        for lang in ("ar", "fr"):
            paths = {d["path"] for d in docs if d["channel"] == channel and d["lang"] == lang}
            wanted = {"first-contact", "absences", "marks", "enrolment", "wrong-code"}
            wanted |= {"lockout", "slow-backend", "alerts"}
            if channel != "voice":  # a keypad types no STOP
                wanted.add("stop-start")
            assert wanted <= paths, (channel, lang, wanted - paths)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_transcript(
    path: Path,
    make_gateway: Callable[..., TestClient],
    make_chat_gateway: Callable[..., ChatGateway],  # noqa: F811
    sandbox_app: object,
) -> None:
    doc = load(path)
    channel = doc["channel"]
    if channel in ("whatsapp", "telegram"):
        chat = make_chat_gateway()
        client = chat.client
    else:
        chat, client = None, make_gateway(hotline_agents_number=AGENTS)
    phone = Handset(channel, doc["phone"], client, chat)
    sandbox = TestClient(sandbox_app)  # type: ignore[arg-type]
    got: list[str] = []
    for turn in doc["turn"]:
        if "alerts" in turn:
            assert stored_alerts(client, doc["phone"]) == turn["alerts"], f"{path.name}: stored"
            got.append("")
            continue
        if "backend" in turn:
            down = turn["backend"] == "down"
            response = sandbox.put("/_sandbox/chaos", json={"down": down}, headers=SANDBOX_ADMIN)
            assert response.status_code == 200, response.text
            got.append("")
            continue
        got.append(phone.send(turn["send"]))
    if RECORD:
        record(path, doc, got)
        return
    for number, (turn, said) in enumerate(zip(doc["turn"], got, strict=True), start=1):
        if "expect" in turn:
            assert said == turn["expect"], f"{path.name}, turn {number} ({turn['send']!r})"


def stored_alerts(client: TestClient, phone: str) -> str:
    """What the gateway stored for `phone`'s alerts: "weekly", "daily, marks", "stopped"…"""
    prefs = runtime_of(client.app).preferences
    pref = client.portal.call(prefs.for_phones, [phone])[phone]  # type: ignore[union-attr]
    if pref.opted_out:
        return "stopped"
    only = f", {next(iter(pref.kinds))}" if len(pref.kinds) == 1 else ""
    return f"{pref.rhythm}{only}"


def record(path: Path, doc: dict[str, Any], got: list[str]) -> None:
    """Write the first draft of a transcript's `expect`s (to be read and checked by hand)."""
    comments = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        comments.append(line)
    out = "".join(f"{line}\n" for line in comments)
    for key in ("channel", "lang", "phone", "path"):
        out += f"{key} = {toml_str(str(doc[key]))}\n"
    for turn, said in zip(doc["turn"], got, strict=True):
        out += "\n[[turn]]\n"
        if "backend" in turn:
            out += f"backend = {toml_str(turn['backend'])}\n"
            continue
        if "alerts" in turn:
            out += f"alerts = {toml_str(turn['alerts'])}\n"
            continue
        out += f"send = {toml_str(turn['send'])}\n"
        out += f"expect = {toml_str(said)}\n"
    path.write_text(out)


def toml_str(text: str) -> str:
    if "\n" not in text:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "'''\n" + text + "'''" if "'''" not in text else '"""\n' + text + '"""'
