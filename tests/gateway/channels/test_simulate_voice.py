"""`python -m gateway simulate --channel voice`: what each `<Say>` speaks, keys typed as lines,
transfers and hang-ups shown."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from gateway.cli.simulate import converse
from gateway.settings import DEMO_AGENTS_NUMBER
from tests.gateway.channels.test_simulate import conversation
from tests.gateway.conftest import gateway_settings


@pytest.mark.anyio
async def test_voice_simulator_speaks_takes_keys_and_shows_the_transfer(
    tmp_path: Path, redis_url: str | None
) -> None:
    printed: list[str] = []
    await converse(
        "voice",
        "+212600000001",
        url=None,
        settings=gateway_settings(tmp_path, redis_url),
        lines=io.StringIO("2\n\n0\n1\n"),
        out=printed.append,
    )
    shown = conversation(printed)
    assert len(shown) == 9, shown
    languages, echo_lang, menu, echo_empty, silence, echo_agent, transfer, echo_again, again = shown
    assert echo_empty == "> "
    assert "[Polly.Zeina] للعربية، اضغط واحد." in languages.splitlines()
    assert languages.splitlines()[-1] == "[waiting for 1 key(s)]"
    assert echo_lang == "> 2"
    assert "[Polly.Lea] Services Massar." in menu.splitlines()
    assert silence.splitlines()[0] == "[Polly.Lea] Je n'ai pas entendu de touche."  # empty line
    assert echo_agent == "> 0"
    assert transfer.splitlines() == [
        "[Polly.Lea] Merci de patienter, un conseiller va vous répondre.",
        f"[transfer to {DEMO_AGENTS_NUMBER}]",
        "[Polly.Lea] Merci de votre appel. Au revoir.",
        "[hang up]",
    ]
    assert echo_again == "> 1"
    assert "[Polly.Zeina] خدمات مسار." in again.splitlines()  # a new call, in Arabic
