"""What the benchmarks share: wrk, free loopback ports, servers started as subprocesses.

Every benchmark runs on loopback only, starts its own servers on free ports and stops them
(by process id) when it ends, whatever happened.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
AT_TOKEN = "demo-at-ussd-token"  # noqa: S105 - the demo default of GATEWAY_AT_USSD_TOKEN
SANDBOX_ADMIN = "sandbox-admin"
USSD_PATH = f"/channels/ussd/africastalking?token={AT_TOKEN}"
FORM = "application/x-www-form-urlencoded"


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian (apt-get) when missing, and says so."""
    path = shutil.which("wrk")
    if path:
        return path
    print("wrk is missing: installing it from Debian (apt-get install wrk)")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return shutil.which("wrk") or "wrk"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env() -> dict[str, str]:
    """This environment without any GATEWAY_* or SANDBOX_* variable of the caller."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "SANDBOX_"))}


def wait_ok(url: str, timeout_s: float = 120, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"the server for {url} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout_s:.0f} s")


def stop(proc: subprocess.Popen[bytes], grace_s: float = 20) -> None:
    """SIGTERM, then SIGKILL after `grace_s`; only this process (and uvicorn's own workers)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextmanager
def server(
    args: Sequence[str], env: Mapping[str, str], ready_url: str, *, log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A server subprocess, ready when `ready_url` answers 200; stopped when the block ends."""
    out = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        list(args), env=dict(env), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
    )
    try:
        wait_ok(ready_url, proc=proc)
        yield proc
    finally:
        stop(proc)
        if log is not None:
            out.close()  # type: ignore[union-attr]


def sandbox_server(
    sandbox_env: Mapping[str, str], port: int, *, log: Path | None = None, host: str = "127.0.0.1"
) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """The sandbox backend (`python -m sandbox serve`) on `port`, seeded by `seed_sandbox`."""
    return server(
        [sys.executable, "-m", "sandbox", "serve", "--host", host, "--port", str(port)],
        {**sandbox_env, "SANDBOX_ENV": "test"},
        f"http://{host}:{port}/api/v1/health",
        log=log,
    )


def gateway_server(
    env: Mapping[str, str], port: int, *, log: Path | None = None, host: str = "127.0.0.1"
) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """The gateway (`python -m gateway serve`) on `port`, its settings in `env`."""
    return server(
        [sys.executable, "-m", "gateway", "serve", "--host", host, "--port", str(port)],
        env,
        f"http://{host}:{port}/healthz",
        log=log,
    )


def host_facts() -> dict[str, object]:
    """What a figure was measured on: the commit (and whether the tree had changes), the
    host's cores and its load averages (1, 5, 15 min: others' work on the host too)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    return {
        "commit": git("rev-parse", "HEAD") or None,
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "cores": os.cpu_count(),
        "load": [round(x, 2) for x in os.getloadavg()],
    }


_STARTED = host_facts()  # when the bench began: the commit it measures, the load it met


def write_result(name: str, result: Mapping[str, object]) -> Path:
    """bench/results/<name>.json: `result` with the host's facts (`host_facts`): the commit as
    the bench began, the load averages at its start and at its end."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    host = {**_STARTED, "load_at_start": _STARTED["load"], "load": host_facts()["load"]}
    out.write_text(json.dumps({**result, "host": host}, indent=2) + "\n")
    return out


# ---- Redis -----------------------------------------------------------------------------------


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    """A throw-away redis-server on a free port (no persistence); yields its URL.

    Falls back to BENCH_REDIS_URL (default: db 14 of the local server) when redis-server is
    not installed.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
        if not redis_answers(url):
            raise SystemExit(f"no redis-server to start and nothing answers at {url}")
        print(f"redis-server is not installed: using {url}")
        yield url
        return
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp), "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 20
        while not redis_answers(url):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("redis-server did not start")
            time.sleep(0.1)
        yield url
    finally:
        stop(proc)


# ---- the sandbox -----------------------------------------------------------------------------


def seed_sandbox(tmp: Path, students: int = 3000) -> dict[str, str]:
    """Seed a sandbox SQLite file under `tmp`; its environment for `python -m sandbox serve`."""
    env = {**clean_env(), "SANDBOX_DATABASE_URL": f"sqlite:///{tmp}/sandbox.db"}
    subprocess.run(
        [sys.executable, "-m", "sandbox", "seed", "--students", str(students)],
        env=env, cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    return env


def guardian_phones(tmp: Path, limit: int) -> list[str]:
    """E.164 numbers of seeded guardians (the sandbox's own table), in a stable order."""
    with sqlite3.connect(tmp / "sandbox.db") as db:
        rows = db.execute(
            "select e164 from guardian_phone order by e164 limit ?", (limit,)
        ).fetchall()
    return [str(row[0]) for row in rows]


class SandboxAdmin:
    """The sandbox's `/_sandbox` switches: chaos and backend call counts."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {SANDBOX_ADMIN}"}

    def chaos(self, **fields: object) -> dict[str, object]:
        resp = httpx.put(f"{self.base}/_sandbox/chaos", json=fields, headers=self.headers)
        resp.raise_for_status()
        return dict(resp.json())

    def calm(self) -> None:
        self.chaos(profile="off", latency_jitter_ms=0, flap=0, rate_limit_rps=0)

    def reset_stats(self) -> None:
        httpx.delete(f"{self.base}/_sandbox/stats", headers=self.headers).raise_for_status()

    def stats(self) -> dict[str, object]:
        resp = httpx.get(f"{self.base}/_sandbox/stats", headers=self.headers)
        resp.raise_for_status()
        return dict(resp.json())


# ---- wrk -------------------------------------------------------------------------------------


def run_wrk(
    binary: str, url: str, script: Path | None, seconds: int, connections: int, threads: int = 2
) -> dict[str, float]:
    """Closed-loop load with wrk: requests/s and in all, non-2xx count, p50 and p99 (ms)."""
    cmd = [binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    done = subprocess.run([*cmd, url], check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    out = done.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not rate:
        raise SystemExit(f"could not read wrk's output:\n{out}")
    requests = re.search(r"(\d+) requests in", out)
    replayed = re.search(r"replayed: (\d+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    result = {
        "rps": float(rate.group(1)),
        "requests": float(requests.group(1)) if requests else 0.0,
        "errors": float(errors.group(1)) if errors else 0.0,
        "socket_errors": float(sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1))))
        if socket_errors
        else 0.0,
    }
    if replayed:
        result["replayed"] = float(replayed.group(1))
    for pct in ("50", "99"):
        match = re.search(rf"\s{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)", out)
        if match:
            value = float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
            result[f"p{pct}_ms"] = round(value, 2)
    return result


def ussd_body(phone: str, session_id: str, text: str = "") -> str:
    return (
        f"sessionId={session_id}&serviceCode=%2A2020%23&phoneNumber={phone.replace('+', '%2B')}"
        f"&networkCode=60400&text={text}"
    )


def ussd_lua(phones: Sequence[str], *, run: str, path: str = USSD_PATH, text: str = "") -> str:
    """A wrk script: each request a new USSD session (new sessionId) from the next phone.

    `run` goes into every sessionId, so that no two runs send the same one (the gateway's
    dedupe would replay the stored answer instead of running the turn).
    """
    quoted = ", ".join(f'"{p.replace("+", "%2B")}"' for p in phones)
    return f"""
local phones = {{{quoted}}}
local counter = 0
local thread_id = 0
setup = function(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
end
request = function()
  counter = counter + 1
  local phone = phones[(counter % #phones) + 1]
  local body = "sessionId={run}-" .. tid .. "-" .. counter
    .. "&serviceCode=%2A2020%23&phoneNumber=" .. phone .. "&networkCode=60400&text={text}"
  return wrk.format("POST", "{path}", {{["Content-Type"] = "{FORM}"}}, body)
end
"""
