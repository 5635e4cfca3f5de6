"""Recorded prompts: a sentence whose recording exists is played, the gateway serves the file,
and `python -m gateway voice prompts` lists what to record (issue #14, item 4)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.channels.voice import texts
from gateway.channels.voice.prompts import (
    PROMPTS_ROUTE,
    all_prompts,
    fragment_hash,
    prompt_hash,
    word_hash,
)
from gateway.cli import main
from gateway.dialogs import spoken_texts
from tests.gateway.channels.voice_call import VoiceCall
from tests.gateway.conftest import PUBLIC_URL

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00fake mp3 frames"


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """A folder with one French recording: the main menu's title."""
    folder = tmp_path / "prompts"
    (folder / "fr").mkdir(parents=True)
    (folder / "fr" / f"{prompt_hash(spoken_texts.MAIN_TITLE)}.mp3").write_bytes(MP3)
    return folder


def test_a_recorded_prompt_is_played_and_the_rest_spoken(
    make_gateway: Callable[..., TestClient], recorded: Path
) -> None:
    client = make_gateway(voice_prompts_dir=recorded)
    call = VoiceCall(client, "+212600000001")
    call.start()
    menu = call.press("2")
    url = f"{PUBLIC_URL}{PROMPTS_ROUTE}/fr/{prompt_hash(spoken_texts.MAIN_TITLE)}.mp3"
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
    name = f"{prompt_hash(spoken_texts.MAIN_TITLE)}.mp3"
    assert make_gateway().get(f"{PROMPTS_ROUTE}/fr/{name}").status_code == 404


def test_the_listing_names_each_file_and_its_words(
    recorded: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GATEWAY_VOICE_PROMPTS_DIR", str(recorded))
    assert main(["voice", "prompts", "--lang", "fr"]) == 0
    lines = capsys.readouterr().out.splitlines()
    name = f"fr/{prompt_hash(spoken_texts.MAIN_TITLE)}.mp3"
    assert f"fr\t{name}\trecorded\tServices Massar." in lines
    assert all(line.startswith("fr\t") for line in lines)
    assert len(lines) == len([p for p in all_prompts() if p.lang == "fr"])
    assert main(["voice", "prompts", "--lang", "fr", "--missing"]) == 0
    missing = capsys.readouterr().out.splitlines()
    assert len(missing) == len(lines) - 1
    # No line asks a speaker to read digits or symbols aloud.
    assert not [line for line in lines if any(ch.isdigit() for ch in line.split("\t")[3])]


# --- Darija: no voice, recordings put together ---------------------------------------------


@pytest.fixture
def darija(tmp_path: Path) -> Path:
    """A Darija folder: the language prompt, the menu's title, the fixed part of an option
    sentence, and the words for one and two."""
    folder = tmp_path / "prompts"
    (folder / "darija").mkdir(parents=True)
    names = [
        prompt_hash(texts.FOR_DARIJA),
        prompt_hash(spoken_texts.MAIN_TITLE),
        fragment_hash("اضغط"),
        word_hash("واحد"),
        word_hash("اثنين"),
    ]
    for name in names:
        (folder / "darija" / f"{name}.mp3").write_bytes(MP3)
    return folder


def clip(name: str) -> str:
    return f"{PUBLIC_URL}{PROMPTS_ROUTE}/darija/{name}.mp3"


def test_a_darija_call_plays_recordings_put_together(
    make_gateway: Callable[..., TestClient], darija: Path
) -> None:
    client = make_gateway(voice_prompts_dir=darija)
    call = VoiceCall(client, "+212600000001")
    languages = call.start()
    assert clip(prompt_hash(texts.FOR_DARIJA)) in languages.plays()
    menu = call.press("3")
    verbs = [(v.tag, (v.text or "").strip()) for v in menu.gathers()[0]]
    assert verbs[:5] == [
        ("Play", clip(prompt_hash(spoken_texts.MAIN_TITLE))),  # a sentence recorded whole
        ("Say", "الغياب"),  # a label with no recording: the Arabic voice
        ("Play", clip(fragment_hash("اضغط"))),  # the fixed part of "<label>، اضغط <key>."
        ("Play", clip(word_hash("واحد"))),  # the key, a recorded word
        ("Say", "النقط"),
    ]
    assert all(s.get("voice") == "Polly.Zeina" for s in menu.root.iter("Say"))
    assert client.get(clip(word_hash("واحد")).removeprefix(PUBLIC_URL)).content == MP3


def test_darija_is_offered_only_with_its_recordings(
    make_gateway: Callable[..., TestClient],
) -> None:
    call = VoiceCall(make_gateway(), "+212600000001")
    languages = call.start()
    assert "للدارجة" not in languages.text()
    retry = call.press("3")  # not offered: the language menu again, as for any other key
    assert retry.says()[0][1] == "لم أسمع أي زر."
    assert "للعربية، اضغط واحد." in retry.text()


def test_the_darija_listing_names_what_a_call_plays(
    darija: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GATEWAY_VOICE_PROMPTS_DIR", str(darija))
    assert main(["voice", "prompts", "--lang", "darija"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    recorded = {(name, text) for _, name, mark, text in rows if mark == "recorded"}
    assert recorded == {
        (f"darija/{prompt_hash(texts.FOR_DARIJA)}.mp3", "للدارجة، اضغط ثلاثة."),
        (f"darija/{prompt_hash(spoken_texts.MAIN_TITLE)}.mp3", "خدمات مسار."),
        (f"darija/{fragment_hash('اضغط')}.mp3", "اضغط"),
        (f"darija/{word_hash('واحد')}.mp3", "واحد"),
        (f"darija/{word_hash('اثنين')}.mp3", "اثنين"),
    }
    words = {text for _, name, _, text in rows}
    assert {"أربعة", "عشر", "فاصلة", "الاثنين", "ماي", "عشرين"} <= words


def test_a_darija_call_hears_a_childs_absences_with_recorded_days_and_numbers(
    make_gateway: Callable[..., TestClient], darija: Path
) -> None:
    for word in ("الاثنين", "ثمانية", "عشر", "ماي"):
        (darija / "darija" / f"{word_hash(word)}.mp3").write_bytes(MP3)
    call = VoiceCall(make_gateway(voice_prompts_dir=darija), "+212600000001")
    call.start()
    call.press("3")
    call.press("1")  # absences: the check first, as in any language
    call.press("990000001")
    answer = call.press("14092018")
    verbs = [(v.tag, (v.text or "").strip()) for v in answer.gathers()[0]]
    assert any(tag == "Say" and "يوسف" in text for tag, text in verbs)  # the Arabic voice
    monday = [clip(word_hash(w)) for w in ("الاثنين", "ثمانية", "عشر", "ماي")]
    plays = [text for tag, text in verbs if tag == "Play"]
    assert any(plays[i : i + 4] == monday for i in range(len(plays))), verbs
