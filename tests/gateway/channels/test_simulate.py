"""The terminal phone (`python -m gateway simulate`): it signs requests as each provider does
and talks to an in-process gateway and sandbox, so what it prints is what a handset shows."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.dialogs import texts
from gateway.i18n import translator
from gateway.simulate import converse
from tests.gateway.conftest import gateway_settings

ROOT = Path(__file__).resolve().parents[3]


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
    assert len(printed) == 3, printed
    menu, echo, screen = printed
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
    assert printed[0] == "> PRE-2026-0000001 01062020"
    assert printed[1].startswith("PRE-2026-0000001: ")
    assert translator("ar").gettext(texts.STATUS_UNDER_REVIEW) in printed[1]
    assert not printed[1].startswith("[")  # "[403] …" would mean the signature was refused


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
        env={**env, "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path}/gateway.db"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "> AIDE" in result.stdout
    assert "0800 00 11 22" in result.stdout
    assert "Traceback" not in result.stderr
