"""`python -m gateway`: production refuses demo secrets; `migrate` brings the database to the
newest revision or says in one line why not; `serve --workers 4` starts on a fresh database
every time (its parent migrates, no worker creates a table); `demo` (what `make run` runs)
starts the sandbox and the gateway, and one Ctrl-C stops both."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import redirect_stdout
from pathlib import Path

import httpx
import pytest

from gateway.state.migrate import head_revision
from tests.conftest import REAL_REDIS, REDIS_URL

ROOT = Path(__file__).resolve().parents[3]
SERVE_WAIT_S = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "gateway", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


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


def test_migrate_brings_the_database_to_the_newest_revision(tmp_path: Path) -> None:
    env = _clean_env(GATEWAY_DATABASE_URL=f"sqlite:///{tmp_path}/var/gateway.db")
    line = f"massar-gateway: database schema at revision {head_revision()} (the newest)\n"
    first = _run("migrate", env=env)
    assert (first.returncode, first.stdout, first.stderr) == (0, line, "")
    again = _run("migrate", env=env)  # nothing left to do: the same line
    assert (again.returncode, again.stdout, again.stderr) == (0, line, "")


@pytest.mark.parametrize("command", ["migrate", "serve"])
@pytest.mark.parametrize(
    "database_url",
    [
        "postgresql+psycopg://gateway@127.0.0.1:1/gateway",
        "not a database url",
        "mysql://gateway:secret@127.0.0.1/gateway",
    ],
    ids=["nothing-listens", "not-a-url", "unsupported-driver"],
)
def test_a_database_that_cannot_be_migrated_is_one_line_and_exit_1(
    command: str, database_url: str
) -> None:
    result = _run(command, env=_clean_env(GATEWAY_DATABASE_URL=database_url))
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("massar-gateway: cannot migrate the database: ")
    assert "Traceback" not in result.stderr
    assert "secret" not in result.stderr


def test_version_and_a_one_line_help_for_every_subcommand() -> None:
    env = _clean_env()
    version = _run("--version", env=env)
    assert version.returncode == 0
    assert version.stdout.startswith("massar-gateway ")
    from gateway.cli import main

    commands = [
        ["serve"], ["migrate"], ["demo"], ["worker"], ["simulate"], ["unmatched"],
        ["understand"], ["voice"], ["voice", "prompts"], ["alerts"], ["telegram"],
        ["telegram", "set-webhook"], ["operators"], ["operators", "add"],
    ]  # fmt: skip
    for command in commands:
        with pytest.raises(SystemExit) as done, redirect_stdout(io.StringIO()) as out:
            main([*command, "--help"])
        assert done.value.code == 0
        text = out.getvalue()
        description = text.split("\n\n")[1].strip()  # after the usage paragraph
        assert description, (command, text)
        assert not description.startswith(("options:", "positional")), (command, text)


def test_a_sender_worker_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    env = _clean_env(
        GATEWAY_DATABASE_URL=f"sqlite:///{tmp_path}/gateway.db",
        GATEWAY_REDIS_URL="redis://127.0.0.1:1/0",  # development: a Redis down only warns
        GATEWAY_LOG_FILE=str(tmp_path / "worker.log"),  # the warning goes there
    )
    result = _run("worker", env=env)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        "massar-gateway: the database schema is at no revision, this release needs revision "
        f"{head_revision()}: run `python -m gateway migrate` before starting the gateway"
    ]


def _events(output: str) -> list[str]:
    """The `event` of each JSON log line in `output`."""
    events = []
    for line in output.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            events.append(str(record.get("event")))
    return events


@pytest.mark.slow
def test_serve_with_four_workers_starts_on_a_fresh_database_every_time(
    tmp_path: Path, redis_url: str | None
) -> None:
    """Each worker used to create the tables: one start in four failed with "table
    phone_binding already exists", and uvicorn stopped the whole server."""
    if redis_url is None:
        pytest.skip("needs a Redis server: several workers refuse the in-process stand-in")
    workers = 4
    for attempt in range(3):
        port = _free_port()
        env = _clean_env(
            GATEWAY_DATABASE_URL=f"sqlite:///{tmp_path}/{attempt}/gateway.db",
            GATEWAY_LOG_FORMAT="json",
            GATEWAY_REDIS_URL=redis_url,
        )
        log_path = tmp_path / f"serve-{attempt}.log"
        with log_path.open("wb") as log_file:
            proc = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "gateway", "serve", "--workers", str(workers),
                 "--port", str(port)],
                env=env,
                cwd=ROOT,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            try:
                started, healthy = 0, False
                deadline = time.monotonic() + SERVE_WAIT_S
                while proc.poll() is None and time.monotonic() < deadline:
                    started = _events(log_path.read_text()).count("gateway starting")
                    healthy = healthy or _answers(f"http://127.0.0.1:{port}/healthz")
                    if healthy and started == workers:
                        break
                    time.sleep(0.2)
                output = log_path.read_text()
                assert proc.poll() is None, f"start {attempt}: the server stopped\n{output}"
                assert healthy, f"start {attempt}: /healthz never answered\n{output}"
                assert started == workers, f"start {attempt}: {started} workers\n{output}"
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(timeout=SERVE_WAIT_S) == 0, log_path.read_text()
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        output = log_path.read_text()
        assert "database migrated" in _events(output)
        assert "already exists" not in output
        assert "Traceback" not in output


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


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
        assert ready.json()["info"]["backend"]["ok"] is True
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


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        (
            "GATEWAY_QUIET_HOURS",
            "21:00",
            "massar-gateway: Value error, quiet hours look like 21:00-07:00, or none",
        ),
        (
            "GATEWAY_USSD_KANNEL_OPS",
            "new=256",
            "massar-gateway: Value error, USSD op new must fit one octet: 256",
        ),
    ],
)
def test_a_value_its_reader_refuses_stops_the_start_in_one_line(
    tmp_path: Path, variable: str, value: str, line: str
) -> None:
    """Settings keep these as text; the start reads them, before anything opens."""
    env = _clean_env(GATEWAY_DATABASE_URL=f"sqlite:///{tmp_path}/gateway.db", **{variable: value})
    for command in ("serve", "worker", "alerts"):
        result = _run(command, env=env)
        assert (result.returncode, result.stdout) == (2, ""), result.stderr
        assert result.stderr.splitlines() == [line]
    assert not (tmp_path / "gateway.db").exists()  # refused before migrating anything


@pytest.mark.slow
def test_the_worker_and_the_alerts_consumer_serve_their_metrics_and_stop_on_sigterm(
    tmp_path: Path,
) -> None:
    """What deploy/prometheus/prometheus.yml scrapes (the units' --metrics-port): the sender
    worker's backlog gauges, the consumer's lag, each on its own port; SIGTERM ends both."""
    if not REAL_REDIS:
        pytest.skip("needs a Redis server: the processes cannot share the in-process stand-in")
    env = _clean_env(
        GATEWAY_DATABASE_URL=f"sqlite:///{tmp_path}/gateway.db",
        GATEWAY_REDIS_URL=REDIS_URL,
        GATEWAY_IDENTITY_KEY=f"metrics-test-{uuid.uuid4().hex}",
        GATEWAY_BACKEND_URL=f"http://127.0.0.1:{_free_port()}/api/v1",  # down: no matter
        GATEWAY_LOG_LEVEL="WARNING",
    )
    assert _run("migrate", env=env).returncode == 0
    wanted = {
        "worker": 'massar_outbox_backlog{priority="bulk"}',
        "alerts": "massar_alerts_last_read_timestamp_seconds",
    }
    procs: dict[str, subprocess.Popen[bytes]] = {}
    ports = {command: _free_port() for command in wanted}
    try:
        for command, port in ports.items():
            procs[command] = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "gateway", command, "--metrics-port", str(port)],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        for command, port in ports.items():
            deadline = time.monotonic() + SERVE_WAIT_S
            while True:  # a bound that fails, not a measure of speed
                assert procs[command].poll() is None, f"{command} stopped"
                try:
                    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
                except httpx.TransportError:
                    text = ""
                if wanted[command] in text:
                    break
                assert time.monotonic() < deadline, f"{command}: no {wanted[command]}"
                time.sleep(0.2)
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        codes = {command: proc.wait(timeout=60) for command, proc in procs.items()}
    assert codes == {"worker": 0, "alerts": 0}
