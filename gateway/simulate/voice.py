"""The hotline through Twilio Voice: a signed form post per key press, the TwiML read out.

Each `<Say>` prints with its voice (`[Polly.Lea] Services Massar.`), each `<Play>` as the
file it plays, a `<Dial>` as the transfer, a `<Hangup>` as the end of the call. A line of
digits is the keys pressed; an empty line is silence; after a hang-up the next line calls again.
"""

from __future__ import annotations

import uuid
from xml.etree import ElementTree

from twilio.request_validator import RequestValidator

from gateway.simulate.phones import Phone, register

VOICE_ROUTE = "/channels/voice/twilio"
HOTLINE = "+212800001122"


def twiml_spoken(twiml: str) -> tuple[list[str], str | None]:
    """What the caller hears, a line per verb, and the next `<Gather>`'s action (None: the
    call is over)."""
    root = ElementTree.fromstring(twiml)  # noqa: S314 - our own gateway's answer
    lines: list[str] = []
    action: str | None = None
    waits = ""
    for verb in root.iter():
        if verb.tag == "Say":
            lines.append(f"[{verb.get('voice', '')}] {verb.text or ''}")
        elif verb.tag == "Play":
            lines.append(f"[play] {verb.text or ''}")
        elif verb.tag == "Dial":
            lines.append(f"[transfer to {(verb.text or '').strip()}]")
        elif verb.tag == "Hangup":
            lines.append("[hang up]")
        elif verb.tag == "Gather":
            action = verb.get("action")
            waits = f"[waiting for {verb.get('numDigits', '1')} key(s)]"
    if waits:
        lines.append(waits)
    if not list(root):
        lines.append("[nothing: an empty answer]")
    return lines, action


@register("voice")
class TwilioVoicePhone(Phone):
    dials_first = True
    screen = "keypad"
    session_channel = "voice"

    call_sid: str | None = None
    action: str | None = None
    expects = 1  # how many keys the last `<Gather>` waits for
    keys = ""  # the keys pressed one by one (the web keypad) until it has them all

    async def press(self, option: str) -> str:
        """One key of the keypad: held until the `<Gather>` has its digits (or `#`)."""
        if self.action is None:
            return await self.send(option)
        self.keys += option.removesuffix("#")
        if len(self.keys) < self.expects and not option.endswith("#"):
            return ""
        keys, self.keys = self.keys, ""
        return await self.send(keys)

    async def send(self, text: str) -> str:
        keys = text.strip()
        shown = ""
        if self.call_sid is None or self.action is None:
            self.call_sid = "CA" + uuid.uuid4().hex
            shown = await self._post(VOICE_ROUTE, {})
            if not keys:
                return shown
        if self.action is None:  # the call did not start
            return shown
        return await self._post(self.action, {"Digits": keys})

    async def _post(self, url: str, extra: dict[str, str]) -> str:
        params = {
            "CallSid": self.call_sid or "",
            "AccountSid": "AC" + "0" * 32,
            "From": self.phone,
            "To": HOTLINE,
            "CallStatus": "in-progress" if extra else "ringing",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
            **extra,
        }
        token = self.settings.twilio_auth_token
        signature = RequestValidator(token.get_secret_value() if token else "").compute_signature(
            self.settings.public_url + url, params
        )
        response = await self.http.post(url, data=params, headers={"X-Twilio-Signature": signature})
        if response.status_code != 200:
            self.call_sid = self.action = None
            return f"[{response.status_code}] {response.text}"
        lines, self.action = twiml_spoken(response.text)
        gather = ElementTree.fromstring(response.text).find(".//Gather")  # noqa: S314 - ours
        self.expects = int(gather.get("numDigits", "1")) if gather is not None else 1
        self.keys = ""
        if self.action is None:
            self.call_sid = None
        return "\n".join(lines)
