"""`python -m gateway`: production refuses demo secrets; `demo` (what `make run` runs) starts
the sandbox and the gateway, and one Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "SANDBOX_"))}
    env.update(extra)
    return env


def test_production_start_refuses_demo_secrets() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "serve"],
        env=_clean_env(GATEWAY_ENV="production", GATEWAY_REDIS_URL="redis://127.0.0.1:6379/0"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "GATEWAY_TWILIO_AUTH_TOKEN holds a demo value" in result.stderr
    assert "GATEWAY_BACKEND_TOKEN holds a demo value" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_demo_starts_both_servers_and_ctrl_c_stops_them(tmp_path: Path) -> None:
    sandbox_port, gateway_port = _free_port(), _free_port()
    env = _clean_env(
        SANDBOX_PORT=str(sandbox_port),
        GATEWAY_PORT=str(gateway_port),
        SANDBOX_DATABASE_URL=f"sqlite:///{tmp_path}/sandbox.db",
        GATEWAY_DATABASE_URL=f"sqlite:///{tmp_path}/gateway.db",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "demo"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        ready = None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{gateway_port}/readyz", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert ready is not None, "the gateway never answered"
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["backend"]["ok"] is True
        # Ctrl-C in a terminal signals the whole foreground process group.
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        output = proc.communicate(timeout=30)[0].decode()
    assert not _port_open(sandbox_port)
    assert not _port_open(gateway_port)
    assert "in-process stand-in (fakeredis)" in output
    assert "Traceback" not in output
