"""The terminal phone (`python -m gateway simulate`): it signs requests as each provider does
and talks to an in-process gateway and sandbox, so what it prints is what a handset shows; the
servers' logs go to a file it names on its first line, never to the terminal."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from gateway.cli.simulate import converse
from gateway.dialogs import texts
from gateway.i18n import translator
from tests.gateway.conftest import gateway_settings

ROOT = Path(__file__).resolve().parents[3]
LOG_LINE = re.compile(r"logs: (.+/simulate-\d{8}-\d{6}\.log)")
# What a server's log line holds, in either renderer, and never a screen.
LOG_MARKS = ("gateway starting", "request", "[info", "[warning", '{"')


def conversation(printed: list[str]) -> list[str]:
    """What the handset showed: without the `logs:` line and the simulator's own notes, such as
    "(messages not shown: /admin/messages answered 404)" from a gateway without the outbox."""
    assert LOG_LINE.fullmatch(printed[0]), printed[0]
    return [line for line in printed[1:] if not line.startswith("(")]


@pytest.mark.anyio
async def test_ussd_simulator_prints_the_menu_and_the_next_screen(
    tmp_path: Path, redis_url: str | None
) -> None:
    printed: list[str] = []
    await converse(
        "ussd",
        "+212600000001",
        url=None,
        settings=gateway_settings(tmp_path, redis_url),
        lines=io.StringIO("1\n"),
        out=printed.append,
    )
    ar = translator("ar")
    shown = conversation(printed)
    assert len(shown) == 3, printed
    menu, echo, screen = shown
    assert menu.startswith(f"CON {ar.gettext(texts.MAIN_TITLE)}\n1. {ar.gettext(texts.ABSENCES)}")
    assert echo == "> 1"
    assert screen == f"CON {ar.gettext(texts.ASK_CODE)}\n0. {ar.gettext(texts.MENU)}"


@pytest.mark.anyio
async def test_sms_simulator_prints_signed_replies(tmp_path: Path, redis_url: str | None) -> None:
    printed: list[str] = []
    await converse(
        "sms",
        "+212600000099",
        url=None,
        settings=gateway_settings(tmp_path, redis_url),
        lines=io.StringIO("PRE-2026-0000001 01062020\n"),
        out=printed.append,
    )
    echo, reply = conversation(printed)
    assert echo == "> PRE-2026-0000001 01062020"
    assert reply.startswith("PRE-2026-0000001: ")
    assert translator("ar").gettext(texts.STATUS_UNDER_REVIEW) in reply
    assert not reply.startswith("[")  # "[403] …" would mean the signature was refused


@pytest.mark.anyio
async def test_in_process_servers_log_to_the_named_file_and_not_to_the_terminal(
    tmp_path: Path, redis_url: str | None, capfd: pytest.CaptureFixture[str]
) -> None:
    printed: list[str] = []
    await converse(
        "ussd",
        "+212600000001",
        url=None,
        settings=gateway_settings(tmp_path, redis_url, log_level="INFO"),
        lines=io.StringIO("1\n"),
        out=printed.append,
    )
    terminal = capfd.readouterr()
    match = LOG_LINE.fullmatch(printed[0])
    assert match, printed
    log_file = Path(match.group(1))
    assert log_file.parent == tmp_path / "var"
    menu, echo, screen = conversation(printed)
    assert menu.startswith("CON ")
    assert echo == "> 1"
    assert screen.startswith("CON ")
    for text in [*printed, terminal.out, terminal.err]:
        for mark in LOG_MARKS:
            assert mark not in text, (mark, text)
    logged = await anyio.Path(log_file).read_text(encoding="utf-8")
    assert "gateway starting" in logged
    assert "[sandbox.access]" in logged  # the sandbox's lines (stdlib logging) are there too
    assert "+212600000001" not in logged  # the file is redacted like the terminal was


@pytest.mark.slow
def test_simulate_command_answers_aide_with_the_hotline(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "SANDBOX_"))}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "simulate",
            "--channel",
            "sms",
            "--phone",
            "+212600000099",
        ],
        input="AIDE\n",
        env={
            **env,
            "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path}/gateway.db",
            "GATEWAY_VAR_DIR": str(tmp_path / "var"),
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"logs: {tmp_path / 'var'}/simulate-")
    assert "> AIDE" in result.stdout
    assert "0800 00 11 22" in result.stdout
    assert result.stderr == ""  # no log line, no traceback
