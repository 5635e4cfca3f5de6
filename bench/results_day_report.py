"""The table and the chart of `make bench-results-day` (`bench/results_day.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TARGET_RATIO = 2.0  # the turns' p99 during the publication, at most this many quiet p99s


def ms(value: object) -> str:
    return "-" if value is None else f"{float(value):,.1f}"  # type: ignore[arg-type]


def rate(value: object) -> str:
    return "-" if value is None else f"{float(value):,.0f}"  # type: ignore[arg-type]


def ratio_of(publication: object, quiet: object) -> float | None:
    if publication is None or quiet is None or not float(quiet):  # type: ignore[arg-type]
        return None
    return round(float(publication) / float(quiet), 2)  # type: ignore[arg-type]


def print_table(r: dict[str, Any]) -> None:
    turns, replies, alerts = r["turns"], r["replies"], r["alerts"]
    quiet, pub = turns["quiet"], turns["publication"]

    def answered(phase: dict[str, Any]) -> str:
        return f"{phase['turns'] - phase['statuses'].get('0', 0):,}/{phase['turns']:,}"

    rows: list[tuple[str, str, str, str]] = [
        ("turns answered / offered (30 s at most)", answered(quiet), answered(pub), ""),
    ]
    for kind, label in (("all", "all turns"), ("ussd", "USSD dial"), ("sms", "Kannel SMS in")):
        for p in ("p50_ms", "p99_ms"):
            q, b = quiet[kind][p], pub[kind][p]
            ratio = ratio_of(b, q)
            rows.append(
                (f"{label} {p[:3]} (ms)", ms(q), ms(b), "-" if ratio is None else f"{ratio}x")
            )
    for kind, label in (("reply", "SMS reply queued -> sent"), ("followup", "USSD follow-up")):
        q, b = replies["quiet"][kind], replies["publication"][kind]
        if not (q["queued"] or b["queued"]):
            continue
        rows.append((f"{label}: sent / queued", f"{q['sent']:,}/{q['queued']:,}",
                     f"{b['sent']:,}/{b['queued']:,}", ""))  # fmt: skip
        for p in ("p50_ms", "p99_ms"):
            ratio = ratio_of(b[p], q[p])
            rows.append((f"{label} {p[:3]} (ms)", ms(q[p]), ms(b[p]),
                         "-" if ratio is None else f"{ratio}x"))  # fmt: skip
    rows += [
        ("alerts/s while turns arrive", "", rate(alerts["with_turns_per_s"]), ""),
        ("alerts/s alone (after the last turn)", "", rate(alerts["alone_per_s"]), ""),
        ("alerts sent (publication)", "", f"{alerts['alerts']:,}", ""),
        ("bulk backlog, peak", "", f"{r['backlog'].get('peak', {}).get('bulk', 0):,}", ""),
    ]
    width = max(len(row[0]) for row in rows) + 2
    print()
    print(f"{'':<{width}}{'quiet':>12}{'publication':>14}{'ratio':>9}")
    for name, q_text, b_text, ratio_text in rows:
        print(f"{name:<{width}}{q_text:>12}{b_text:>14}{ratio_text:>9}")
    verdict = r["p99_ratio"]
    met = "n/a" if verdict is None else ("met" if verdict <= TARGET_RATIO else "NOT met")
    print(
        f"turns' p99, publication / quiet: {verdict} (target <= {TARGET_RATIO:g}: {met}); "
        f"{r['rate']:g} turns/s offered, {r['gateway_workers']} gateway and "
        f"{r['senders']} sender workers, {r['pupils_published']:,} pupils published, "
        f"load average {r['load_during']}"
    )


def draw_chart(r: dict[str, Any], path: Path) -> bool:
    """Turn latency p99 and alerts/s over time, the publication's start and the last turn
    marked; the bulk backlog on a second axis."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing (pip install -e '.[bench]'): no chart")
        return False
    s = r["series"]
    t = s["t_s"]
    nan = float("nan")
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True)
    top.plot(t, [v if v is not None else nan for v in s["turn_p99_ms"]], color="tab:red",
             label="turns' p99 (USSD and SMS), ms")  # fmt: skip
    quiet = r["turns"]["quiet"]["all"]["p99_ms"]
    if quiet:
        top.axhline(quiet * TARGET_RATIO, color="grey", linestyle=":", linewidth=0.9,
                    label=f"{TARGET_RATIO:g}x the quiet p99")  # fmt: skip
    top.set_yscale("log")
    top.set_ylabel("latency, ms (log)")
    top.grid(True, which="both", alpha=0.3)
    bottom.plot(t, s["alerts_per_s"], color="tab:blue", label="alerts/s to the sink")
    bottom.set_ylabel("alerts/s")
    bottom.set_xlabel("seconds since the first turn")
    bottom.grid(True, alpha=0.3)
    backlog = bottom.twinx()
    backlog.plot(t, [v if v is not None else nan for v in s["bulk_backlog"]], color="tab:green",
                 linestyle="--", label="alerts waiting (bulk backlog)")  # fmt: skip
    backlog.set_ylabel("alerts waiting")
    marks = r["marks_s"]
    for ax in (top, bottom):
        ax.axvline(marks["publication"], color="black", linewidth=1.2)
        ax.axvline(marks["turns_end"], color="black", linewidth=0.8, linestyle="--")
    for label, at in (
        ("publication starts", marks["publication"]),
        ("last turn", marks["turns_end"]),
    ):
        top.annotate(label, (at, 1), xycoords=("data", "axes fraction"), xytext=(4, -12),
                     textcoords="offset points", fontsize=8)  # fmt: skip
    top.legend(loc="lower right", fontsize=8)
    lines = bottom.get_legend_handles_labels()
    more = backlog.get_legend_handles_labels()
    bottom.legend(lines[0] + more[0], lines[1] + more[1], loc="upper right", fontsize=8)
    top.set_title(
        f"Results day on one machine: {r['rate']:g} turns/s while {r['pupils_published']:,} "
        f"pupils' marks go out ({r['host_cores']} cores, load {r['load_during']})",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
