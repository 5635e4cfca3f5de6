"""The state diagram in gateway/dialogs/README.md names every state of the engine."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.dialogs.conversation import State
from gateway.dialogs.engine import INPUT_HANDLERS, SCREENS

README = Path(__file__).resolve().parents[2] / "gateway" / "dialogs" / "README.md"
EDGE = re.compile(r"^\s*(\[\*\]|\w+) --> (\w+)", re.M)


def test_diagram_and_engine_name_the_same_states() -> None:
    text = README.read_text()
    nodes = {name for edge in EDGE.findall(text) for name in edge if name != "[*]"}
    assert nodes == {state.value for state in State}


def test_every_state_has_a_screen_and_handlers_only_for_prompts() -> None:
    assert set(SCREENS) == set(State)
    assert set(INPUT_HANDLERS) <= set(State)
