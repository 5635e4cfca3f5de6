"""The phases of `make bench` about bad days and state size: the backend slow and down,
single-flight over two processes, and the bytes a USSD session keeps in Redis. Mixed into
`bench.run.Bench`, whose servers, phones and load helpers they use."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

import httpx

from bench import loadgen
from bench.answers import Classifier
from bench.common import ROOT, USSD_PATH, SandboxAdmin, free_port, ussd_body

HOST = "127.0.0.1"
SESSION_PHONE = "+212600000001"  # Khadija, a demo guardian with two children
# A typical USSD session: dial, Absences, the child's Massar code, its birth date, More.
SESSION_TEXTS = ("", "1", "1*Z990000001", "1*Z990000001*14092018", "1*Z990000001*14092018*9")


class BadDaysAndSize:
    """What `Bench` provides to these phases."""

    args: argparse.Namespace
    warm: list[str]
    cold: list[str]
    single_flight_phone: str
    run_id: str
    redis_url: str
    admin: SandboxAdmin
    classifier: Classifier
    gateway: Callable[[int, int], AbstractContextManager[subprocess.Popen[bytes]]]
    gateway_env: Callable[[], dict[str, str]]
    warm_up: Callable[[int, Sequence[str], str], dict[str, int]]
    requests_for: Callable[[int, Sequence[str], str], loadgen.RequestFactory]

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
        from gateway.state.keys import Keys

        gw_port = free_port()
        client = redis.Redis.from_url(self.redis_url)
        keys = Keys(b"demo-identity-key")  # the gateway runs with the demo identity key
        session_key = keys.session(ChannelKind.USSD, SESSION_PHONE)
        # The USSD keys of the phone: its session and the answers remembered for its screens.
        pattern = f"mg:{keys.user_tag(SESSION_PHONE)}:ussd:*"
        client.delete(*(client.keys(pattern) or [session_key]))
        steps: list[dict[str, object]] = []
        with self.gateway(gw_port, workers), httpx.Client(timeout=10) as http:
            session_id = f"{self.run_id}-typical"
            for text in SESSION_TEXTS:
                resp = http.post(
                    f"http://{HOST}:{gw_port}{USSD_PATH}",
                    content=ussd_body(SESSION_PHONE, session_id, text),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                user_keys = client.keys(pattern)
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
