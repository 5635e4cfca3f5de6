"""`make bench-alerts`: alerts per second from the backend's change feed to the sink.

Usage: python bench/alerts.py [--students 100000] [--absences 10000] [--workers 2]
                              [--sandbox-db var/bench-alerts/sandbox.db]

A sandbox seeded with `--students` (kept under var/bench-alerts/, seeded on first use, copied
for each run) serves the API on a free port; `--absences` new absences are recorded through
its admin API (`/_sandbox/events/generate`, about 15 % of them lateness, which alerts no one).
Then `--workers` `python -m gateway worker` processes (the sink sender, a pace far above
what they reach) are started and, once they are up, one `python -m gateway alerts` process
(the consumer: feed pages of 200, guardians by batch, preferences, outbox); timed from the
consumer's first log line (so Python's start-up is not counted) to the sink's last entry.
The baseline, in the same run, is the outbox alone: the same number of messages queued
beforehand, the same workers, timed from their start to the sink's last entry. The ratio
says what reading the feed and finding the guardians costs on top of sending. Writes
bench/results/alerts.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import anyio
import httpx
import redis as redis_sync

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, clean_env, free_port, redis_server, server, stop, write_result
from bench.outbox import enqueue
from gateway.outbox.queue import Outbox

ADMIN = {"Authorization": "Bearer sandbox-admin"}
LOGS = ROOT / "var/bench-alerts/logs"  # the processes' logs of the last run
API = {"Authorization": "Bearer sandbox-token"}


def sandbox_file(path: Path, students: int) -> Path:
    """The seeded sandbox (seeded once: 100,000 students take minutes)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"seeding {students:,} students into {path} (once)")
        env = {**clean_env(), "SANDBOX_DATABASE_URL": f"sqlite:///{path}"}
        subprocess.run(
            [sys.executable, "-m", "sandbox", "seed", "--students", str(students)],
            env=env, cwd=ROOT, check=True,
        )  # fmt: skip
    return path


def gateway_env(redis_url: str, backend: str, tmp: Path, name: str) -> dict[str, str]:
    env = {
        **clean_env(),
        "GATEWAY_ENV": "test",
        "GATEWAY_REDIS_URL": redis_url,
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp}/{name}.db",
        "GATEWAY_IDENTITY_KEY": f"bench-alerts-{name}-{uuid.uuid4().hex}",
        "GATEWAY_BACKEND_URL": backend,
        "GATEWAY_QUIET_HOURS": "none",
        "GATEWAY_OUTBOX_RATE_SMS": "10000",
        "GATEWAY_OUTBOX_BURST_SMS": "10000",
        "GATEWAY_OUTBOX_CONCURRENCY": "64",
        # A message left pending by a Redis timeout on a loaded machine is taken over in
        # seconds, not the production 90 s (the same for both phases).
        "GATEWAY_OUTBOX_LEASE_S": "2",
        "GATEWAY_FOLLOWUP_BUDGET_S": "1",
        "GATEWAY_OUTBOX_RECLAIM_IDLE_S": "3",
        "GATEWAY_LOG_LEVEL": "INFO",
        "GATEWAY_LOG_FORMAT": "json",
        "GATEWAY_LOG_FILE": str(LOGS / f"{name}.log"),
    }
    subprocess.run(
        [sys.executable, "-m", "gateway", "migrate"], env=env, cwd=ROOT, check=True,
        capture_output=True,
    )  # fmt: skip
    return env


def launch(env: dict[str, str], args: list[str]) -> subprocess.Popen[bytes]:
    out = (LOGS / f"{args[-1]}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "gateway", *args],
        env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip


def started_ms(names: list[str], event: str) -> int:
    """When the last of these processes logged `event` (ms since the epoch): timing starts
    once every process is up, so Python's start-up on a loaded machine is not counted."""
    stamps = []
    for name in names:
        deadline = time.monotonic() + 120
        while True:
            lines = (LOGS / f"{name}.log").read_text().splitlines()
            found = [json.loads(x) for x in lines if x.startswith("{") and f'"{event}"' in x]
            if found:
                at = datetime.fromisoformat(found[0]["timestamp"].replace("Z", "+00:00"))
                stamps.append(int(at.timestamp() * 1000))
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} never logged {event}")
            time.sleep(0.05)
    return max(stamps)


def redis_ms(client: redis_sync.Redis) -> int:
    seconds, micros = client.time()
    return int(seconds) * 1000 + int(micros) // 1000


def wait_for_sink(client: redis_sync.Redis, sink: str, count: int, procs: list) -> int:  # type: ignore[type-arg]
    """The Redis time (ms) of the sink's `count`-th entry, once it is there."""
    deadline = time.monotonic() + 900
    while client.xlen(sink) < count:
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise SystemExit(f"stopped at {client.xlen(sink)} of {count} in the sink")
        time.sleep(0.05)
    last = client.xrevrange(sink, count=1)[0][0]
    return int(last.decode().split("-")[0])


def generate(base: str, absences: int) -> int:
    made = 0
    with httpx.Client(base_url=base, timeout=600) as http:
        while made < absences:
            n = min(1000, absences - made)
            reply = http.post("/_sandbox/events/generate", json={"absences": n}, headers=ADMIN)
            reply.raise_for_status()
            made += reply.json()["absences"]
    return made


def head(base: str) -> str:
    return str(httpx.get(f"{base}/api/v1/changes/head", headers=API, timeout=30).json()["cursor"])


def set_cursor(env: dict[str, str], cursor: str) -> None:
    """Start the consumer where the feed stood before the new absences (not at its head)."""
    import sqlalchemy as sa

    from gateway.state.schema import alert_cursor

    engine = sa.create_engine(env["GATEWAY_DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(sa.insert(alert_cursor).values(name="changes", cursor=cursor,
                                                    updated_at=datetime.now(UTC)))  # fmt: skip
    engine.dispose()


def cursor_of(env: dict[str, str]) -> str | None:
    import sqlalchemy as sa

    from gateway.state.schema import alert_cursor

    engine = sa.create_engine(env["GATEWAY_DATABASE_URL"])
    with engine.connect() as conn:
        found = conn.execute(sa.select(alert_cursor.c.cursor)).scalar_one_or_none()
    engine.dispose()
    return found


def run_alerts(env: dict[str, str], redis_url: str, base: str, workers: int) -> dict[str, float]:
    client = redis_sync.Redis.from_url(redis_url)
    outbox = Outbox(client, key_secret=env["GATEWAY_IDENTITY_KEY"].encode())  # type: ignore[arg-type]
    sink = f"mg:{outbox.keys.tag}:sink"
    target = head(base)
    names = [f"bench-{i}" for i in range(workers)]
    procs = [launch(env, ["worker", "--consumer", name]) for name in names]
    started_ms(names, "outbox_worker_started")  # the workers wait, as in the baseline
    procs.append(launch(env, ["alerts"]))
    try:
        started = started_ms(["alerts"], "alerts_consumer_started")
        deadline = time.monotonic() + 900
        while cursor_of(env) != target:  # the consumer read the whole feed
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise SystemExit("the alerts consumer did not reach the feed's head")
            time.sleep(0.05)
        fed = redis_ms(client)
        queued = sum(1 for _ in client.scan_iter(match=f"mg:{outbox.keys.tag}:idem:*", count=1000))
        last = wait_for_sink(client, sink, queued, procs)
    finally:
        for proc in procs:
            stop(proc)
    return {
        "alerts": queued,
        "seconds": (last - started) / 1000,
        "alerts_per_s": queued / ((last - started) / 1000),
        "feed_to_outbox_per_s": queued / ((fed - started) / 1000),
    }


def run_baseline(env: dict[str, str], redis_url: str, count: int, workers: int) -> dict[str, float]:
    key = env["GATEWAY_IDENTITY_KEY"].encode()
    anyio.run(enqueue, redis_url, key, count)
    client = redis_sync.Redis.from_url(redis_url)
    sink = f"mg:{Outbox(client, key_secret=key).keys.tag}:sink"  # type: ignore[arg-type]
    names = [f"base-{i}" for i in range(workers)]
    procs = [launch(env, ["worker", "--consumer", name]) for name in names]
    try:
        started = started_ms(names, "outbox_worker_started")
        last = wait_for_sink(client, sink, count, procs)
    finally:
        for proc in procs:
            stop(proc)
    seconds = (last - started) / 1000
    return {"messages": count, "seconds": seconds, "messages_per_s": count / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--absences", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sandbox-db", type=Path, default=ROOT / "var/bench-alerts/sandbox.db")
    args = parser.parse_args()
    seeded = sandbox_file(args.sandbox_db, args.students)
    shutil.rmtree(LOGS, ignore_errors=True)
    LOGS.mkdir(parents=True)
    with (
        tempfile.TemporaryDirectory(prefix="bench-alerts-") as name,
        redis_server(Path(name)) as url,
    ):
        tmp = Path(name)
        copy = tmp / "sandbox.db"
        shutil.copyfile(seeded, copy)
        port = free_port()
        sandbox_env = {**clean_env(), "SANDBOX_DATABASE_URL": f"sqlite:///{copy}"}
        base = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "sandbox", "serve", "--port", str(port)]
        with server(command, sandbox_env, f"{base}/health", log=tmp / "sandbox.log"):
            alerts_env = gateway_env(url, f"{base}/api/v1", tmp, "alerts")
            set_cursor(alerts_env, head(base))
            started = time.perf_counter()
            made = generate(base, args.absences)
            print(f"{made:,} absences recorded in {time.perf_counter() - started:.0f} s")
            alerts = run_alerts(alerts_env, url, base, args.workers)
            base_env = gateway_env(url, f"{base}/api/v1", tmp, "baseline")
            baseline = run_baseline(base_env, url, int(alerts["alerts"]), args.workers)
    ratio = alerts["alerts_per_s"] / baseline["messages_per_s"]
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "students": args.students,
        "absences": made,
        "workers": args.workers,
        "alerts": alerts,
        "baseline_outbox_only": baseline,
        "ratio": round(ratio, 3),
    }
    write_result("alerts", result)
    print(f"{'':<34}{'messages':>10}{'seconds':>10}{'per s':>10}")
    print(f"{'alerts: feed -> sink':<34}{alerts['alerts']:>10,.0f}{alerts['seconds']:>10.1f}"
          f"{alerts['alerts_per_s']:>10.0f}")  # fmt: skip
    print(
        f"{'  of which feed -> outbox':<34}{'':>10}{'':>10}{alerts['feed_to_outbox_per_s']:>10.0f}"
    )
    print(f"{'baseline: outbox -> sink':<34}{baseline['messages']:>10,.0f}"
          f"{baseline['seconds']:>10.1f}{baseline['messages_per_s']:>10.0f}")  # fmt: skip
    print(
        f"ratio alerts / baseline: {ratio:.2f} ({args.workers} workers, {args.students:,} students)"
    )


if __name__ == "__main__":
    main()
