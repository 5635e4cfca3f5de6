"""USSD turns/s of one gateway worker, against the sandbox's own guardian lookup as baseline.

Usage: python bench/ussd_turns.py [--seconds 10] [--connections 32] [--phones 500]

Seeds a throw-away sandbox, starts it and one gateway worker (uvicorn) on free loopback
ports, with the gateway on the real Redis (GATEWAY_REDIS_URL, default db 14 of 127.0.0.1)
when it answers, else the in-process stand-in. wrk (installed from Debian when missing) then
dials the USSD code from many guardians' phones, each request a new USSD session: a full turn
(token check, dedupe, lock, session load and save, guardian lookup at the backend, bindings,
menu rendering). The baseline, measured in the same run with the same wrk settings, is the
sandbox's `POST /guardians/lookup` alone: the one backend call such a turn makes.
Writes bench/results/ussd_turns.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
AT_TOKEN = "demo-at-ussd-token"  # noqa: S105 - the demo default of GATEWAY_AT_USSD_TOKEN
LUA = """
local phones = {%(phones)s}
local counter = 0
local thread_id = 0
setup = function(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
end
request = function()
  counter = counter + 1
  local phone = phones[(counter %% #phones) + 1]
  local body = "sessionId=bench-" .. tid .. "-" .. counter .. "&serviceCode=%%2A2020%%23"
    .. "&phoneNumber=" .. phone .. "&networkCode=60400&text=%(text)s"
  return wrk.format("POST", "%(path)s", {["Content-Type"] = "%(ctype)s"}, body)
end
"""
LOOKUP_LUA = """
local phones = {%(phones)s}
local counter = 0
request = function()
  counter = counter + 1
  local body = '{"phone":"' .. phones[(counter %% #phones) + 1]:gsub("%%%%2B", "+") .. '"}'
  return wrk.format("POST", "/api/v1/guardians/lookup",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer sandbox-token"}, body)
end
"""


def ensure_wrk() -> str:
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


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def wait_ok(url: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer")


def run_wrk(
    binary: str, url: str, script: Path, seconds: int, connections: int
) -> dict[str, float]:
    cmd = [binary, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not rate:
        raise SystemExit(f"could not read wrk's output:\n{out}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result = {"rps": float(rate.group(1)), "errors": float(errors.group(1)) if errors else 0.0}
    for pct in ("50", "99"):
        match = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out)
        if match:
            value = float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
            result[f"p{pct}_ms"] = round(value, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--phones", type=int, default=500)
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    args = parser.parse_args()

    binary = ensure_wrk()
    tmp = Path(tempfile.mkdtemp(prefix="ussd-bench-"))
    sandbox_port, gateway_port = free_port(), free_port()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "SANDBOX_"))}
    sandbox_env = {**base_env, "SANDBOX_DATABASE_URL": f"sqlite:///{tmp}/sandbox.db"}
    subprocess.run(
        [sys.executable, "-m", "sandbox", "seed", "--students", "3000"],
        env=sandbox_env, cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with sqlite3.connect(tmp / "sandbox.db") as db:
        rows = db.execute("select e164 from guardian_phone limit ?", (args.phones,)).fetchall()
    phones = ", ".join(f'"{row[0].replace("+", "%2B")}"' for row in rows)
    real_redis = redis_answers(args.redis_url)
    gateway_env = {
        **base_env,
        "GATEWAY_BACKEND_URL": f"http://127.0.0.1:{sandbox_port}/api/v1",
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp}/gateway.db",
        "GATEWAY_LOG_LEVEL": "WARNING",
    }
    if real_redis:
        gateway_env["GATEWAY_REDIS_URL"] = args.redis_url
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "sandbox", "serve", "--port", str(sandbox_port)],
            env=sandbox_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--port", str(gateway_port)],
            env=gateway_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ),
    ]  # fmt: skip
    try:
        wait_ok(f"http://127.0.0.1:{sandbox_port}/api/v1/health")
        wait_ok(f"http://127.0.0.1:{gateway_port}/readyz")
        path = f"/channels/ussd/africastalking?token={AT_TOKEN}"
        turn_lua = tmp / "turn.lua"
        turn_lua.write_text(
            LUA % {"phones": phones, "text": "", "path": path,
                   "ctype": "application/x-www-form-urlencoded"}
        )  # fmt: skip
        lookup_lua = tmp / "lookup.lua"
        lookup_lua.write_text(LOOKUP_LUA % {"phones": phones})
        base = f"http://127.0.0.1:{sandbox_port}"
        run_wrk(
            binary, f"http://127.0.0.1:{gateway_port}", turn_lua, 2, args.connections
        )  # warm-up
        baseline = run_wrk(binary, base, lookup_lua, args.seconds, args.connections)
        turns = run_wrk(
            binary, f"http://127.0.0.1:{gateway_port}", turn_lua, args.seconds, args.connections
        )
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)

    result = {
        "redis": "real" if real_redis else "in-process stand-in",
        "workers": 1,
        "connections": args.connections,
        "seconds": args.seconds,
        "phones": len(rows),
        "baseline_lookup_rps": round(baseline["rps"], 1),
        "ussd_turns_per_s": round(turns["rps"], 1),
        "ratio": round(turns["rps"] / baseline["rps"], 3),
        "turn_p50_ms": turns.get("p50_ms"),
        "turn_p99_ms": turns.get("p99_ms"),
        "turn_errors": int(turns["errors"]),
    }
    print(f"{'measure':<34}{'value':>12}")
    for key, value in result.items():
        print(f"{key:<34}{value!s:>12}")
    out = ROOT / "bench" / "results" / "ussd_turns.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
