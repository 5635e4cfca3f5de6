"""Issue #25, "Done when": with a real Redis in GATEWAY_REDIS_URL, `make run` (`python -m gateway
demo`) delivers the USSD follow-up SMS and an alert, seen in /admin/messages, with no other
command: the demo's gateway sends and consumes the change feed in its own process.

The real command as a subprocess, on free ports, on the suite's Redis database (a key of its
own), with the sandbox seeded once per run; a USSD session whose answer is too slow (the
sandbox's injected latency) is promised by SMS; an absence recorded in the sandbox becomes an
alert. Stopped with SIGTERM, as a service manager would.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.dialogs import texts
from gateway.i18n import translator
from tests.conftest import REDIS_TIMEOUT_S
from tests.gateway.conftest import AT_TOKEN, PUBLIC_URL, TWILIO_TOKEN, SmsPhone, UssdPhone

pytestmark = [pytest.mark.redis, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
GUARDIAN = "+212600000001"  # Khadija: two children, Arabic
ADMIN = {"Authorization": "Bearer demo-admin-token"}  # the demo's own admin token
SANDBOX_ADMIN = {"Authorization": "Bearer sandbox-admin"}
SANDBOX_API = {"Authorization": "Bearer sandbox-token"}
START_WITHIN_S = 240.0
DELIVERED_WITHIN_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def eventually(check: Callable[[], Any], what: str, timeout_s: float) -> Any:
    """Poll the demo's processes (not a timing assertion): `check`'s first truthy answer."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.2)


def answers(url: str, headers: dict[str, str] | None = None) -> bool:
    try:
        return httpx.get(url, headers=headers, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def start_line(log: Path) -> dict[str, Any] | None:
    for line in log.read_text().splitlines() if log.exists() else []:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("event") == "start":
            return record
    return None


def test_make_run_on_a_real_redis_delivers_the_follow_up_and_an_alert(
    tmp_path: Path, redis_url: str | None, sandbox_database: str
) -> None:
    if redis_url is None:
        pytest.skip("needs a Redis server: the point is GATEWAY_REDIS_URL set")
    sandbox_port, gateway_port = free_port(), free_port()
    log = tmp_path / "gateway.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "SANDBOX_"))}
    env.update(
        SANDBOX_PORT=str(sandbox_port),
        SANDBOX_DATABASE_URL=sandbox_database,  # seeded once per run, copied for this test
        GATEWAY_PORT=str(gateway_port),
        GATEWAY_REDIS_URL=redis_url,
        GATEWAY_REDIS_TIMEOUT_S=str(REDIS_TIMEOUT_S),
        GATEWAY_DATABASE_URL=f"sqlite:///{tmp_path}/gateway.db",
        GATEWAY_IDENTITY_KEY=f"demo-test-{uuid.uuid4().hex}",  # Redis keys of its own
        GATEWAY_PUBLIC_URL=PUBLIC_URL,  # what the handsets below sign
        GATEWAY_AT_USSD_TOKEN=AT_TOKEN,
        GATEWAY_TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        GATEWAY_QUIET_HOURS="none",  # an alert goes out at once, whatever the hour
        GATEWAY_LOG_FORMAT="json",
        GATEWAY_LOG_FILE=str(log),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "demo"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    try:
        eventually(
            lambda: proc.poll() is not None or answers(f"{gateway_url}/readyz"),
            "the demo's gateway ready",
            START_WITHIN_S,
        )
        assert proc.poll() is None, proc.communicate(timeout=30)[0].decode()
        line = start_line(log)
        assert line is not None
        assert line["redis"] == redis_url.split("//")[1]
        assert (line["sends"], line["alerts"]) == ("yes, in-process", "yes, in-process")

        with httpx.Client(base_url=gateway_url, timeout=30) as gateway:
            follow_up = _a_slow_ussd_answer_follows_by_sms(gateway, sandbox_url)
            assert follow_up["status"] == "sent"
            assert follow_up["text"]
            alert = _an_absence_alerts_the_guardian(gateway, sandbox_url, tmp_path)
            assert alert["status"] == "sent"
            assert "08:30" in alert["text"]

        proc.send_signal(signal.SIGTERM)  # the demo's own process: it stops both servers
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    output = proc.communicate(timeout=30)[0].decode()
    assert "Traceback" not in output + log.read_text()
    assert not answers(f"{gateway_url}/healthz")


def _messages(gateway: httpx.Client, kind: str) -> list[dict[str, Any]]:
    reply = gateway.get("/admin/messages", params={"to": GUARDIAN}, headers=ADMIN)
    assert reply.status_code == 200, reply.text
    return [m for m in reply.json()["items"] if m["kind"] == kind and m["status"] == "sent"]


def _chaos(sandbox_url: str, latency_ms: int) -> None:
    body = {"latency_median_ms": latency_ms, "latency_p99_ms": latency_ms}
    reply = httpx.put(f"{sandbox_url}/_sandbox/chaos", json=body, headers=SANDBOX_ADMIN)
    assert reply.status_code == 200, reply.text


def _a_slow_ussd_answer_follows_by_sms(gateway: httpx.Client, sandbox_url: str) -> dict[str, Any]:
    SmsPhone(gateway, GUARDIAN).send("Z990000001 14092018")  # type: ignore[arg-type]
    phone = UssdPhone(gateway, GUARDIAN)  # type: ignore[arg-type]
    phone.dial()
    phone.press("1")  # Absences: which child
    _chaos(sandbox_url, 3000)  # past the USSD budget (2 s), within a follow-up's (10 s a call)
    try:
        screen = phone.press("1")
    finally:
        _chaos(sandbox_url, 0)
    assert screen == "END " + translator("ar").gettext(texts.ANSWER_BY_SMS)
    [sent] = eventually(lambda: _messages(gateway, "followup"), "the follow-up SMS", 60)
    return dict(sent)


def _an_absence_alerts_the_guardian(
    gateway: httpx.Client, sandbox_url: str, tmp_path: Path
) -> dict[str, Any]:
    import sqlalchemy as sa

    from gateway.state.schema import alert_cursor

    engine = sa.create_engine(f"sqlite:///{tmp_path}/gateway.db")

    def cursor() -> str | None:
        with engine.connect() as conn:
            return conn.execute(sa.select(alert_cursor.c.cursor)).scalar_one_or_none()

    try:
        eventually(cursor, "the alerts consumer at the feed's head", DELIVERED_WITHIN_S)
    finally:
        engine.dispose()
    found = httpx.post(
        f"{sandbox_url}/api/v1/guardians/lookup", json={"phone": GUARDIAN}, headers=SANDBOX_API
    ).json()
    child = found["students"][1]["id"]
    body = {"student_id": child, "date": "2026-05-20", "start_time": "08:30", "hours": 1}
    made = httpx.post(f"{sandbox_url}/_sandbox/absences", json=body, headers=SANDBOX_ADMIN)
    assert made.status_code == 201, made.text
    [sent] = eventually(lambda: _messages(gateway, "alert"), "the alert", DELIVERED_WITHIN_S)
    return dict(sent)
