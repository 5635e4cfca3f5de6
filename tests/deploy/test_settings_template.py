"""`deploy/gateway.env.example` is `python -m gateway settings --template`: every `GATEWAY_*`
variable once, with its one-line help and a default that `Settings` reads back as its
default; secrets shown empty, never the demo's values."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.settings import DEMO_SECRETS, Settings
from gateway.settings.help import HELP
from gateway.settings.secrets import COMMAND, SELF_CHOSEN
from gateway.settings.template import env_value, is_secret, listed, template

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "gateway.env.example"
LINE = re.compile(r"#(GATEWAY_[A-Z0-9_]+)=(.*)")


def _variables(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.splitlines():
        if match := LINE.fullmatch(line):
            assert match[1] not in found, f"{match[1]} listed twice"
            found[match[1]] = match[2]
    return found


def test_the_example_is_what_the_command_prints() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "gateway", "settings", "--template"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert printed == template()
    assert EXAMPLE.read_text() == printed, (
        "deploy/gateway.env.example drifted from the settings: "
        "python -m gateway settings --template > deploy/gateway.env.example"
    )


def test_the_command_needs_a_form() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "settings"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "--template" in done.stderr


def test_every_setting_has_one_line_of_help_and_nothing_else_does() -> None:
    assert set(HELP) == set(Settings.model_fields)
    assert sorted(listed()) == sorted(Settings.model_fields)  # each once, in a section
    for name, text in HELP.items():
        assert text.strip(), name
        assert "\n" not in text, name
        assert len(text) <= 140, f"{name}: one line, please"


def test_every_variable_is_listed_once_after_its_help() -> None:
    text = template()
    variables = _variables(text)
    assert set(variables) == {f"GATEWAY_{name.upper()}" for name in Settings.model_fields}
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if match := LINE.fullmatch(line):
            name = match[1].removeprefix("GATEWAY_").lower()
            assert lines[index - 1].startswith(f"# {HELP[name]}"), name


def test_secrets_are_empty_and_say_how_to_get_one() -> None:
    text = template()
    variables = _variables(text)
    secrets = [name for name, field in Settings.model_fields.items() if is_secret(field)]
    assert {"admin_token", "identity_key", "backend_token", "metrics_token"} <= set(secrets)
    lines = text.splitlines()
    for name in secrets:
        variable = f"GATEWAY_{name.upper()}"
        assert variables[variable] == "", f"{variable} shows a value"
        help_line = lines[lines.index(f"#{variable}=") - 1]
        if name in SELF_CHOSEN:
            assert COMMAND in help_line
    # An attack on the template: a demo secret copied into a deployment's file.
    for value in DEMO_SECRETS:
        assert value not in text


def test_every_default_shown_is_read_back_as_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("GATEWAY_")]:
        monkeypatch.delenv(key)
    defaults = Settings()
    checked = 0
    for variable, value in _variables(template()).items():
        name = variable.removeprefix("GATEWAY_").lower()
        if value == "":  # unset: the default is None or empty, or a secret
            field = Settings.model_fields[name]
            assert is_secret(field) or env_value(getattr(defaults, name)) == "", name
            continue
        with monkeypatch.context() as env:
            env.setenv(variable, value)
            assert getattr(Settings(), name) == getattr(defaults, name), variable
        checked += 1
    assert checked > 80
