"""`make bench-results-day`: a class-marks publication draining through the outbox while USSD
and SMS turns arrive at a steady rate, on one machine, in one run (issue #24 item 7).

Usage: python bench/results_day.py [--quick] [--students 100000] [--rate 100] [--quiet 30]
                                   [--publication 120] [--workers 2] [--senders 2]
                                   [--phones 1000] [--pace 10000]

Everything on loopback, started here and stopped at the end: a throw-away redis-server, the
sandbox with semester 2 published for every class of `--students` (made once and kept,
`bench/results_day_setup.py`), the gateway (`serve`, `--workers`), `--senders` sender workers
(the sink provider, a pace of `--pace` SMS/s: far above what they reach unless lowered) and
the alerts consumer, held off until the publication by a lease the bench holds. After a
warm-up dial from each of `--phones` guardian phones (their answers cached), one open-loop
run offers `--rate` turns/s, alternately a new USSD session and an SMS `MENU` through the
Kannel route (its reply queued as an interactive message):

1. quiet, `--quiet` s: the turns alone;
2. publication, `--publication` s: the bench lets go of the consumer's lease, the consumer
   takes it (within a second) and reads the feed from the cursor before the publication; the
   pupils' marks alerts (bulk priority) drain through the same outbox and workers as the
   turns' replies (interactive priority), while the turns go on;
3. then the drain goes on alone to the last alert (alerts/s alone), if it has not ended.

Reports the turns' p50/p99 in each phase (the target: publication p99 at most 2x the quiet
one), the SMS replies' wait in the queue, alerts/s while the turns arrive and alone, the
backlog over time; writes bench/results/results_day.json and the chart
bench/results/results_day.png (turn p99 and alerts/s over time, the publication marked).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis as redis_sync

from bench import loadgen
from bench.alerts import set_cursor
from bench.common import (
    RESULTS,
    ROOT,
    clean_env,
    free_port,
    guardian_phones,
    redis_server,
    server,
    stop,
    write_result,
)
from bench.results_day_measure import (
    BacklogSampler,
    Timeline,
    alert_figures,
    backlog_figures,
    priorities,
    records,
    reply_figures,
    series,
    turn_figures,
    turns,
)
from bench.results_day_report import TARGET_RATIO, draw_chart, print_table, ratio_of
from bench.results_day_setup import (
    CACHE,
    HOST,
    cursor_of,
    gateway_env,
    launch,
    published_sandbox,
    seeded_file,
    wait_metrics,
)
from gateway.outbox.queue import Outbox
from gateway.state.keys import Keys

QUICK = {"students": 1000, "rate": 40.0, "quiet": 5.0, "publication": 15.0, "phones": 50,
         "drain_timeout": 180.0}  # fmt: skip
FULL = {"students": 100_000, "rate": 100.0, "quiet": 30.0, "publication": 120.0,
        "phones": 1000, "drain_timeout": 1800.0}  # fmt: skip


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run, tiny numbers")
    parser.add_argument("--students", type=int, help="pupils seeded (100,000; quick 1,000)")
    parser.add_argument("--rate", type=float, help="turns offered per second (100)")
    parser.add_argument("--quiet", type=float, help="seconds of turns before the publication")
    parser.add_argument("--publication", type=float, help="seconds of turns once it started")
    parser.add_argument("--phones", type=int, help="warm guardian phones the turns come from")
    parser.add_argument("--drain-timeout", type=float, help="seconds the drain may take")
    parser.add_argument("--workers", type=int, default=2, help="gateway (serve) workers")
    parser.add_argument("--senders", type=int, default=2, help="sender worker processes")
    parser.add_argument("--pace", type=int, default=10_000, help="GATEWAY_OUTBOX_RATE_SMS")
    parser.add_argument("--sandbox-db", type=Path, help="a seeded sandbox file to use")
    parser.add_argument("--out", default="results_day", help="bench/results/<out>.json|.png")
    parser.add_argument(
        "--cache", type=Path, default=CACHE, help="the published sandbox kept, the last logs"
    )
    args = parser.parse_args()
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


class Run:
    """One run's servers and processes (all on loopback, all stopped at the end)."""

    def __init__(self, args: argparse.Namespace, logs: Path, redis_url: str) -> None:
        self.args, self.logs, self.redis_url = args, logs, redis_url
        self.run_id = uuid.uuid4().hex[:8]
        self.procs: list[subprocess.Popen[bytes]] = []
        self.consumer_at: float | None = None
        self.lease = ""

    def warm_up(self, port: int, phones: list[str]) -> dict[str, int]:
        """Dial from every phone once (32 at a time): caches the backend's answers for them."""
        make = turns(port, phones, f"{self.run_id}-warm")
        result = loadgen.run(
            HOST, port, lambda i: make(2 * i), rate=float("inf"), count=len(phones),
            max_connections=32, timeout_s=300.0,
        )  # fmt: skip
        return {str(k): v for k, v in Counter(s.status for s in result.samples).items()}

    def senders(self, env: dict[str, str]) -> None:
        for n in range(self.args.senders):
            port = free_port()
            proc = launch(
                env,
                ["worker", "--consumer", f"rd-{n}", "--metrics-port", str(port)],
                self.logs / f"sender-{n}.log",
            )
            self.procs.append(proc)
            wait_metrics(port, proc)

    def start_consumer(self, env: dict[str, str]) -> None:
        """The alerts consumer, started before the turns but held off: the bench holds its
        lease (`Keys.alerts_lease`), so the process is up and polls it every second; releasing
        it starts the publication without Python's start-up inside the measure."""
        client = redis_sync.Redis.from_url(self.redis_url)
        outbox = Outbox(client, key_secret=env["GATEWAY_IDENTITY_KEY"].encode())  # type: ignore[arg-type]
        self.lease = Keys.alerts_lease(outbox.keys.ns)
        client.set(self.lease, "bench-results-day")
        client.close()
        port = free_port()
        # Its batches logged (one line per 200 events): what it read, when.
        mine = {
            **env,
            "GATEWAY_LOG_LEVEL": "INFO",
            "GATEWAY_LOG_FILE": str(self.logs / "alerts.json"),
            "GATEWAY_ALERTS_LEASE_S": "3",
        }
        proc = launch(mine, ["alerts", "--metrics-port", str(port)], self.logs / "alerts.log")
        self.procs.append(proc)
        wait_metrics(port, proc)

    def release_consumer(self) -> None:
        """The publication: the consumer may take its lease (within a second)."""
        self.consumer_at = time.time()
        client = redis_sync.Redis.from_url(self.redis_url)
        client.delete(self.lease)
        client.close()

    def offer_turns(self, env: dict[str, str], port: int, phones: list[str]) -> tuple[Any, float]:
        """The open-loop turns, the consumer started `--quiet` s in; (result, start time)."""
        args = self.args
        count = int(args.rate * (args.quiet + args.publication))
        start = time.time() + 0.05  # loadgen's first turn is due 50 ms after it begins
        timer = threading.Timer(args.quiet + 0.05, self.release_consumer)
        timer.start()
        try:
            result = loadgen.run(
                HOST, port, turns(port, phones, self.run_id), rate=args.rate, count=count,
                max_connections=512, timeout_s=30.0,
            )  # fmt: skip
        finally:
            timer.cancel()
        return result, start

    def wait_drained(self, env: dict[str, str], target: str, sampler: BacklogSampler) -> bool:
        """Until the consumer read the whole publication and nothing waits in the outbox."""
        deadline = time.monotonic() + self.args.drain_timeout
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.procs):
                raise SystemExit("a gateway process stopped during the drain (see its log)")
            try:
                at_head = cursor_of(env) == target
            except sqlite3.Error:  # busy under the workers' writes: try again
                at_head = False
            backlog = sampler.latest()
            if at_head and backlog is not None and not any(backlog.values()):
                time.sleep(1.0)  # a batch planned but not queued yet shows in the next sample
                latest = sampler.latest()
                if latest is not None and not any(latest.values()):
                    return True
            time.sleep(0.5)
        try:
            where = cursor_of(env)
        except sqlite3.Error:
            where = "unknown (its database is busy)"
        print(
            f"not drained: the consumer's cursor {where} (the publication ends at {target}), "
            f"waiting {sampler.latest()}"
        )
        return False

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            stop(proc)
        self.procs.clear()


def measure(args: argparse.Namespace, facts: dict[str, object], published: Path) -> dict[str, Any]:
    logs = args.cache / "logs"  # the processes' logs of the last run
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    with (
        tempfile.TemporaryDirectory(prefix="bench-results-day-") as name,
        redis_server(Path(name)) as redis_url,
    ):
        tmp = Path(name)
        shutil.copyfile(published, tmp / "sandbox.db")
        phones = guardian_phones(tmp, args.phones)
        run = Run(args, logs, redis_url)
        sandbox_port, gw_port = free_port(), free_port()
        base = f"http://{HOST}:{sandbox_port}"
        sandbox_env = {**clean_env(), "SANDBOX_DATABASE_URL": f"sqlite:///{tmp}/sandbox.db"}
        command = [sys.executable, "-m", "sandbox", "serve", "--host", HOST,
                   "--port", str(sandbox_port)]  # fmt: skip
        with server(command, sandbox_env, f"{base}/health", log=logs / "sandbox.log"):
            env = gateway_env(redis_url, f"{base}/api/v1", tmp, args.pace, logs)
            set_cursor(env, str(facts["cursor_before"]))
            serve = [sys.executable, "-m", "gateway", "serve", "--host", HOST,
                     "--port", str(gw_port), "--workers", str(args.workers)]  # fmt: skip
            sampler = BacklogSampler(redis_url, env["GATEWAY_IDENTITY_KEY"].encode())
            with server(serve, env, f"http://{HOST}:{gw_port}/readyz", log=logs / "serve.log"):
                warm = run.warm_up(gw_port, phones)
                print(f"warm-up dials from {len(phones):,} phones: {warm}")
                try:
                    run.senders(env)
                    run.start_consumer(env)
                    sampler.start()
                    print(f"turns at {args.rate:g}/s: {args.quiet:g} s quiet, then "
                          f"{args.publication:g} s with the publication")  # fmt: skip
                    result, start = run.offer_turns(env, gw_port, phones)
                    load_during = round(os.getloadavg()[0], 2)
                    if run.consumer_at is None:
                        raise SystemExit("the alerts consumer was never started")
                    print(f"turns done ({result.achieved_rate:.0f}/s answered, load average "
                          f"{load_during}); waiting for the drain")  # fmt: skip
                    drained = run.wait_drained(env, str(facts["cursor_after"]), sampler)
                finally:
                    run.stop_all()
                    sampler.stop()
        sent = records(tmp / "gateway.db")
    count = len(result.samples)
    alert_times = [s.sent for s in sent if s.kind == "alert" and s.sent is not None]
    timeline = Timeline(
        start=start,
        publication=run.consumer_at,
        turns_end=start + (count - 1) / args.rate,
        drained=max(alert_times) if drained and alert_times else None,
        rate=args.rate,
    )
    figures = turn_figures(result.samples, timeline)
    return {
        "drained": drained,
        "warm_up": warm,
        "generator_behind_ms": round(result.behind_s * 1000, 1),
        "load_during": load_during,
        "turns": figures,
        "replies": reply_figures(sent, timeline),
        "alerts": alert_figures(sent, timeline),
        "backlog": backlog_figures(sampler.samples),
        "priorities": priorities(sent),
        "marks_s": {
            "publication": round(timeline.publication - start, 2),
            "turns_end": round(timeline.turns_end - start, 2),
            "drained": round(timeline.drained - start, 2) if timeline.drained else None,
        },
        "series": series(result.samples, sent, sampler.samples, timeline),
    }


def main() -> None:
    args = parse()
    seeded = seeded_file(args.students, args.sandbox_db, args.cache)
    published, facts = published_sandbox(seeded, args.cache)
    started = time.perf_counter()
    measured = measure(args, facts, published)
    quiet, pub = measured["turns"]["quiet"]["all"], measured["turns"]["publication"]["all"]
    result: dict[str, Any] = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "students": args.students,
        "pupils_published": facts["pupils_published"],
        "classes": facts["classes"],
        "school_year": facts["school_year"],
        "semester": facts["semester"],
        "rate": args.rate,
        "quiet_s": args.quiet,
        "publication_s": args.publication,
        "gateway_workers": args.workers,
        "senders": args.senders,
        "pace_sms_per_s": args.pace,
        "phones": args.phones,
        "host_cores": os.cpu_count(),
        "quiet_p99_ms": quiet["p99_ms"],
        "publication_p99_ms": pub["p99_ms"],
        "p99_ratio": ratio_of(pub["p99_ms"], quiet["p99_ms"]),
        "target_ratio": TARGET_RATIO,
        "alerts_per_s_with_turns": measured["alerts"]["with_turns_per_s"],
        "alerts_per_s_alone": measured["alerts"]["alone_per_s"],
        **measured,
        "duration_s": round(time.perf_counter() - started, 1),
    }
    out = write_result(args.out, result)
    chart = RESULTS / f"{args.out}.png"
    drew = draw_chart(result, chart)
    print_table(result)
    if not result["drained"]:
        print(f"the drain did not end within {args.drain_timeout:g} s: alerts/s alone is partial")
    print(f"wrote {out.relative_to(ROOT)}" + (f" and {chart.relative_to(ROOT)}" if drew else ""))


if __name__ == "__main__":
    main()
