"""Requests/s of the sandbox backend for a grades read, against its own /health as baseline.

Usage: python bench/sandbox_reads.py [--students 3000] [--seconds 10] [--connections 32]

Seeds a throw-away SQLite database, starts the sandbox with uvicorn on a free loopback port
(one worker, no chaos), and runs wrk (installed from Debian when missing) twice in the same run:
GET /api/v1/health (the baseline: routing and JSON only) and GET .../grades for a demo student
(auth, link check, database read, serialisation). Prints both rates and their ratio, and writes
bench/results/sandbox_reads.json.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, ensure_wrk, free_port, write_result

TOKEN = "sandbox-token"  # noqa: S105 - the sandbox's documented demo token


def wrk(binary: str, url: str, headers: dict[str, str], seconds: int, connections: int) -> float:
    cmd = [binary, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} error responses from {url}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise SystemExit(f"could not read wrk's output:\n{out}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    binary = ensure_wrk()
    tmp = Path(tempfile.mkdtemp(prefix="sandbox-bench-"))
    port = free_port()
    env = {
        **os.environ,
        "SANDBOX_DATABASE_URL": f"sqlite:///{tmp}/sandbox.db",
        "SANDBOX_ENV": "test",
    }
    subprocess.run(
        [sys.executable, "-m", "sandbox", "seed", "--students", str(args.students)],
        env=env,
        cwd=ROOT,
        check=True,
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        found = httpx.post(
            f"{base}/guardians/lookup", json={"phone": "+212600000001"}, headers=auth
        ).json()
        gid, sid = found["guardian"]["id"], found["students"][0]["id"]
        grades = f"{base}/students/{sid}/grades?school_year=2025-2026&semester=1"
        headers = {**auth, "X-On-Behalf-Of": gid}
        check = httpx.get(grades, headers=headers)
        if check.status_code != 200:
            raise SystemExit(f"grades read failed: {check.status_code}")
        baseline = wrk(binary, f"{base}/health", auth, args.seconds, args.connections)
        grades_rps = wrk(binary, grades, headers, args.seconds, args.connections)
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)

    result = {
        "students": args.students,
        "connections": args.connections,
        "seconds": args.seconds,
        "baseline_health_rps": round(baseline, 1),
        "grades_read_rps": round(grades_rps, 1),
        "ratio": round(grades_rps / baseline, 3),
    }
    print(f"{'read':<24}{'requests/s':>12}")
    print(f"{'GET /health (baseline)':<24}{baseline:>12.1f}")
    print(f"{'GET .../grades':<24}{grades_rps:>12.1f}")
    print(f"ratio grades/baseline: {result['ratio']:.3f}")
    out = write_result("sandbox_reads", result)
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
