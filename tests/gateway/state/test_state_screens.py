"""A turn's screen as Redis keeps it (`gateway.state.screens`): every field comes back, what
the release before remembered is still read, and what cannot be read gives None, never an
error or a made-up screen."""

from __future__ import annotations

import json

import pytest
from twilio.twiml.messaging_response import MessagingResponse

from gateway.dialogs.model import Awaits, Lang, Option, Screen
from gateway.state.screens import decode_screen, encode_screen

XML = b'<?xml version="1.0" encoding="UTF-8"?>'
MENU = (
    Option(key="1", id="abs", label="الغياب"),
    Option(key="2", id="notes", label="Notes & résultats"),
    Option(key="0", id="menu", label="Menu"),
)


@pytest.mark.parametrize(
    "screen",
    [
        Screen(text=""),
        Screen(text="Menu", options=MENU),
        Screen(text="انتهت جلستك.", end=True, lang=Lang.AR),
        Screen(text="Code Massar ?", options=MENU[2:], awaits=Awaits.CODE, lang=Lang.FR),
        Screen(text='Youssef: 2 "absences"\n<b>', options=MENU, child="stu_42", lang=Lang.FR),
        Screen(text="x" * 2_000, awaits=Awaits.APPLICATION),
    ],
    ids=["empty", "menu", "end", "prompt", "child", "long"],
)
def test_every_field_comes_back(screen: Screen) -> None:
    raw = encode_screen(screen)
    assert decode_screen(raw) == screen
    assert json.loads(raw)["v"] == 1


def test_defaults_are_left_out_and_arabic_stays_readable() -> None:
    raw = encode_screen(Screen(text="القائمة"))
    assert raw == '{"v":1,"t":"القائمة"}'.encode()


def test_the_ussd_cores_answer_from_the_release_before_is_read() -> None:
    before = json.dumps([0, "Menu", [["1", "Absences"], ["2", "Notes"]]], ensure_ascii=False)
    screen = decode_screen(before.encode())
    assert screen == Screen(
        text="Menu",
        options=(
            Option(key="1", id="1", label="Absences"),
            Option(key="2", id="2", label="Notes"),
        ),
    )
    ended = decode_screen(json.dumps([1, "Fin", []]).encode())
    assert ended == Screen(text="Fin", end=True)


def test_the_chat_apps_answer_from_the_release_before_is_read() -> None:
    before = {"text": "Menu", "options": [["1", "abs", "Absences"]], "child": "stu_7"}
    screen = decode_screen(json.dumps(before).encode())
    assert screen == Screen(
        text="Menu", options=(Option(key="1", id="abs", label="Absences"),), child="stu_7"
    )
    bare = decode_screen(json.dumps({"text": "Merci", "options": []}).encode())
    assert bare == Screen(text="Merci")


def test_twilios_message_from_the_release_before_is_read_and_renders_the_same() -> None:
    from gateway.channels.twilio_sms import render

    twiml = MessagingResponse()
    twiml.message("Notes & <résultats>\n1. Absences")
    before = str(twiml)
    screen = decode_screen(before.encode())
    assert screen == Screen(text="Notes & <résultats>\n1. Absences")
    assert render(screen) == before  # a repeat across the deploy gets the same TwiML


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"CON Menu",
        b"not json {",
        b"42",
        b'"a string"',
        b"null",
        b"[1, 2]",
        b'{"v": 1}',
        b'{"v": 1, "t": "x", "a": "shoe size"}',
        b'{"v": 1, "t": "x", "l": "en"}',
        b'{"v": 1, "t": "x", "o": [["1", "abs"]]}',
        b'{"text": "x"}',
        XML + b"<Response><Gather/><Redirect>/x</Redirect></Response>",
        XML + b"<Response><Message>a</Message><Message>b</Message></Response>",
        b"\xff\xfe\x00",
    ],
    ids=[
        "empty",
        "wire",
        "broken-json",
        "number",
        "string",
        "null",
        "short-list",
        "no-text",
        "unknown-awaits",
        "unknown-lang",
        "short-option",
        "no-options",
        "voice-twiml",
        "two-messages",
        "not-utf8",
    ],
)
def test_what_cannot_be_read_gives_none(raw: bytes) -> None:
    assert decode_screen(raw) is None
