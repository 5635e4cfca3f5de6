"""The report of `make bench`: the flat keys of latest.json, the table and the chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TARGETS = {
    "ratio": 0.60,
    "p99_ms_at_1000": 50.0,
    "redis_commands_per_turn": 3.0,
    "single_flight_backend_calls": 1,
    "down_answered_within_3s": 1.0,
    "session_bytes": 1024,
}
COST_KEYS = (
    "redis_commands_per_turn",
    "redis_calls_per_turn",
    "redis_cpu_ms_per_turn",
    "cpu_ms_per_turn",
    "loadgen_cpu_ms_per_turn",
)


def headline(result: dict[str, Any], workers: list[int]) -> None:
    """The flat keys of latest.json, from the detailed sections (costs: the top worker count)."""
    throughput = {t["workers"]: t for t in result["throughput"]}
    top = throughput[max(workers)]
    result["workers"] = top["workers"]
    result["baseline_turns_per_s"] = top["baseline_turns_per_s"]
    result["gateway_turns_per_s"] = top["gateway_turns_per_s"]
    result["ratio"] = top["ratio"]
    result["sms_turns_per_s"] = top["sms"]["turns_per_s"]
    for key in COST_KEYS:
        result[key] = top["gateway_cost"].get(key)
        result[f"baseline_{key}"] = top["baseline_cost"].get(key)
        result[f"sms_{key}"] = top["sms"]["cost"].get(key)
    gateway_sweep = result["latency"]["gateway"]
    baseline_sweep = result["latency"]["baseline"]
    at_max = gateway_sweep[-1]
    result["p99_ms_at_1000"] = at_max["p99_ms"] if at_max["offered_per_s"] == 1000 else None
    result["p99_at_1000_is_lower_bound"] = bool(at_max.get("p99_is_lower_bound"))
    result["achieved_turns_per_s_at_1000"] = (
        at_max["achieved_per_s"] if at_max["offered_per_s"] == 1000 else None
    )
    result["baseline_p99_ms_at_1000"] = (
        baseline_sweep[-1]["p99_ms"] if baseline_sweep[-1]["offered_per_s"] == 1000 else None
    )
    result["cores_used_at_1000"] = {
        "gateway": at_max.get("cores_used") if at_max["offered_per_s"] == 1000 else None,
        "baseline": baseline_sweep[-1].get("cores_used")
        if baseline_sweep[-1]["offered_per_s"] == 1000
        else None,
    }
    sf = result["single_flight"]
    result["single_flight_backend_calls"] = sf["backend_lookup_calls"]
    result["single_flight_answered"] = sf["answered"]
    bad = result["bad_backend"]
    result["down_answered_within_3s"] = bad["down"]["answered_within_3s"]
    result["slow_answered_within_3s"] = bad["slow"]["answered_within_3s"]
    result["session_bytes"] = result["session"]["session_bytes"]


def verdict(value: object, target: float, *, higher_is_better: bool) -> str:
    if value is None:
        return "n/a"
    number = float(value)
    ok = number >= target if higher_is_better else number <= target
    return "met" if ok else "NOT met"


def print_table(r: dict[str, Any]) -> None:
    def share(group: dict[str, float] | None, *names: str) -> str:
        if not group:
            return "-"
        return f"{sum(group.get(n, 0.0) for n in names):.0%}"

    rows: list[tuple[str, str, str, str]] = []
    for t in r["throughput"]:
        w = t["workers"]
        rows.append((f"baseline turns/s, {w} worker(s)", f"{t['baseline_turns_per_s']}", "", ""))
        rows.append((f"gateway turns/s, {w} worker(s)", f"{t['gateway_turns_per_s']}", "", ""))
        rows.append(
            (f"gateway / baseline, {w} worker(s)", f"{t['ratio']}", ">= 0.60",
             verdict(t["ratio"], TARGETS["ratio"], higher_is_better=True))
        )  # fmt: skip
        sms = t["sms"]
        replayed = f" ({int(sms['replayed'])} replayed)" if sms.get("replayed") else ""
        rows.append((f"SMS turns/s (Twilio, signed), {w} worker(s)",
                     f"{sms['turns_per_s']}{replayed}", "", "no target"))  # fmt: skip
        gw, bl, sc = t["gateway_cost"], t["baseline_cost"], sms["cost"]
        rows.append(
            (f"  CPU ms per turn, workers: gateway / baseline / SMS, {w} worker(s)",
             f"{gw.get('cpu_ms_per_turn')} / {bl.get('cpu_ms_per_turn')} / "
             f"{sc.get('cpu_ms_per_turn')}", "", "")
        )  # fmt: skip
        rows.append(
            (f"  CPU ms per turn, Redis / wrk (gateway run), {w} worker(s)",
             f"{gw.get('redis_cpu_ms_per_turn')} / {gw.get('loadgen_cpu_ms_per_turn')}", "", "")
        )  # fmt: skip
    rows.append(
        ("redis commands sent per turn, gateway USSD (warm dial)",
         f"{r['redis_commands_per_turn']}", "<= 3",
         verdict(r["redis_commands_per_turn"], TARGETS["redis_commands_per_turn"],
                 higher_is_better=False))
    )  # fmt: skip
    rows.append(
        ("  sent per turn: baseline / gateway SMS",
         f"{r['baseline_redis_commands_per_turn']} / {r['sms_redis_commands_per_turn']}", "", "")
    )  # fmt: skip
    rows.append(
        ("  executed per turn incl. in Lua: gateway / baseline",
         f"{r['redis_calls_per_turn']} / {r['baseline_redis_calls_per_turn']}", "", "")
    )  # fmt: skip
    achieved = r.get("achieved_turns_per_s_at_1000")
    bound = ">= " if r.get("p99_at_1000_is_lower_bound") else ""
    rows.append(
        (f"p99 ms at 1000 turns/s offered, {r['workers']} workers", f"{bound}{r['p99_ms_at_1000']}",
         "<= 50", verdict(r["p99_ms_at_1000"], TARGETS["p99_ms_at_1000"], higher_is_better=False))
    )  # fmt: skip
    rows.append(("  achieved turns/s at 1000 offered", f"{achieved}", "1000", ""))
    rows.append(("  baseline p99 ms at 1000 offered", f"{r['baseline_p99_ms_at_1000']}", "", ""))
    for app in ("gateway", "baseline"):
        cores = (r.get("cores_used_at_1000") or {}).get(app)
        if cores:
            rows.append(
                (f"  cores used at 1000 offered ({app} run): workers / Redis / generator",
                 f"{cores['workers']} / {cores['redis']} / {cores['load_generator']}", "", "")
            )  # fmt: skip
    sf = r["single_flight"]
    rows.append(
        (f"backend calls for {sf['queries']} identical cold reads",
         f"{r['single_flight_backend_calls']}", "1",
         "met" if r["single_flight_backend_calls"] == 1 else "NOT met")
    )  # fmt: skip
    failed = {k: v for k, v in sf["outcomes"].items() if k != "ok"}
    rows.append(("  of those reads answered", f"{sf['answered']}", "", ""))
    if failed:
        rows.append(("  failed reads, by error", json.dumps(failed), "", ""))
    bad = r["bad_backend"]
    for phase in ("slow", "down"):
        data = bad[phase]
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
    rows.append(("  session JSON bytes", f"{session['session_json_bytes']}", "", ""))
    rows.append(("  all the user's keys incl. dedupe", f"{session['user_keys_bytes']}", "", ""))
    width = max(len(row[0]) for row in rows) + 2
    print()
    print(f"{'measure':<{width}}{'value':>16}  {'target':<9}{'verdict'}")
    for name, value, target, ok in rows:
        print(f"{name:<{width}}{value:>16}  {target:<9}{ok}")
    print(f"(run took {r['duration_s']} s on {r['machine']['cpus']} CPUs)")


def draw_chart(result: dict[str, Any], path: Path, *, workers: int) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing (pip install -e '.[bench]'): no chart")
        return False
    fig, ax = plt.subplots(figsize=(8, 5))
    for name, colour in (("gateway", "tab:red"), ("baseline", "tab:blue")):
        points = result["latency"][name]
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
