"""Every USSD screen of every reachable state fits one screen, in both languages.

A depth-first walk presses every option of every distinct screen (and types the demo codes
and dates at prompts), for a guardian with two children, one with one child and an unlinked
phone, in Arabic and in French. GSM-7 screens must fit 160 characters (AT's limit is 182);
Arabic screens, sent in UCS-2, 80 (CHANNELS.md §5).
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from gateway.text import is_gsm7, screen_length
from tests.gateway.conftest import UssdPhone

# What a user types at the prompts: the phone's own child's code and birth date, an
# application number and its birth date, and something wrong.
TYPED = {
    "+212600000001": ["Z990000002", "02052008", "20260000001", "01062020", "12345"],
    "+212600000002": ["Z990000003", "14032012", "20260000002", "20022020", "31022020"],
    "+212600000099": ["20260000001", "01062020", "Z990000001", "12345"],
}
OPTION = re.compile(r"^(\d)\. ", re.M)
MAX_SCREENS = 80
MAX_DEPTH = 7


def fits(screen: str) -> bool:
    body = screen[4:]  # "CON " / "END " are the protocol's, not the screen's
    limit = 160 if is_gsm7(body) else 80
    return screen_length(body) <= limit


@pytest.mark.parametrize(
    ("phone", "lang_key"),
    [
        ("+212600000001", "AR"),  # two children
        ("+212600000001", "FR"),
        ("+212600000002", "AR"),  # one child
        ("+212600000002", "FR"),
        ("+212600000099", "AR"),  # linked to no student
        ("+212600000099", "FR"),
    ],
)
def test_every_reachable_screen_fits(gateway: TestClient, phone: str, lang_key: str) -> None:
    seen: set[str] = set()
    too_long: list[str] = []

    def replay(path: list[str]) -> str:
        handset = UssdPhone(gateway, phone)
        screen = handset.dial()
        for key in path:
            screen = handset.press(key)
        return screen

    stack: list[list[str]] = [[lang_key]]
    while stack and len(seen) < MAX_SCREENS:
        path = stack.pop()
        screen = replay(path)
        if screen in seen:
            continue
        seen.add(screen)
        if not fits(screen):
            too_long.append(screen)
        if screen.startswith("END"):
            continue
        keys = OPTION.findall(screen)
        inputs = keys if keys != ["0"] else ["0", *TYPED[phone]]
        stack.extend([*path, key] for key in inputs if len(path) < MAX_DEPTH)
    assert not too_long, "\n\n".join(too_long)
    assert len(seen) > 5
