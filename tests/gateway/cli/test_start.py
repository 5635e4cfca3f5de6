"""Start-up tells the truth (issue #25): the real commands, as subprocesses.

`worker`, `alerts` and `serve --workers 2` refuse the in-process stand-in in one line; each
command logs one line naming its Redis, database (no password) and backend and what it does;
production refuses a Redis that forgets (no AOF, no save rule), evicts (any volatile-*/allkeys-*
policy), does not answer, or refuses CONFIG GET without GATEWAY_REDIS_MANAGED_ACK, against
real `redis-server` processes started here; development starts with a warning.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.migrate import upgrade
from tests.gateway.test_settings import STRONG
from tests.redis_servers import free_port, redis_server

ROOT = Path(__file__).resolve().parents[3]
SECRET = "Redis-Pa55word-that-never-shows"
WAIT_S = 60.0


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "SANDBOX_"))}
    env.update(extra)
    return env


def production_env(tmp_path: Path, redis_url: str, **extra: str) -> dict[str, str]:
    """Production settings that start (tests/gateway/test_settings.py's), on `redis_url` and a
    migrated SQLite database, logging JSON to a file."""
    database = f"sqlite:///{tmp_path}/gateway.db"
    upgrade(database)
    values = {f"GATEWAY_{name.upper()}": value for name, value in STRONG.items()}
    values.update(
        GATEWAY_REDIS_URL=redis_url,
        GATEWAY_DATABASE_URL=database,
        GATEWAY_LOG_FILE=str(tmp_path / "gateway.log"),
        GATEWAY_BACKEND_URL=f"http://127.0.0.1:{free_port()}/api/v1",  # nothing listens
        **extra,
    )
    return clean_env(**values)


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "gateway", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    found = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            found.append(record)
    return found


def event(path: Path, name: str) -> dict[str, Any] | None:
    return next((r for r in records(path) if r.get("event") == name), None)


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def start_and_stop(
    procs: list[subprocess.Popen[str]], args: list[str], env: dict[str, str], log: Path
) -> tuple[dict[str, Any], str]:
    """Start a command, wait for its start line in `log`, SIGTERM it: the start line and what
    it wrote on stderr. It must stop cleanly."""
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gateway", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    procs.append(proc)
    deadline = time.monotonic() + WAIT_S
    while (line := event(log, "start")) is None:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no start line"
        time.sleep(0.1)
    time.sleep(0.5)  # let it take up its work before it is told to stop
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=WAIT_S)
    assert proc.returncode in (0, -signal.SIGTERM), stderr  # uvicorn re-raises the signal
    assert "Traceback" not in stderr
    return line, stdout + stderr


@pytest.mark.parametrize(
    "args",
    [["worker"], ["alerts"], ["serve", "--workers", "2"]],
    ids=["worker", "alerts", "serve-workers-2"],
)
def test_a_command_other_processes_must_share_redis_with_refuses_the_stand_in(
    tmp_path: Path, args: list[str]
) -> None:
    env = clean_env(GATEWAY_DATABASE_URL=f"sqlite:///{tmp_path}/var/gateway.db")
    result = run(*args, env=env)
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    command = " ".join(["gateway", *args])
    assert result.stderr.splitlines() == [
        f"massar-gateway: {command} needs a Redis every process reaches: set "
        "GATEWAY_REDIS_URL (without it each process has an in-process stand-in of its own)"
    ]
    assert not (tmp_path / "var").exists()  # refused before anything was migrated


@pytest.mark.slow
def test_serve_on_the_stand_in_says_it_sends_and_consumes_alerts_itself(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    port = free_port()
    log = tmp_path / "gateway.log"
    env = clean_env(
        GATEWAY_DATABASE_URL=f"sqlite:///{tmp_path}/gateway.db",
        GATEWAY_LOG_FORMAT="json",
        GATEWAY_LOG_FILE=str(log),
    )
    line, _ = start_and_stop(started, ["serve", "--port", str(port)], env, log)
    assert {k: line[k] for k in ("command", "redis", "database", "backend")} == {
        "command": "serve",
        "redis": "in-process stand-in (fakeredis)",
        "database": f"sqlite:///{tmp_path}/gateway.db",
        "backend": "http://127.0.0.1:8100/api/v1",
    }
    assert line["serves"] == f"http://127.0.0.1:{port} (1 process)"
    assert (line["sends"], line["alerts"]) == ("yes, in-process", "yes, in-process")


@pytest.mark.slow
def test_serve_on_a_real_redis_says_who_sends(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    log = tmp_path / "gateway.log"
    with redis_server(tmp_path / "redis", appendonly="yes", password=SECRET) as url:
        env = clean_env(
            GATEWAY_REDIS_URL=url,
            GATEWAY_DATABASE_URL=f"postgresql+psycopg://gateway:{SECRET}@127.0.0.1:1/gw",
            GATEWAY_LOG_FORMAT="json",
            GATEWAY_LOG_FILE=str(log),
        )
        refused = run("serve", "--port", str(free_port()), env=env)
        assert refused.returncode == 1  # the database does not answer: it cannot migrate
        env["GATEWAY_DATABASE_URL"] = f"sqlite:///{tmp_path}/gateway.db"
        line, output = start_and_stop(started, ["serve", "--port", str(free_port())], env, log)
    assert line["redis"] == url.split("@")[1]  # 127.0.0.1:PORT/0
    assert line["sends"] == "no: run `gateway worker`"
    assert line["alerts"] == "no: run `gateway alerts`"
    for text in (output, refused.stdout, refused.stderr, log.read_text()):
        assert SECRET not in text


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"appendonly": "no", "save": ""}, "does not persist (appendonly no, no save rule)"),
        ({"appendonly": "yes", "policy": "allkeys-lru"}, "has maxmemory-policy allkeys-lru"),
        ({"appendonly": "yes", "policy": "volatile-lru"}, "has maxmemory-policy volatile-lru"),
        ({"config_refused": "renamed"}, "refuses CONFIG GET"),
        ({"config_refused": "acl"}, "refuses CONFIG GET"),
    ],
    ids=["no-persistence", "allkeys-lru", "volatile-lru", "config-renamed", "config-acl"],
)
@pytest.mark.parametrize("command", ["worker", "alerts"])
def test_production_refuses_a_redis_that_forgets_or_evicts(
    tmp_path: Path, command: str, config: dict[str, str], words: str
) -> None:
    with redis_server(tmp_path / "redis", password=SECRET, **config) as url:
        where = url.split("@")[1]
        result = run(command, env=production_env(tmp_path, url))
    assert (result.returncode, result.stdout) == (1, ""), result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"massar-gateway: Redis at {where} {words}")
    assert SECRET not in result.stderr
    assert event(tmp_path / "gateway.log", "start") is None  # refused before its start line


def test_production_refuses_a_redis_that_does_not_answer(tmp_path: Path) -> None:
    url = f"redis://:{SECRET}@127.0.0.1:{free_port()}/3"
    result = run("worker", env=production_env(tmp_path, url))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"massar-gateway: Redis at {url.split('@')[1]} does not answer (ConnectionError); "
        "turns answer 'busy' and nothing is sent until it does"
    ]


@pytest.mark.slow
def test_serve_in_production_refuses_an_evicting_redis_after_migrating(tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis", appendonly="yes", policy="allkeys-lfu") as url:
        result = run("serve", "--port", str(free_port()), env=production_env(tmp_path, url))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith(
        f"massar-gateway: Redis at {url.split('//')[1]} has maxmemory-policy allkeys-lfu"
    )


@pytest.mark.slow
@pytest.mark.parametrize("how", ["renamed", "acl"])
def test_production_starts_on_a_managed_redis_it_was_told_about(
    tmp_path: Path, how: str, started: list[subprocess.Popen[str]]
) -> None:
    log = tmp_path / "gateway.log"
    with redis_server(tmp_path / "redis", config_refused=how, password=SECRET) as url:
        env = production_env(tmp_path, url, GATEWAY_REDIS_MANAGED_ACK="true")
        line, output = start_and_stop(started, ["worker"], env, log)
    assert (line["command"], line["sends"], line["serves"]) == ("worker", "yes", "no")
    assert [r for r in records(log) if r.get("level") == "warning"] == []
    assert SECRET not in output + log.read_text()


@pytest.mark.slow
def test_production_starts_on_snapshots_and_names_the_risk(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    log = tmp_path / "gateway.log"
    with redis_server(tmp_path / "redis", appendonly="no", save="3600 1 300 100") as url:
        line, _ = start_and_stop(started, ["alerts"], production_env(tmp_path, url), log)
    assert (line["command"], line["alerts"], line["sends"]) == (
        "alerts",
        "yes",
        "no: `gateway worker` sends",
    )
    [warning] = [r for r in records(log) if r.get("event") == "start_check"]
    assert warning["level"] == "warning"
    assert warning["check"] == "redis_persistence"
    assert "snapshots only (after 1 write in 3600 s, 100 writes in 300 s)" in warning["detail"]


@pytest.mark.slow
def test_development_starts_on_a_redis_that_forgets_with_a_warning(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    log = tmp_path / "gateway.log"
    database = f"sqlite:///{tmp_path}/gateway.db"
    upgrade(database)
    with redis_server(tmp_path / "redis", appendonly="no", save="", policy="allkeys-lru") as url:
        env = clean_env(
            GATEWAY_REDIS_URL=url,
            GATEWAY_DATABASE_URL=database,
            GATEWAY_LOG_FORMAT="json",
            GATEWAY_LOG_FILE=str(log),
        )
        line, _ = start_and_stop(started, ["worker"], env, log)
    checks = [r["check"] for r in records(log) if r.get("event") == "start_check"]
    assert checks == ["redis_persistence", "redis_eviction"]
    assert line["redis"] == url.split("//")[1]
    assert line["database"] == database
    assert (line["serves"], line["sends"], line["alerts"]) == ("no", "yes", "no")
