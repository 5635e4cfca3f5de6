"""`make profile`: a flame graph of the gateway's processes on one path under load, and the
top entries of each.

Usage: python bench/profile.py [--seconds 20] [--channel ussd|sms|alerts|kannel-sms|kannel-out]
                               [--phones 1000] [--rate 200] [--absences 20000]

`ussd` and `sms` start what `make bench` starts (a throw-away redis-server, a seeded sandbox,
the gateway with one worker, so the uvicorn process is the worker), dial every phone once so
the backend's answers are cached, then keep wrk's closed-loop load on it (32 connections: warm
USSD dials, or signed `MENU` SMS) while py-spy samples the worker twice in a row:

1. `--format flamegraph` -> bench/results/profile-<channel>-<time>.svg (open it in a browser);
2. `--format raw` (collapsed stacks, kept as .stacks.txt) -> the top entries: CPU by package
   (where the samples land), and the functions with the largest inclusive and self shares,
   printed and written beside the SVG as .txt.

`alerts`, `kannel-sms` and `kannel-out` run the paths of `make bench-alerts` and
`make bench-kannel` (bench/profile_paths.py says what each loads and samples); every process
of the path is sampled at once, the first drawn as the flame graph, each reported.

py-spy samples with `--gil`: only the thread holding the GIL, that is the one running Python.
Without it, each sample also counted every idle thread (the thread pools' workers waiting in
`threading.Condition.wait`, 94.7 % of the samples before issue #24), which drowned the work.
Shares are of those samples. py-spy attaches to a running process: as root, or with ptrace
allowed.
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
from bench.profile_paths import PATHS, Scenario, needs_kannel
from bench.sms import sms_lua, write_signed_requests

HOST = "127.0.0.1"
# Where a sample's innermost frame is, by path fragment; first match wins.
PACKAGES = (
    ("redis-py", "(redis/"),
    ("hiredis", "(hiredis/"),
    ("dialogs engine", "(gateway/dialogs/"),
    ("gateway resilience", "(gateway/resilience/"),
    ("gateway resilience", "(gateway/state/resilience/"),
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
    ("sqlalchemy", "(sqlalchemy/"),
    ("sqlite3 (stdlib)", "(sqlite3/"),
    ("httpx, httpcore, h11", "(httpx/"),
    ("httpx, httpcore, h11", "(httpcore/"),
    ("httpx, httpcore, h11", "(h11/"),
    ("tenacity", "(tenacity/"),
    ("threads, queues (stdlib)", "(threading.py"),
    ("threads, queues (stdlib)", "(queue.py"),
    ("contextlib, weakref (stdlib)", "(contextlib.py"),
    ("contextlib, weakref (stdlib)", "(weakref.py"),
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
         "--gil", "--format", fmt, "--output", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="each of the two recordings")
    parser.add_argument("--channel", choices=["ussd", "sms", *PATHS], default="ussd")
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--absences", type=int, default=20000, help="--channel alerts")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    py_spy()
    if args.channel in PATHS:
        return profile_path(args)
    wrk = ensure_wrk()
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


def profile_path(args: argparse.Namespace) -> int:
    """A path of bench/profile_paths.py: its processes sampled at once while it runs."""
    reason = needs_kannel(args.channel)
    if reason is not None:
        raise SystemExit(f"profile --channel {args.channel}: {reason}")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    args.out.mkdir(parents=True, exist_ok=True)
    svg = args.out / f"profile-{args.channel}-{stamp}.svg"
    tmp = Path(tempfile.mkdtemp(prefix="massar-profile-"))
    try:
        with PATHS[args.channel](tmp, args) as scenario:
            reports = sample(scenario, args, svg)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    header = f"{args.channel}: {scenario.what}, {stamp} UTC\n"
    text = header + "".join(f"\n== {what}\n{report}" for what, report in reports)
    svg.with_suffix(".txt").write_text(text)
    print(text)
    print(f"written {shown(svg)} and {shown(svg.with_suffix('.txt'))}")
    return 0


def sample(scenario: Scenario, args: argparse.Namespace, svg: Path) -> list[tuple[str, str]]:
    """The scenario's load on, every target recorded at once: a flame graph of the first and
    collapsed stacks of each; the top entries of each, in the targets' order."""
    halt = threading.Event()
    load = threading.Thread(target=scenario.load, args=(halt,), daemon=True)
    load.start()
    raws = [svg.with_suffix(f".{i}.stacks.txt") for i in range(len(scenario.targets))]
    jobs = [(scenario.targets[0][1], "flamegraph", svg)]
    jobs += [(pid, "raw", raw) for (_, pid), raw in zip(scenario.targets, raws, strict=True)]
    print(f"recording {args.seconds} s: {', '.join(what for what, _ in scenario.targets)}")
    threads = [
        threading.Thread(target=record, args=(pid, args.seconds, args.rate, fmt, out))
        for pid, fmt, out in jobs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    halt.set()
    load.join(timeout=60)
    return [
        (what, top_entries(raw.read_text()))
        for (what, _), raw in zip(scenario.targets, raws, strict=True)
    ]


if __name__ == "__main__":
    raise SystemExit(main())
