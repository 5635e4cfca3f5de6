"""A phone call to the hotline, driven like Twilio drives it: the recorded forms of
`tests/fixtures/twilio_voice/`, signed over the URL each `<Gather>` names, and the TwiML parsed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from xml.etree import ElementTree

from fastapi.testclient import TestClient

from gateway.channels.voice.twilio import ROUTE
from tests.gateway.channels.conftest import fixture
from tests.gateway.conftest import PUBLIC_URL, sign_twilio

ARABIC_VOICE, FRENCH_VOICE = "Polly.Zeina", "Polly.Lea"


@dataclass
class Turn:
    """One TwiML answer, parsed."""

    root: ElementTree.Element

    def says(self) -> list[tuple[str, str]]:
        """(voice, text) of every `<Say>`, in the order the caller hears them."""
        return [(s.get("voice", ""), s.text or "") for s in self.root.iter("Say")]

    def text(self) -> str:
        return "\n".join(text for _, text in self.says())

    def plays(self) -> list[str]:
        return [p.text or "" for p in self.root.iter("Play")]

    def gathers(self) -> list[ElementTree.Element]:
        return list(self.root.iter("Gather"))

    def dialled(self) -> str | None:
        dial = self.root.find("Dial")
        return None if dial is None else (dial.text or "").strip()

    def hangs_up(self) -> bool:
        return self.root.find("Hangup") is not None

    def action(self) -> str:
        (gather,) = self.gathers()
        return gather.get("action", "")


@dataclass
class VoiceCall:
    client: TestClient
    phone: str
    sid: str = field(default_factory=lambda: "CA" + uuid.uuid4().hex)
    last: Turn | None = None
    responses: list[str] = field(default_factory=list)

    def _post(self, url: str, form: dict[str, str], *, signed: bool = True) -> Turn:
        headers = {"X-Twilio-Signature": sign_twilio(PUBLIC_URL + url, form)} if signed else {}
        response = self.client.post(url, data=form, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        self.responses.append(response.text)
        self.last = Turn(ElementTree.fromstring(response.text))  # noqa: S314 - our own answer
        return self.last

    def form(self, name: str, **changes: str) -> dict[str, str]:
        data = fixture("twilio_voice", name)
        data.update(CallSid=self.sid, From=self.phone, Caller=self.phone)
        data.update(changes)
        return data

    def start(self, fixture_name: str = "call_start") -> Turn:
        return self._post(ROUTE, self.form(fixture_name))

    def press(self, digits: str, **changes: str) -> Turn:
        assert self.last is not None
        return self.press_at(self.last.action(), digits, **changes)

    def press_at(self, action: str, digits: str, **changes: str) -> Turn:
        """Keys posted to a given `<Gather>` action (a retry, an old or a made-up one)."""
        return self._post(action, self.form("gather_digits", Digits=digits, **changes))

    def wait(self) -> Turn:
        """Silence: Twilio calls the action with no digits (`actionOnEmptyResult`)."""
        assert self.last is not None
        return self._post(self.last.action(), self.form("gather_silence"))
