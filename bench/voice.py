"""`python bench/voice.py`: what a hotline turn costs against the same screen on SMS or USSD.

Usage: python bench/voice.py [--turns 300] [--rounds 5]

An in-process gateway and sandbox (the simulator's: ASGI transports, the Redis stand-in
unless GATEWAY_REDIS_URL is set), warmed, then timed in alternating rounds so that each pair
sees the same machine. Each timed turn is one request, the same step of the dialogs:

- content: a parent with one child (Naima, +212600000002, Adam) asks for the absences:
  baseline an SMS `ABS` from the bound phone (the answer as text); voice the same answer
  repeated (`9`) in a call that passed the check (dates, hours and counts in words, TwiML);
- menu: baseline a USSD dial (a new session: `CON` and the menu); voice the main menu
  repeated (`9`) in a call (every option a spoken sentence).

Prints the median time per turn and the ratios voice / baseline, and writes
bench/results/voice.json. The machine is shared: only the ratios mean something.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import anyio
import httpx
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import write_result
from gateway.cli.simulate import in_process_gateway
from gateway.settings import Settings

GUARDIAN = "+212600000002"  # Naima: one child, Adam Z990000003 (14/03/2012)


class Caller:
    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http, self.settings = http, settings
        token = settings.twilio_auth_token
        self.validator = RequestValidator(token.get_secret_value() if token else "")

    async def post(self, url: str, sid: str, digits: str | None) -> str:
        form = {
            "CallSid": sid,
            "AccountSid": "AC" + "0" * 32,
            "From": GUARDIAN,
            "To": "+212800001122",
            "CallStatus": "in-progress",
            "Direction": "inbound",
        }
        if digits is not None:
            form["Digits"] = digits
        signature = self.validator.compute_signature(self.settings.public_url + url, form)
        response = await self.http.post(url, data=form, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, response.text  # noqa: S101 - a bench's sanity check
        return response.text

    @staticmethod
    def action(twiml: str) -> str:
        start = twiml.index('action="') + len('action="')
        return twiml[start : twiml.index('"', start)].replace("&amp;", "&")


async def ussd_dial(http: httpx.AsyncClient, settings: Settings) -> None:
    token = settings.at_ussd_token
    response = await http.post(
        "/channels/ussd/africastalking",
        params={"token": token.get_secret_value() if token else ""},
        data={
            "sessionId": f"ATUid_{uuid.uuid4().hex[:12]}",
            "serviceCode": "*2020#",
            "phoneNumber": GUARDIAN,
            "networkCode": "60400",
            "text": "",
        },
    )
    assert response.text.startswith("CON "), response.text  # noqa: S101


async def sms(http: httpx.AsyncClient, settings: Settings, caller: Caller, body: str) -> str:
    form = {"MessageSid": "SM" + uuid.uuid4().hex, "From": GUARDIAN, "To": "+212500000000",
            "Body": body, "AccountSid": "AC" + "0" * 32}  # fmt: skip
    url = "/channels/sms/twilio"
    signature = caller.validator.compute_signature(settings.public_url + url, form)
    response = await http.post(url, data=form, headers={"X-Twilio-Signature": signature})
    return response.text


async def call_to(caller: Caller, digits: tuple[str, ...]) -> tuple[str, list[str]]:
    """A call that pressed `digits` after choosing French: (its CallSid, its last action)."""
    sid = "CA" + uuid.uuid4().hex
    twiml = await caller.post("/channels/voice/twilio", sid, None)
    for keys in ("2", *digits):
        twiml = await caller.post(caller.action(twiml), sid, keys)
    return sid, [caller.action(twiml)]


def repeating(caller: Caller, sid: str, last: list[str], expect: str) -> object:
    """A turn that presses `9` at the call's last gather (each repeat is a new turn)."""

    async def repeat() -> None:
        twiml = await caller.post(last[0], sid, "9")
        assert expect in twiml, twiml  # noqa: S101
        last[0] = caller.action(twiml)

    return repeat


async def timed(turns: int, one: object) -> list[float]:
    times = []
    for _ in range(turns):
        started = time.perf_counter()
        await one()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return times


async def main(turns: int, rounds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="massar-bench-voice-") as tmp:
        settings = Settings(
            database_url=f"sqlite:///{tmp}/gateway.db",
            var_dir=Path(tmp),
            log_level="WARNING",
            log_file=Path(tmp) / "bench.log",
            rate_limit_per_minute=1_000_000,
        )
        async with in_process_gateway(settings) as http:
            caller = Caller(http, settings)
            await sms(http, settings, caller, "Z990000003 14032012")  # binds Adam
            assert "Adam" in await sms(http, settings, caller, "ABS")  # noqa: S101
            menu_sid, menu_last = await call_to(caller, ())
            content_sid, content_last = await call_to(caller, ("1", "990000003", "14032012"))
            kinds = {
                "sms_content": lambda: sms(http, settings, caller, "ABS"),
                "voice_content": repeating(caller, content_sid, content_last, "Adam a"),
                "ussd_menu": lambda: ussd_dial(http, settings),
                "voice_menu": repeating(caller, menu_sid, menu_last, "Services Massar."),
            }
            samples: dict[str, list[float]] = {name: [] for name in kinds}
            for one in kinds.values():  # warm-up: caches, catalogs, compiled regexes
                await timed(3, one)
            for _ in range(rounds):
                for name, one in kinds.items():
                    samples[name] += await timed(turns, one)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    return {
        **{f"{name}_median_ms": round(value * 1000, 2) for name, value in medians.items()},
        "voice_content_vs_sms": round(medians["voice_content"] / medians["sms_content"], 2),
        "voice_menu_vs_ussd": round(medians["voice_menu"] / medians["ussd_menu"], 2),
        "turns_per_kind": turns * rounds,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    figures = anyio.run(main, args.turns, args.rounds)
    write_result("voice", figures)
    width = max(len(name) for name in figures)
    for name, value in figures.items():
        print(f"{name:<{width}}  {value}")
