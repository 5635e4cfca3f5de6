"""`make bench`: the USSD gateway against its baseline, on this machine, in one run.

Usage: python bench/run.py [--quick] [--seconds 10] [--repeats 2] [--phones 1000]
                           [--rates 100,250,500,750,1000] [--rate-seconds 8] [--workers 1,2]

Starts a throw-away redis-server (no persistence), seeds a sandbox Massar backend in a temp
folder and serves it, then, all on loopback:

1. throughput (wrk, closed loop, same settings for both) at 1 and 2 workers: the baseline
   (`bench/baseline_app.py`: AT form, one Redis GET and SET, a fixed CON menu) and the full
   gateway USSD turn (a guardian's first dial, a new sessionId each time, over many phones,
   with the backend answers cached once warmed);
2. latency against offered load (`bench/loadgen.py`, open loop) at 2 workers, for both;
3. single-flight: 1,000 concurrent identical reads on a cold cache from two processes,
   through the backend the gateway wires, counted at the sandbox (`bench/single_flight.py`);
4. backend slow (sandbox latency p99 5 s) and down: USSD turns from phones whose answers
   are cached and from phones never seen, each answer classified by its text;
5. bytes per session in Redis after a typical USSD session.

Prints a table of every figure beside its target, writes bench/results/latest.json and the
latency-against-load chart bench/results/latency_vs_load.png. The machine is shared: every
speed is reported as a ratio to the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from contextlib import AbstractContextManager, ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import loadgen
from bench.answers import Classifier
from bench.common import (
    RESULTS,
    ROOT,
    USSD_PATH,
    SandboxAdmin,
    clean_env,
    ensure_wrk,
    free_port,
    guardian_phones,
    redis_server,
    run_wrk,
    sandbox_server,
    seed_sandbox,
    server,
    ussd_body,
    ussd_lua,
    write_result,
)
from bench.phases import BadDaysAndSize
from bench.probes import RedisProbe, cpu_cost, cpu_snapshot, redis_cost
from bench.report import draw_chart, headline, print_table
from bench.sms import sms_lua, write_signed_requests

HOST = "127.0.0.1"
Server = AbstractContextManager["subprocess.Popen[bytes]"]
# An SMS run is given this many signed requests per USSD turn/s measured, per second of wrk.
SMS_REQUESTS_PER_USSD_TURN = 1.5


class Bench(BadDaysAndSize):
    def __init__(self, args: argparse.Namespace, tmp: Path, redis_url: str) -> None:
        self.args = args
        self.tmp = tmp
        self.redis_url = redis_url
        self.wrk = ensure_wrk()
        self.run_id = uuid.uuid4().hex[:8]
        self.sandbox_port = free_port()
        self.sandbox_env = seed_sandbox(tmp, args.students)
        self.phones = guardian_phones(tmp, args.phones + args.cold_phones + 1)
        if len(self.phones) < args.phones + args.cold_phones + 1:
            raise SystemExit(f"the sandbox has only {len(self.phones)} guardian phones")
        self.warm = self.phones[: args.phones]
        self.cold = self.phones[args.phones : args.phones + args.cold_phones]
        self.single_flight_phone = self.phones[-1]
        self.admin = SandboxAdmin(f"http://{HOST}:{self.sandbox_port}")
        self.log = tmp / "servers.log"
        self.redis = RedisProbe(redis_url)
        self.classifier = Classifier()

    # ---- servers --------------------------------------------------------------------------

    def sandbox(self) -> Server:
        return sandbox_server(self.sandbox_env, self.sandbox_port, log=self.log, host=HOST)

    def gateway_env(self) -> dict[str, str]:
        return {
            **clean_env(),
            "GATEWAY_BACKEND_URL": f"http://{HOST}:{self.sandbox_port}/api/v1",
            "GATEWAY_DATABASE_URL": f"sqlite:///{self.tmp}/gateway.db",
            "GATEWAY_REDIS_URL": self.redis_url,
            "GATEWAY_LOG_LEVEL": "WARNING",
            # The benchmark dials each phone many times a minute: lift the per-phone limit.
            "GATEWAY_RATE_LIMIT_PER_MINUTE": "1000000",
        }

    def gateway(self, port: int, workers: int) -> Server:
        return server(
            [sys.executable, "-m", "gateway", "serve", "--host", HOST, "--port", str(port),
             "--workers", str(workers)],
            self.gateway_env(),
            f"http://{HOST}:{port}/readyz",
            log=self.log,
        )  # fmt: skip

    def baseline(self, port: int, workers: int) -> Server:
        return server(
            [sys.executable, str(ROOT / "bench" / "baseline_app.py"), "--port", str(port),
             "--workers", str(workers)],
            {**clean_env(), "BENCH_REDIS_URL": self.redis_url},
            f"http://{HOST}:{port}/healthz",
            log=self.log,
        )  # fmt: skip

    # ---- load -----------------------------------------------------------------------------

    def requests_for(self, port: int, phones: Sequence[str], tag: str) -> loadgen.RequestFactory:
        run = f"{self.run_id}-{tag}"

        def make(i: int) -> bytes:
            body = ussd_body(phones[i % len(phones)], f"{run}-{i}")
            return loadgen.form_post(HOST, port, USSD_PATH, body)

        return make

    def warm_up(self, port: int, phones: Sequence[str], tag: str) -> dict[str, int]:
        """Dial every phone once (32 at a time): caches the backend's answers for them."""
        result = loadgen.run(
            HOST, port, self.requests_for(port, phones, tag),
            rate=float("inf"), count=len(phones), max_connections=32, keep_bodies=True,
            timeout_s=300.0,  # all are due at once: the last waits for the 999 before it
        )  # fmt: skip
        return dict(Counter(self.classifier.kind(s.status, s.body) for s in result.samples))

    def wrk_turns(self, port: int, tag: str, pid: int | None = None) -> dict[str, Any]:
        """wrk's USSD dials on `port`; with the server's `pid`, what they cost (see probes)."""
        script = self.tmp / f"{tag}.lua"
        script.write_text(ussd_lua(self.warm, run=f"{self.run_id}-{tag}"))
        return self.measured(port, script, pid)

    def measured(self, port: int, script: Path, pid: int | None) -> dict[str, Any]:
        if pid is None:
            return run_wrk(
                self.wrk, f"http://{HOST}:{port}", script, self.args.seconds, self.args.connections
            )
        redis_before, cpu_before = self.redis.snapshot(), cpu_snapshot(pid)
        result: dict[str, Any] = run_wrk(
            self.wrk, f"http://{HOST}:{port}", script, self.args.seconds, self.args.connections
        )
        time.sleep(0.2)  # turns still in flight when wrk stopped finish before the counters
        cpu_after, redis_after = cpu_snapshot(pid), self.redis.snapshot()
        turns = int(result["requests"])
        result["cost"] = {
            **redis_cost(redis_before, redis_after, turns),
            **cpu_cost(cpu_before, cpu_after, turns),
        }
        return result

    def sms_turns(self, port: int, pid: int, tag: str, count: int) -> dict[str, Any]:
        """wrk's signed Twilio SMS (`MENU` from the warm phones) on `port`, with their cost."""
        requests = self.tmp / f"{tag}.requests"
        write_signed_requests(requests, self.warm, run=f"{self.run_id}{tag}", count=count)
        script = self.tmp / f"{tag}.lua"
        script.write_text(sms_lua(requests, threads=2))
        return self.measured(port, script, pid)

    def throughput(self, workers: int) -> dict[str, object]:
        """Baseline and gateway USSD turns/s at `workers`, alternating, `repeats` times each;
        then the gateway's SMS turns/s; each run with its Redis commands and CPU per turn."""
        bl_port, gw_port = free_port(), free_port()
        runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "gateway": [], "sms": []}
        with self.baseline(bl_port, workers) as bl, self.gateway(gw_port, workers) as gw:
            warm = self.warm_up(gw_port, self.warm, f"warm{workers}")
            print(f"  {workers} worker(s): warm-up dials {warm}")
            self.wrk_turns(bl_port, f"bl-pre{workers}")  # let both settle (JIT-free, but pools)
            apps = (("baseline", bl_port, bl.pid), ("gateway", gw_port, gw.pid))
            for rep in range(self.args.repeats):
                for name, port, pid in apps:
                    result = self.wrk_turns(port, f"{name}{workers}-{rep}", pid)
                    runs[name].append(result)
                    self.say(workers, name, rep, result)
            fastest = max(r["rps"] for r in runs["gateway"])
            count = int(fastest * self.args.seconds * SMS_REQUESTS_PER_USSD_TURN) + 2000
            for rep in range(self.args.repeats):
                result = self.sms_turns(gw_port, gw.pid, f"sms{workers}-{rep}", count)
                runs["sms"].append(result)
                self.say(workers, "sms", rep, result)
        baseline = statistics.median(r["rps"] for r in runs["baseline"])
        gateway = statistics.median(r["rps"] for r in runs["gateway"])
        return {
            "workers": workers,
            "baseline_turns_per_s": round(baseline, 1),
            "gateway_turns_per_s": round(gateway, 1),
            "ratio": round(gateway / baseline, 3) if baseline else None,
            "gateway_non_2xx": int(sum(r["errors"] for r in runs["gateway"])),
            "baseline_cost": median_cost(runs["baseline"]),
            "gateway_cost": median_cost(runs["gateway"]),
            "sms": {
                "turns_per_s": round(statistics.median(r["rps"] for r in runs["sms"]), 1),
                "non_2xx": int(sum(r["errors"] for r in runs["sms"])),
                "replayed": int(sum(r.get("replayed", 0) for r in runs["sms"])),
                "cost": median_cost(runs["sms"]),
            },
            "runs": runs,
        }

    @staticmethod
    def say(workers: int, name: str, rep: int, result: dict[str, Any]) -> None:
        cost = result.get("cost", {})
        print(
            f"  {workers} worker(s) {name:<8} run {rep + 1}: "
            f"{result['rps']:8.1f} turns/s  p99 {result.get('p99_ms')} ms  "
            f"non-2xx {int(result['errors'])}  redis sent/turn "
            f"{cost.get('redis_commands_per_turn')}  cpu ms/turn {cost.get('cpu_ms_per_turn')}"
        )

    def latency_sweep(self, workers: int) -> dict[str, list[dict[str, object]]]:
        """p50/p99 at each offered rate, open loop, gateway then baseline at each rate, with
        the cores each party used meanwhile (workers, Redis, this generator)."""
        bl_port, gw_port = free_port(), free_port()
        out: dict[str, list[dict[str, object]]] = {"gateway": [], "baseline": []}
        with self.baseline(bl_port, workers) as bl, self.gateway(gw_port, workers) as gw:
            self.warm_up(gw_port, self.warm, f"sweep-warm{workers}")
            for rate in self.args.rates:
                count = max(50, int(rate * self.args.rate_seconds))
                for name, port, pid in (
                    ("gateway", gw_port, gw.pid),
                    ("baseline", bl_port, bl.pid),
                ):
                    cpu, redis, own = cpu_snapshot(pid), self.redis.snapshot(), _own_cpu_s()
                    result = loadgen.run(
                        HOST, port, self.requests_for(port, self.warm, f"{name}-r{rate}"),
                        rate=float(rate), count=count, timeout_s=10.0,
                    )  # fmt: skip
                    summary = result.summary()
                    seconds = max(result.duration_s, 1e-9)
                    cores = cpu_cost(cpu, cpu_snapshot(pid), 1)["cpu_ms_per_turn"]
                    redis_s = self.redis.snapshot().cpu_s - redis.cpu_s
                    summary["cores_used"] = {
                        "workers": round(float(cores) / 1000 / seconds, 2),  # type: ignore[arg-type]
                        "redis": round(redis_s / seconds, 2),
                        "load_generator": round((_own_cpu_s() - own) / seconds, 2),
                    }
                    out[name].append(summary)
                    print(
                        f"  {name:<8} offered {rate:>5}/s achieved "
                        f"{summary['achieved_per_s']:>7}/s  p50 {summary['p50_ms']} ms  "
                        f"p99 {summary['p99_ms']} ms  statuses {summary['statuses']}  "
                        f"cores {summary['cores_used']}"
                    )
        return out


def median_cost(runs: Sequence[dict[str, Any]]) -> dict[str, object]:
    """The median of each per-turn cost over `runs` (the breakdown: the first run's)."""
    costs = [r["cost"] for r in runs if r.get("cost")]
    if not costs:
        return {}
    out: dict[str, object] = {
        key: round(statistics.median(c[key] for c in costs), 4)
        for key, value in costs[0].items()
        if isinstance(value, int | float)
    }
    out["redis_calls_by_command"] = costs[0].get("redis_calls_by_command", {})
    return out


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, to try the harness")
    parser.add_argument("--seconds", type=int, default=10, help="each wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2, help="wrk runs per app, median kept")
    parser.add_argument("--phones", type=int, default=1000, help="distinct guardian phones")
    parser.add_argument("--cold-phones", type=int, default=400)
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--workers", default="1,2", help="worker counts for throughput")
    parser.add_argument("--rates", default="100,250,500,750,1000", help="offered turns/s")
    parser.add_argument("--rate-seconds", type=float, default=8.0)
    parser.add_argument("--chaos-rate", type=float, default=40.0, help="turns/s while slow/down")
    parser.add_argument("--chaos-seconds", type=float, default=10.0)
    parser.add_argument("--single-flight", type=int, default=1000)
    parser.add_argument(
        "--single-flight-procs", type=int, default=2, help="processes sharing those reads"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.repeats, args.rate_seconds, args.chaos_seconds = 3, 1, 3.0, 4.0
        args.phones = min(args.phones, 300)
    args.workers = [int(w) for w in str(args.workers).split(",")]
    args.rates = [int(r) for r in str(args.rates).split(",")]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="massar-bench-"))
    result: dict[str, object] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": _cpus(), "python": sys.version.split()[0]},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    try:
        with ExitStack() as stack:
            redis_url = stack.enter_context(redis_server(tmp))
            print(f"seeding a sandbox ({args.students} students) in {tmp}")
            bench = Bench(args, tmp, redis_url)
            stack.callback(bench.redis.close)
            stack.enter_context(bench.sandbox())
            print("throughput (wrk, closed loop)")
            result["throughput"] = [bench.throughput(w) for w in args.workers]
            top = max(args.workers)
            print(f"latency against offered load (open loop, {top} workers)")
            result["latency"] = bench.latency_sweep(top)
            # Before the outage: the shared breaker stays open for a while after it.
            print("single-flight")
            result["single_flight"] = bench.single_flight()
            print("bytes per session")
            result["session"] = bench.session_bytes(top)
            print("backend slow and down")
            result["bad_backend"] = bench.bad_backend(top)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result["duration_s"] = round(time.monotonic() - started, 1)
    headline(result, args.workers)
    args.out.mkdir(parents=True, exist_ok=True)
    chart = args.out / "latency_vs_load.png"
    result["chart"] = draw_chart(result, chart, workers=max(args.workers))
    if args.out == RESULTS:
        write_result("latest", result)  # with the commit, the host's cores and load
    else:
        (args.out / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    print_table(result)
    print(f"written {shown(args.out / 'latest.json')}", end="")
    print(f" and {shown(chart)}" if result["chart"] else " (no chart)")
    return 0


def _own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    raise SystemExit(main())
