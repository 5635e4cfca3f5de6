"""Recorded prompts: a sentence whose recording exists is played, the gateway serves the file,
and `python -m gateway voice prompts` lists what to record (issue #14, item 4)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.channels.voice.prompts import PROMPTS_ROUTE, all_prompts, prompt_hash
from gateway.cli import main
from gateway.dialogs import spoken
from tests.gateway.channels.voice_call import VoiceCall
from tests.gateway.conftest import PUBLIC_URL

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00fake mp3 frames"


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """A folder with one French recording: the main menu's title."""
    folder = tmp_path / "prompts"
    (folder / "fr").mkdir(parents=True)
    (folder / "fr" / f"{prompt_hash(spoken.MAIN_TITLE)}.mp3").write_bytes(MP3)
    return folder


def test_a_recorded_prompt_is_played_and_the_rest_spoken(
    make_gateway: Callable[..., TestClient], recorded: Path
) -> None:
    client = make_gateway(voice_prompts_dir=recorded)
    call = VoiceCall(client, "+212600000001")
    call.start()
    menu = call.press("2")
    url = f"{PUBLIC_URL}{PROMPTS_ROUTE}/fr/{prompt_hash(spoken.MAIN_TITLE)}.mp3"
    assert menu.plays() == [url]
    assert "Services Massar." not in menu.text()  # played, not said
    assert "Pour Absences, tapez un." in menu.text()
    arabic = VoiceCall(client, "+212600000001")
    arabic.start()
    assert arabic.press("1").plays() == []  # no Arabic recording: spoken
    response = client.get(url.removeprefix(PUBLIC_URL))
    assert response.status_code == 200
    assert response.content == MP3
    assert response.headers["content-type"] == "audio/mpeg"


@pytest.mark.parametrize(
    "path",
    ["/fr/..%2F..%2Fetc%2Fpasswd", "/fr/0000000000000000.mp3", "/xx/whatever.mp3", "/fr/a.wav"],
)
def test_only_recordings_are_served(
    make_gateway: Callable[..., TestClient], recorded: Path, path: str
) -> None:
    client = make_gateway(voice_prompts_dir=recorded)
    assert client.get(PROMPTS_ROUTE + path).status_code == 404


def test_without_a_folder_nothing_is_served(make_gateway: Callable[..., TestClient]) -> None:
    name = f"{prompt_hash(spoken.MAIN_TITLE)}.mp3"
    assert make_gateway().get(f"{PROMPTS_ROUTE}/fr/{name}").status_code == 404


def test_the_listing_names_each_file_and_its_words(
    recorded: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GATEWAY_VOICE_PROMPTS_DIR", str(recorded))
    assert main(["voice", "prompts", "--lang", "fr"]) == 0
    lines = capsys.readouterr().out.splitlines()
    name = f"fr/{prompt_hash(spoken.MAIN_TITLE)}.mp3"
    assert f"fr\t{name}\trecorded\tServices Massar." in lines
    assert all(line.startswith("fr\t") for line in lines)
    assert len(lines) == len([p for p in all_prompts() if p.lang == "fr"])
    assert main(["voice", "prompts", "--lang", "fr", "--missing"]) == 0
    missing = capsys.readouterr().out.splitlines()
    assert len(missing) == len(lines) - 1
    # No line asks a speaker to read digits or symbols aloud.
    assert not [line for line in lines if any(ch.isdigit() for ch in line.split("\t")[3])]
