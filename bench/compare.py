"""`make bench-compare`: this tree's USSD turn against another commit's, beside the baseline.

Usage: python bench/compare.py --base REV [--seconds 5] [--workers 2] [--repeats 5]

The turn-cost work of issue #24 needed "before" and "after" in one run: on a shared 2-core host
the load moves between two runs more than most changes do. This starts the baseline
(`bench/baseline_app.py`), the gateway at `REV` (a throw-away `git worktree`) and the gateway of
this tree, warms both, then runs `make bench`'s wrk phase on each in turn, `--repeats` times:
the three always see the same load. Prints, per tree, the throughput ratio to the baseline and
the worker CPU per turn in baselines (medians), and writes bench/results/compare.json.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, free_port, redis_server, stop, wait_ok, write_result
from bench.run import HOST, Bench, parse_args


@contextmanager
def worktree(rev: str, tmp: Path) -> Iterator[Path]:
    path = tmp / "base"
    subprocess.run(["git", "worktree", "add", "--detach", str(path), rev], cwd=ROOT, check=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False)


@contextmanager
def gateway_at(bench: Bench, tree: Path, port: int, workers: int) -> Iterator[int]:
    """`python -m gateway serve` run from `tree` (its own code first on the path)."""
    env = {**bench.gateway_env(), "PYTHONPATH": str(tree)}
    command = [sys.executable, "-m", "gateway", "serve", "--host", HOST, "--port", str(port),
               "--workers", str(workers)]  # fmt: skip
    with open(bench.log, "ab") as out:
        proc = subprocess.Popen(command, env=env, cwd=tree, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_ok(f"http://{HOST}:{port}/readyz", proc=proc)
            yield proc.pid
        finally:
            stop(proc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the commit to compare against")
    parser.add_argument("--seconds", default="5")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    bench_args = parse_args(["--seconds", args.seconds, "--phones", "500"])
    tmp = Path(tempfile.mkdtemp(prefix="massar-compare-"))
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "base": [], "this": []}
    with ExitStack() as stack:
        base_tree = stack.enter_context(worktree(args.base, tmp))
        bench = Bench(bench_args, tmp, stack.enter_context(redis_server(tmp)))
        stack.callback(bench.redis.close)
        stack.enter_context(bench.sandbox())
        ports = {name: free_port() for name in runs}
        baseline = stack.enter_context(bench.baseline(ports["baseline"], args.workers))
        pids = {"baseline": baseline.pid}
        for name, tree in (("base", base_tree), ("this", ROOT)):
            pids[name] = stack.enter_context(gateway_at(bench, tree, ports[name], args.workers))
            print(f"{name}: warm-up {bench.warm_up(ports[name], bench.warm, f'warm-{name}')}")
        for rep in range(args.repeats):
            for name in runs:
                result = bench.wrk_turns(ports[name], f"{name}-{rep}", pids[name])
                runs[name].append(result)
                Bench.say(args.workers, name, rep, result)
    summary = {name: _against(runs[name], runs["baseline"]) for name in ("base", "this")}
    for name, figures in summary.items():
        ratio, cpu = figures["ratio"], figures["cpu_baselines"]
        print(f"{name:>5}: ratio {ratio:.3f}, CPU {cpu:.2f} baselines")
    write_result("compare", {"base": args.base, "workers": args.workers, "summary": summary,
                             "runs": runs})  # fmt: skip
    return 0


def _against(runs: list[dict[str, Any]], baseline: list[dict[str, Any]]) -> dict[str, float]:
    """Medians over the alternated runs: throughput ÷ the baseline's, CPU per turn in baselines."""
    pairs = list(zip(runs, baseline, strict=True))
    return {
        "ratio": statistics.median(r["rps"] / b["rps"] for r, b in pairs),
        "cpu_baselines": statistics.median(
            r["cost"]["cpu_ms_per_turn"] / b["cost"]["cpu_ms_per_turn"] for r, b in pairs
        ),
        "cpu_ms_per_turn": statistics.median(r["cost"]["cpu_ms_per_turn"] for r, _ in pairs),
    }


if __name__ == "__main__":
    raise SystemExit(main())
