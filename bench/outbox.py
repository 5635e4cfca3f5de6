"""`make bench-outbox`: messages per second that 1 and 2 sender workers send to the sink.

Usage: python bench/outbox.py [--messages 5000] [--workers 1,2] [--repeats 2]

Starts a throw-away redis-server, queues `--messages` SMS in the outbox, then starts
`python -m gateway worker` processes (the sink sender, a pace far above what they reach, SQL
records on SQLite) and times the sends from the sink's own stream ids (Redis' clock in ms),
first send to last, so process start-up is not counted. The baseline, in the same run, is the
least any consumer of these streams does: one process reading the same number of entries with
XREADGROUP and acknowledging them (XACK + XDEL), nothing else. Writes
bench/results/outbox.json and prints a table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import anyio
import redis as redis_sync

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS, ROOT, clean_env, redis_server, stop, write_result
from gateway.outbox.model import MessageKind, OutChannel, outbound
from gateway.outbox.queue import Outbox
from gateway.state.connections import open_redis
from gateway.state.outbox.priority import Priority
from gateway.state.outbox.streams import GROUP

TEXT = "Youssef : 2 absences non justifiees cette semaine (lun. 18/05, mar. 19/05)."


async def enqueue(url: str, key: bytes, count: int) -> None:
    client, _ = open_redis(url)
    outbox = Outbox(client, key_secret=key)
    now = datetime.now(UTC)
    batch = 200
    for start in range(0, count, batch):
        async with anyio.create_task_group() as tg:
            for n in range(start, min(count, start + batch)):
                msg = outbound(
                    MessageKind.ALERT,
                    key=f"bench:{n}",
                    channel=OutChannel.SMS,
                    to=f"+2126{n % 100_000_000:08d}",
                    text=TEXT,
                    now=now,
                )
                tg.start_soon(outbox.enqueue, msg)
    await client.aclose()


def baseline(url: str, key: bytes, count: int) -> float:
    """Entries/s of a bare XREADGROUP + XACK + XDEL consumer over the same stream."""
    client = redis_sync.Redis.from_url(url)
    outbox = Outbox(client, key_secret=key)  # type: ignore[arg-type]
    stream = outbox.keys.stream(Priority.BULK)
    client.xgroup_create(stream, GROUP, id="0", mkstream=True)
    started, done = time.perf_counter(), 0
    while done < count:
        found = client.xreadgroup(GROUP, "baseline", {stream: ">"}, count=100, block=1000)
        if not found:
            break
        ids = [entry_id for entry_id, _ in found[0][1]]
        pipe = client.pipeline(transaction=False)
        pipe.xack(stream, GROUP, *ids)
        pipe.xdel(stream, *ids)
        pipe.execute()
        done += len(ids)
    elapsed = time.perf_counter() - started
    client.close()
    return done / elapsed


def run_workers(url: str, key: bytes, count: int, workers: int, tmp: Path) -> float:
    """Messages/s of `workers` sender processes, first sink entry to last."""
    database = tmp / f"records-{uuid.uuid4().hex[:6]}.db"
    env = {
        **clean_env(),
        "GATEWAY_REDIS_URL": url,
        "GATEWAY_DATABASE_URL": f"sqlite:///{database}",
        "GATEWAY_IDENTITY_KEY": key.decode(),
        "GATEWAY_OUTBOX_RATE_SMS": "10000",
        "GATEWAY_OUTBOX_BURST_SMS": "10000",
        "GATEWAY_OUTBOX_CONCURRENCY": "64",
        "GATEWAY_LOG_LEVEL": "WARNING",
        "GATEWAY_LOG_FILE": str(tmp / "workers.log"),
    }
    subprocess.run(
        [sys.executable, "-m", "gateway", "migrate"], env=env, cwd=ROOT, check=True,
        capture_output=True,
    )  # fmt: skip
    client = redis_sync.Redis.from_url(url)
    sink = f"mg:{Outbox(client, key_secret=key).keys.tag}:sink"  # type: ignore[arg-type]
    command = [sys.executable, "-m", "gateway", "worker", "--consumer"]
    procs = [
        subprocess.Popen(
            [*command, f"bench-{i}"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(workers)
    ]
    try:
        deadline = time.monotonic() + 300
        while client.xlen(sink) < count:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise SystemExit(f"the workers stopped at {client.xlen(sink)} of {count}")
            time.sleep(0.2)
    finally:
        for proc in procs:
            stop(proc)
    first = client.xrange(sink, count=1)[0][0]
    last = client.xrevrange(sink, count=1)[0][0]
    span_ms = int(last.split(b"-")[0]) - int(first.split(b"-")[0])
    client.close()
    return (count - 1) / max(span_ms / 1000, 0.001)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--repeats", type=int, default=2)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    counts = [int(w) for w in args.workers.split(",")]
    rows: dict[str, list[float]] = {"baseline": []}
    with tempfile.TemporaryDirectory(prefix="bench-outbox-") as folder:
        tmp = Path(folder)
        with redis_server(tmp) as url:
            for _ in range(args.repeats):
                key = f"bench-{uuid.uuid4().hex}".encode()
                anyio.run(enqueue, url, key, args.messages)
                rows["baseline"].append(baseline(url, key, args.messages))
                for workers in counts:
                    key = f"bench-{uuid.uuid4().hex}".encode()
                    anyio.run(enqueue, url, key, args.messages)
                    rate = run_workers(url, key, args.messages, workers, tmp)
                    rows.setdefault(f"workers_{workers}", []).append(rate)
    best = {name: round(max(values), 1) for name, values in rows.items()}
    result: dict[str, object] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "messages": args.messages,
        "repeats": args.repeats,
        "messages_per_s": best,
        "ratio_to_baseline": {
            name: round(value / best["baseline"], 3)
            for name, value in best.items()
            if name != "baseline"
        },
        "all_runs": rows,
    }
    write_result("outbox", result)
    print(f"{'measure':<44}{'messages/s':>12}{'ratio':>8}")
    print(f"{'baseline: XREADGROUP + XACK, 1 process':<44}{best['baseline']:>12.1f}{'1.000':>8}")
    for workers in counts:
        name = f"workers_{workers}"
        label = f"sink sends, {workers} worker process(es)"
        print(f"{label:<44}{best[name]:>12.1f}{result['ratio_to_baseline'][name]:>8.3f}")  # type: ignore[index]
    print(f"best of {args.repeats}; wrote {RESULTS / 'outbox.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
