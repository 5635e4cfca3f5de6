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
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import httpx

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
    seed_sandbox,
    server,
    ussd_lua,
)

HOST = "127.0.0.1"
SESSION_PHONE = "+212600000001"  # Khadija, a demo guardian with two children
# A typical USSD session: dial, Absences, the child's Massar code, its birth date, More.
SESSION_TEXTS = ("", "1", "1*Z990000001", "1*Z990000001*14092018", "1*Z990000001*14092018*9")
TARGETS = {
    "ratio": 0.60,
    "p99_ms_at_1000": 50.0,
    "single_flight_backend_calls": 1,
    "down_answered_within_3s": 1.0,
    "session_bytes": 1024,
}


def ussd_body(phone: str, session_id: str, text: str = "") -> str:
    return (
        f"sessionId={session_id}&serviceCode=%2A2020%23&phoneNumber={phone.replace('+', '%2B')}"
        f"&networkCode=60400&text={text}"
    )


class Bench:
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
        self.classifier = Classifier()

    # ---- servers --------------------------------------------------------------------------

    def sandbox(self) -> object:
        return server(
            [sys.executable, "-m", "sandbox", "serve", "--host", HOST,
             "--port", str(self.sandbox_port)],
            {**self.sandbox_env, "SANDBOX_ENV": "test"},
            f"http://{HOST}:{self.sandbox_port}/api/v1/health",
            log=self.log,
        )  # fmt: skip

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

    def gateway(self, port: int, workers: int) -> object:
        return server(
            [sys.executable, "-m", "gateway", "serve", "--host", HOST, "--port", str(port),
             "--workers", str(workers)],
            self.gateway_env(),
            f"http://{HOST}:{port}/readyz",
            log=self.log,
        )  # fmt: skip

    def baseline(self, port: int, workers: int) -> object:
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
        )  # fmt: skip
        return dict(Counter(self.classifier.kind(s.status, s.body) for s in result.samples))

    def wrk_turns(self, port: int, tag: str) -> dict[str, float]:
        script = self.tmp / f"{tag}.lua"
        script.write_text(ussd_lua(self.warm, run=f"{self.run_id}-{tag}"))
        return run_wrk(
            self.wrk, f"http://{HOST}:{port}", script, self.args.seconds, self.args.connections
        )

    def throughput(self, workers: int) -> dict[str, object]:
        """Baseline and gateway turns/s at `workers`, alternating, `repeats` times each."""
        bl_port, gw_port = free_port(), free_port()
        runs: dict[str, list[dict[str, float]]] = {"baseline": [], "gateway": []}
        with self.baseline(bl_port, workers), self.gateway(gw_port, workers):
            warm = self.warm_up(gw_port, self.warm, f"warm{workers}")
            print(f"  {workers} worker(s): warm-up dials {warm}")
            self.wrk_turns(bl_port, f"bl-pre{workers}")  # let both settle (JIT-free, but pools)
            for rep in range(self.args.repeats):
                for name, port in (("baseline", bl_port), ("gateway", gw_port)):
                    result = self.wrk_turns(port, f"{name}{workers}-{rep}")
                    runs[name].append(result)
                    print(
                        f"  {workers} worker(s) {name:<8} run {rep + 1}: "
                        f"{result['rps']:8.1f} turns/s  p99 {result.get('p99_ms')} ms  "
                        f"non-2xx {int(result['errors'])}"
                    )
        baseline = statistics.median(r["rps"] for r in runs["baseline"])
        gateway = statistics.median(r["rps"] for r in runs["gateway"])
        return {
            "workers": workers,
            "baseline_turns_per_s": round(baseline, 1),
            "gateway_turns_per_s": round(gateway, 1),
            "ratio": round(gateway / baseline, 3) if baseline else None,
            "gateway_non_2xx": int(sum(r["errors"] for r in runs["gateway"])),
            "runs": runs,
        }

    def latency_sweep(self, workers: int) -> dict[str, list[dict[str, object]]]:
        """p50/p99 at each offered rate, open loop, gateway then baseline at each rate."""
        bl_port, gw_port = free_port(), free_port()
        out: dict[str, list[dict[str, object]]] = {"gateway": [], "baseline": []}
        with self.baseline(bl_port, workers), self.gateway(gw_port, workers):
            self.warm_up(gw_port, self.warm, f"sweep-warm{workers}")
            for rate in self.args.rates:
                count = max(50, int(rate * self.args.rate_seconds))
                for name, port in (("gateway", gw_port), ("baseline", bl_port)):
                    result = loadgen.run(
                        HOST, port, self.requests_for(port, self.warm, f"{name}-r{rate}"),
                        rate=float(rate), count=count, timeout_s=10.0,
                    )  # fmt: skip
                    summary = result.summary()
                    out[name].append(summary)
                    print(
                        f"  {name:<8} offered {rate:>5}/s achieved "
                        f"{summary['achieved_per_s']:>7}/s  p50 {summary['p50_ms']} ms  "
                        f"p99 {summary['p99_ms']} ms  statuses {summary['statuses']}"
                    )
        return out

    def bad_backend(self, workers: int) -> dict[str, object]:
        """USSD turns while the backend is slow (p99 5 s), then down; cached and cold phones."""
        gw_port = free_port()
        out: dict[str, object] = {}
        cold = iter(self.cold)
        with self.gateway(gw_port, workers):
            self.warm_up(gw_port, self.warm, f"chaos-warm{workers}")
            per_phase = max(20, int(self.args.chaos_rate * self.args.chaos_seconds))
            for phase, chaos in (
                ("slow", {"latency_median_ms": 1000, "latency_p99_ms": 5000}),
                ("down", {"down": True}),
            ):
                self.admin.calm()
                self.admin.chaos(**chaos)
                # Every 4th turn from a phone the gateway never saw (cold), the rest cached.
                n_cold = per_phase // 4
                cold_phones = [next(cold) for _ in range(n_cold)]
                kinds: list[str] = []
                phones: list[str] = []
                for i in range(per_phase):
                    if i % 4 == 3 and cold_phones:
                        phones.append(cold_phones.pop())
                        kinds.append("cold")
                    else:
                        phones.append(self.warm[i % len(self.warm)])
                        kinds.append("cached")
                try:
                    result = loadgen.run(
                        HOST, gw_port, self.requests_for(gw_port, phones, phase),
                        rate=float(self.args.chaos_rate), count=per_phase, timeout_s=15.0,
                        keep_bodies=True,
                    )  # fmt: skip
                finally:
                    self.admin.calm()
                out[phase] = self.classify(result, kinds)
                print(f"  backend {phase}: {json.dumps(out[phase])}")
        return out

    def classify(self, result: loadgen.LoadResult, kinds: Sequence[str]) -> dict[str, object]:
        total = len(result.samples)
        summary: dict[str, object] = {
            "turns": total,
            "answered_within_3s": round(result.within(3.0), 4),
            "p50_ms": result.percentile_ms(50),
            "p99_ms": result.percentile_ms(99),
        }
        for group in ("all", "cached", "cold"):
            picked = [s for s in result.samples if group == "all" or kinds[s.index] == group]
            if not picked:
                continue
            counts = Counter(self.classifier.kind(s.status, s.body) for s in picked)
            summary[group] = {k: round(v / len(picked), 4) for k, v in sorted(counts.items())}
            summary[group]["within_3s"] = round(  # type: ignore[index]
                sum(1 for s in picked if s.status and s.latency_s <= 3.0) / len(picked), 4
            )
        return summary

    def single_flight(self) -> dict[str, object]:
        """1,000 identical reads on a cold cache from two processes; backend calls counted."""
        self.admin.calm()
        self.admin.reset_stats()
        n, k = self.args.single_flight, self.args.single_flight_procs
        start_at = time.time() + 3.0  # every process fires at this instant
        procs = [
            subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "single_flight.py"),
                 "--phone", self.single_flight_phone, "--count", str(n // k + (w < n % k)),
                 "--start-at", str(start_at)],
                env=self.gateway_env(), cwd=ROOT, stdout=subprocess.PIPE, text=True,
            )
            for w in range(k)
        ]  # fmt: skip
        reports = []
        for proc in procs:
            stdout, _ = proc.communicate(timeout=120)
            if proc.returncode != 0:
                raise SystemExit(f"bench/single_flight.py failed ({proc.returncode})")
            reports.append(json.loads(stdout.strip().splitlines()[-1]))
        stats = self.admin.stats()
        routes = stats.get("routes", {})
        lookups = sum(
            count
            for route, by_status in routes.items()  # type: ignore[union-attr]
            if "guardians/lookup" in route
            for count in by_status.values()
        )
        outcomes: Counter[str] = Counter()
        for report in reports:
            outcomes.update(report["outcomes"])
        return {
            "queries": n,
            "processes": len(procs),
            "answered": outcomes.get("ok", 0),
            "backend_calls": int(stats.get("total", 0)),  # type: ignore[arg-type]
            "backend_lookup_calls": lookups,
            "outcomes": dict(outcomes),
            "backend_wired": reports[0]["backend"],
        }

    def session_bytes(self, workers: int) -> dict[str, object]:
        """MEMORY USAGE of the session (and of all the user's keys) along a typical session."""
        import redis

        from gateway.dialogs.model import ChannelKind
        from gateway.store import Keys

        gw_port = free_port()
        client = redis.Redis.from_url(self.redis_url)
        keys = Keys(b"demo-identity-key")  # the gateway runs with the demo identity key
        session_key = keys.session(ChannelKind.USSD, SESSION_PHONE)
        tag = keys.user_tag(ChannelKind.USSD, SESSION_PHONE)
        client.delete(*(client.keys(f"mg:{tag}:*") or [session_key]))
        steps: list[dict[str, object]] = []
        with self.gateway(gw_port, workers), httpx.Client(timeout=10) as http:
            session_id = f"{self.run_id}-typical"
            for text in SESSION_TEXTS:
                resp = http.post(
                    f"http://{HOST}:{gw_port}{USSD_PATH}",
                    content=ussd_body(SESSION_PHONE, session_id, text),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                user_keys = client.keys(f"mg:{tag}:*")
                steps.append(
                    {
                        "text_len": len(text),
                        "screen": resp.text.split("\n", 1)[0][:40],
                        "session_memory_bytes": client.memory_usage(session_key) or 0,
                        "session_json_bytes": len(client.hget(session_key, "doc") or b""),
                        "user_keys": len(user_keys),
                        "user_keys_memory_bytes": sum(
                            client.memory_usage(k) or 0 for k in user_keys
                        ),
                    }
                )
        client.close()
        return {
            "session_bytes": max(int(s["session_memory_bytes"]) for s in steps),  # type: ignore[call-overload]
            "session_json_bytes": max(int(s["session_json_bytes"]) for s in steps),  # type: ignore[call-overload]
            "user_keys_bytes": max(int(s["user_keys_memory_bytes"]) for s in steps),  # type: ignore[call-overload]
            "steps": steps,
        }


def metrics_snapshot(port: int) -> str | None:
    try:
        resp = httpx.get(f"http://{HOST}:{port}/metrics", timeout=2)
    except httpx.HTTPError:
        return None
    return resp.text if resp.status_code == 200 else None


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
            stack.enter_context(bench.sandbox())  # type: ignore[arg-type]
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
    headline(result, args)
    args.out.mkdir(parents=True, exist_ok=True)
    chart = args.out / "latency_vs_load.png"
    result["chart"] = draw_chart(result, chart, workers=max(args.workers))
    (args.out / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    print_table(result)
    print(f"written {(args.out / 'latest.json').relative_to(ROOT)}", end="")
    print(f" and {chart.relative_to(ROOT)}" if result["chart"] else " (no chart)")
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def headline(result: dict[str, object], args: argparse.Namespace) -> None:
    """The flat keys of latest.json, from the detailed sections."""
    throughput = {t["workers"]: t for t in result["throughput"]}  # type: ignore[attr-defined,index]
    top = throughput[max(args.workers)]
    result["workers"] = top["workers"]
    result["baseline_turns_per_s"] = top["baseline_turns_per_s"]
    result["gateway_turns_per_s"] = top["gateway_turns_per_s"]
    result["ratio"] = top["ratio"]
    gateway_sweep = result["latency"]["gateway"]  # type: ignore[index]
    baseline_sweep = result["latency"]["baseline"]  # type: ignore[index]
    at_max = gateway_sweep[-1]
    result["p99_ms_at_1000"] = at_max["p99_ms"] if at_max["offered_per_s"] == 1000 else None
    result["p99_at_1000_is_lower_bound"] = bool(at_max.get("p99_is_lower_bound"))
    result["achieved_turns_per_s_at_1000"] = (
        at_max["achieved_per_s"] if at_max["offered_per_s"] == 1000 else None
    )
    result["baseline_p99_ms_at_1000"] = (
        baseline_sweep[-1]["p99_ms"] if baseline_sweep[-1]["offered_per_s"] == 1000 else None
    )
    sf = result["single_flight"]
    result["single_flight_backend_calls"] = sf["backend_lookup_calls"]  # type: ignore[index]
    result["single_flight_answered"] = sf["answered"]  # type: ignore[index]
    bad = result["bad_backend"]
    result["down_answered_within_3s"] = bad["down"]["answered_within_3s"]  # type: ignore[index]
    result["slow_answered_within_3s"] = bad["slow"]["answered_within_3s"]  # type: ignore[index]
    result["session_bytes"] = result["session"]["session_bytes"]  # type: ignore[index]


def verdict(value: object, target: float, *, higher_is_better: bool) -> str:
    if value is None:
        return "n/a"
    number = float(value)  # type: ignore[arg-type]
    ok = number >= target if higher_is_better else number <= target
    return "met" if ok else "NOT met"


def print_table(r: dict[str, object]) -> None:
    def share(group: dict[str, float] | None, *names: str) -> str:
        if not group:
            return "-"
        return f"{sum(group.get(n, 0.0) for n in names):.0%}"

    rows: list[tuple[str, str, str, str]] = []
    for t in r["throughput"]:  # type: ignore[attr-defined]
        w = t["workers"]
        rows.append((f"baseline turns/s, {w} worker(s)", f"{t['baseline_turns_per_s']}", "", ""))
        rows.append((f"gateway turns/s, {w} worker(s)", f"{t['gateway_turns_per_s']}", "", ""))
        rows.append(
            (f"gateway / baseline, {w} worker(s)", f"{t['ratio']}", ">= 0.60",
             verdict(t["ratio"], TARGETS["ratio"], higher_is_better=True))
        )  # fmt: skip
    achieved = r.get("achieved_turns_per_s_at_1000")
    bound = ">= " if r.get("p99_at_1000_is_lower_bound") else ""
    rows.append(
        (f"p99 ms at 1000 turns/s offered, {r['workers']} workers", f"{bound}{r['p99_ms_at_1000']}",
         "<= 50", verdict(r["p99_ms_at_1000"], TARGETS["p99_ms_at_1000"], higher_is_better=False))
    )  # fmt: skip
    rows.append(("  achieved turns/s at 1000 offered", f"{achieved}", "1000", ""))
    rows.append(("  baseline p99 ms at 1000 offered", f"{r['baseline_p99_ms_at_1000']}", "", ""))
    sf = r["single_flight"]
    rows.append(
        (f"backend calls for {sf['queries']} identical cold reads",  # type: ignore[index]
         f"{r['single_flight_backend_calls']}", "1",
         "met" if r["single_flight_backend_calls"] == 1 else "NOT met")
    )  # fmt: skip
    failed = {k: v for k, v in sf["outcomes"].items() if k != "ok"}  # type: ignore[index]
    rows.append(("  of those reads answered", f"{sf['answered']}", "", ""))  # type: ignore[index]
    if failed:
        rows.append(("  failed reads, by error", json.dumps(failed), "", ""))
    bad = r["bad_backend"]
    for phase in ("slow", "down"):
        data = bad[phase]  # type: ignore[index]
        target = "1.00" if phase == "down" else ""
        rows.append(
            (f"backend {phase}: answered within 3 s", f"{data['answered_within_3s']:.4f}", target,
             verdict(data["answered_within_3s"], 1.0, higher_is_better=True)
             if phase == "down" else "")
        )  # fmt: skip
        for group in ("cached", "cold"):
            g = data.get(group)
            rows.append(
                (f"  {group} phones: data / SMS later / busy",
                 f"{share(g, 'data', 'stale')} / {share(g, 'sms_later')} / {share(g, 'busy')}",
                 "", "")
            )  # fmt: skip
    rows.append(
        ("session bytes in Redis (MEMORY USAGE, max)", f"{r['session_bytes']}", "<= 1024",
         verdict(r["session_bytes"], TARGETS["session_bytes"], higher_is_better=False))
    )  # fmt: skip
    session = r["session"]
    rows.append(("  session JSON bytes", f"{session['session_json_bytes']}", "", ""))  # type: ignore[index]
    rows.append(("  all the user's keys incl. dedupe", f"{session['user_keys_bytes']}", "", ""))  # type: ignore[index]
    width = max(len(row[0]) for row in rows) + 2
    print()
    print(f"{'measure':<{width}}{'value':>16}  {'target':<9}{'verdict'}")
    for name, value, target, ok in rows:
        print(f"{name:<{width}}{value:>16}  {target:<9}{ok}")
    print(f"(run took {r['duration_s']} s on {r['machine']['cpus']} CPUs)")  # type: ignore[index]


def draw_chart(result: dict[str, object], path: Path, *, workers: int) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing (pip install -e '.[bench]'): no chart")
        return False
    fig, ax = plt.subplots(figsize=(8, 5))
    for name, colour in (("gateway", "tab:red"), ("baseline", "tab:blue")):
        points = result["latency"][name]  # type: ignore[index]
        rates = [p["offered_per_s"] for p in points]
        for pct, style in (("p50_ms", "--"), ("p99_ms", "-")):
            values = [p[pct] if p[pct] is not None else float("nan") for p in points]
            ax.plot(rates, values, style, marker="o", color=colour, label=f"{name} {pct[:3]}")
    ax.axhline(50, color="grey", linewidth=0.8, linestyle=":", label="p99 target 50 ms")
    ax.set_xlabel("offered USSD turns/s (open loop)")
    ax.set_ylabel("latency, ms (log)")
    ax.set_yscale("log")
    ax.set_title(f"USSD turn latency against load, {workers} workers, one shared machine")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


if __name__ == "__main__":
    raise SystemExit(main())
