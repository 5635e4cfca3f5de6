"""`make profile`: a flame graph of one gateway worker under load, and its top entries.

Usage: python bench/profile.py [--seconds 20] [--channel ussd|sms] [--phones 1000] [--rate 200]

Starts what `make bench` starts (a throw-away redis-server, a seeded sandbox, the gateway
with one worker, so the uvicorn process is the worker), dials every phone once so the
backend's answers are cached, then keeps wrk's closed-loop load on it (32 connections: warm
USSD dials, or signed `MENU` SMS) while py-spy samples the worker twice in a row:

1. `--format flamegraph` -> bench/results/profile-<channel>-<time>.svg (open it in a browser);
2. `--format raw` (collapsed stacks, kept as .stacks.txt) -> the top entries: CPU by package
   (where the samples land), and the functions with the largest inclusive and self shares,
   printed and written beside the SVG as .txt.

Shares are of the samples where the worker was running Python (idle waits are left out).
py-spy attaches to a running process: as root, or with ptrace allowed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import loadgen
from bench.common import (
    RESULTS,
    ROOT,
    USSD_PATH,
    clean_env,
    ensure_wrk,
    free_port,
    guardian_phones,
    redis_server,
    sandbox_server,
    seed_sandbox,
    server,
    ussd_body,
    ussd_lua,
)
from bench.sms import sms_lua, write_signed_requests

HOST = "127.0.0.1"
# Where a sample's innermost frame is, by path fragment; first match wins.
PACKAGES = (
    ("redis-py", "(redis/"),
    ("hiredis", "(hiredis/"),
    ("dialogs engine", "(gateway/dialogs/"),
    ("gateway resilience", "(gateway/resilience/"),
    ("gateway channels", "(gateway/channels/"),
    ("gateway turns, store, logs, app", "(gateway/"),
    ("structlog", "(structlog/"),
    ("logging (stdlib)", "(logging/"),
    ("pydantic", "(pydantic"),
    ("babel", "(babel/"),
    ("phonenumbers", "(phonenumbers/"),
    ("twilio", "(twilio/"),
    ("prometheus", "(prometheus_client/"),
    ("fastapi", "(fastapi/"),
    ("starlette", "(starlette/"),
    ("uvicorn", "(uvicorn/"),
    ("anyio", "(anyio/"),
    ("asyncio (stdlib)", "(asyncio/"),
    ("backend_client", "(backend_client/"),
    ("json (stdlib)", "(json/"),
    ("hmac, hashlib (stdlib)", "(hmac.py"),
)


TRUNK_SHARE = 0.6


def package_of(frame: str) -> str:
    return next((name for name, part in PACKAGES if part in frame), "other")


def top_entries(raw: str, limit: int = 25) -> str:
    """A report of collapsed stacks (`frame;frame;… count` lines): by package, inclusive, self."""
    total = 0
    by_package: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f]
        if not frames:
            continue
        total += count
        by_package[package_of(frames[-1])] += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        return "no samples\n"

    def table(title: str, counts: Counter[str], n: int) -> list[str]:
        rows = [f"{title}"]
        rows += [f"  {100 * c / total:5.1f} %  {name}" for name, c in counts.most_common(n)]
        return rows

    # The trunk (the server, the middleware chain, the route) holds nearly every sample:
    # below it is where a turn's time goes.
    branches = Counter({f: c for f, c in inclusive.items() if c < TRUNK_SHARE * total})
    lines = [f"{total} samples of running Python"]
    lines += table("CPU by package (innermost frame)", by_package, len(by_package))
    lines += table(
        f"inclusive, below the trunk (< {TRUNK_SHARE:.0%}: the function and what it calls)",
        branches,
        limit,
    )
    lines += table("self (the innermost frame)", own, limit)
    return "\n".join(lines) + "\n"


def shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def py_spy() -> str:
    path = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(path).exists():
        raise SystemExit("py-spy is missing: pip install -e '.[bench]' (make profile does it)")
    return path


def record(pid: int, seconds: int, rate: int, fmt: str, out: Path) -> None:
    subprocess.run(
        [py_spy(), "record", "--pid", str(pid), "--duration", str(seconds), "--rate", str(rate),
         "--format", fmt, "--output", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="each of the two recordings")
    parser.add_argument("--channel", choices=["ussd", "sms"], default="ussd")
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    wrk = ensure_wrk()
    py_spy()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    args.out.mkdir(parents=True, exist_ok=True)
    svg = args.out / f"profile-{args.channel}-{stamp}.svg"
    txt = svg.with_suffix(".txt")
    tmp = Path(tempfile.mkdtemp(prefix="massar-profile-"))
    try:
        with ExitStack() as stack:
            redis_url = stack.enter_context(redis_server(tmp))
            print(f"seeding a sandbox ({args.students} students) in {tmp}")
            sandbox_env = seed_sandbox(tmp, args.students)
            phones = guardian_phones(tmp, args.phones)
            sandbox_port, port = free_port(), free_port()
            log = tmp / "servers.log"
            stack.enter_context(sandbox_server(sandbox_env, sandbox_port, log=log, host=HOST))
            env = {
                **clean_env(),
                "GATEWAY_BACKEND_URL": f"http://{HOST}:{sandbox_port}/api/v1",
                "GATEWAY_DATABASE_URL": f"sqlite:///{tmp}/gateway.db",
                "GATEWAY_REDIS_URL": redis_url,
                "GATEWAY_LOG_LEVEL": "WARNING",
                "GATEWAY_RATE_LIMIT_PER_MINUTE": "1000000",
            }
            gateway = stack.enter_context(
                server(
                    [sys.executable, "-m", "gateway", "serve", "--host", HOST, "--port", str(port)],
                    env, f"http://{HOST}:{port}/readyz", log=log,
                )
            )  # fmt: skip
            run = stamp.replace("-", "")
            print(f"warming the cache: {len(phones)} dials")

            def dial(i: int) -> bytes:
                return loadgen.form_post(HOST, port, USSD_PATH, ussd_body(phones[i], f"w{run}{i}"))

            # All are due at once: the last waits for the ones before it (as bench/run.py).
            loadgen.run(
                HOST, port, dial, rate=float("inf"), count=len(phones), max_connections=32,
                timeout_s=300.0,
            )  # fmt: skip
            script = tmp / "load.lua"
            load_s = 2 * args.seconds + 8
            if args.channel == "ussd":
                script.write_text(ussd_lua(phones, run=f"p{run}"))
            else:
                requests = tmp / "sms.requests"
                write_signed_requests(requests, phones, run=run, count=load_s * 2500)
                script.write_text(sms_lua(requests, threads=2))
            load = threading.Thread(
                target=subprocess.run,
                args=([wrk, "-t2", f"-c{args.connections}", f"-d{load_s}s", "-s", str(script),
                       f"http://{HOST}:{port}"],),
                kwargs={"capture_output": True},
            )  # fmt: skip
            load.start()
            time.sleep(3)  # let the load settle before sampling
            print(f"recording {args.seconds} s: flame graph")
            record(gateway.pid, args.seconds, args.rate, "flamegraph", svg)
            print(f"recording {args.seconds} s: collapsed stacks")
            raw = svg.with_suffix(".stacks.txt")
            record(gateway.pid, args.seconds, args.rate, "raw", raw)
            load.join()
            report = top_entries(raw.read_text())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    header = f"{args.channel} turns, 1 worker, wrk {args.connections} connections, {stamp} UTC\n"
    txt.write_text(header + report)
    print(header + report)
    print(f"written {shown(svg)} and {shown(txt)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
