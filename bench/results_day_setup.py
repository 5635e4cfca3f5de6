"""`make bench-results-day`'s setting: the published sandbox, the gateway's settings, its
processes. Used by `bench/results_day.py`.

The publication is made once per seeded sandbox and kept: a copy of the seeded file
(`bench/alerts.py`'s, under var/bench-alerts/, for the default 100,000 students) in which
semester 2 of the current school year is published for every class through the sandbox's
admin API (`/_sandbox/grades/publish`, `scope=class`: one call per class, each pupil's marks
generated and a `grade.published` and a `semester_result.published` event written to the
change feed), with the feed's cursor from before it. Publishing 100,000 pupils takes minutes
(the sandbox writes each pupil's marks and refreshes the class's statistics), so it is kept
under var/bench-results-day/ and copied for each run; the run's consumer then starts at that
cursor and finds the whole publication waiting in the feed, as on the day the ministry
publishes a level at once.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from contextlib import closing
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.alerts import head, sandbox_file
from bench.common import ROOT, clean_env, free_port, server

HOST = "127.0.0.1"
ADMIN = {"Authorization": "Bearer sandbox-admin"}
CACHE = ROOT / "var/bench-results-day"
KANNEL_TOKEN = "demo-kannel-callback-token"  # noqa: S105 - GATEWAY_KANNEL_CALLBACK_TOKEN's demo default
SEMESTER = 2


def seeded_file(students: int, given: Path | None, cache: Path = CACHE) -> Path:
    """The seeded sandbox: `given`, or bench-alerts' file for 100,000 students (shared with
    `make bench-alerts`), or one of this bench's own for another size (seeded once)."""
    if given is not None:
        return sandbox_file(given, students)
    if students == 100_000:
        return sandbox_file(ROOT / "var/bench-alerts/sandbox.db", students)
    return sandbox_file(cache / f"sandbox-{students}.db", students)


def _current_year(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("select max(school_year) from enrollment").fetchone()[0])


def _one_pupil_per_class(db: Path, year: int) -> list[str]:
    """A Massar code in each class of `year` (a class's publication names one of its pupils)."""
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute(
            "select s.massar_code from student s join ("
            "  select min(student_id) as sid from enrollment"
            "  where school_year = ? and class_id is not null group by class_id"
            ") firsts on firsts.sid = s.id order by s.id",
            (year,),
        ).fetchall()
    return [str(code) for (code,) in rows]


def published_sandbox(seeded: Path, cache: Path = CACHE) -> tuple[Path, dict[str, object]]:
    """The seeded sandbox with semester 2 published for every class (made once, kept under
    `cache` by the seeded file's name); its facts: the feed cursor before the publication,
    the pupils published, the classes, how long publishing took."""
    cache.mkdir(parents=True, exist_ok=True)
    stamp = f"{seeded.stat().st_size}-{int(seeded.stat().st_mtime)}"
    target = cache / f"published-{seeded.stem}.db"
    meta = cache / f"published-{seeded.stem}.json"
    if target.exists() and meta.exists():
        kept: dict[str, object] = json.loads(meta.read_text())
        if kept.get("seeded") == stamp:
            return target, kept
    work = cache / f"publishing-{uuid.uuid4().hex[:8]}.db"
    shutil.copyfile(seeded, work)
    with closing(sqlite3.connect(work)) as conn:
        # The sandbox refreshes a class's statistics from its marks by class: without an
        # index each class reads every mark (0.4 s a class at 100,000 pupils, 20 min in all).
        conn.execute(
            "create index if not exists ix_bench_cc_mark_class"
            " on cc_mark (class_id, school_year, semester)"
        )
        conn.commit()
    year = _current_year(work)
    codes = _one_pupil_per_class(work, year)
    port = free_port()
    base = f"http://{HOST}:{port}"
    env = {**clean_env(), "SANDBOX_DATABASE_URL": f"sqlite:///{work}"}
    command = [sys.executable, "-m", "sandbox", "serve", "--host", HOST, "--port", str(port)]
    print(f"publishing semester {SEMESTER} for {len(codes):,} classes into {target} (once)")
    with server(command, env, f"{base}/health", log=cache / "publishing.log"):
        cursor = head(base)
        started, published = time.perf_counter(), 0
        with httpx.Client(base_url=base, timeout=600) as http:
            for n, code in enumerate(codes, 1):
                reply = http.post(
                    "/_sandbox/grades/publish",
                    json={"school_year": f"{year}-{year + 1}", "semester": SEMESTER,
                          "massar_code": code, "scope": "class"},
                    headers=ADMIN,
                )  # fmt: skip
                reply.raise_for_status()
                published += int(reply.json()["published"])
                if n % 500 == 0:
                    print(f"  {n:,} classes, {published:,} pupils")
        seconds = time.perf_counter() - started
        final = head(base)
    facts: dict[str, object] = {
        "seeded": stamp,
        "cursor_before": cursor,
        "cursor_after": final,
        "school_year": f"{year}-{year + 1}",
        "semester": SEMESTER,
        "classes": len(codes),
        "pupils_published": published,
        "publishing_seconds": round(seconds, 1),
    }
    with closing(sqlite3.connect(work)) as conn:
        # The sandbox writes in WAL mode: fold the log into the file before moving it alone.
        conn.execute("pragma wal_checkpoint(truncate)")
    work.replace(target)
    for suffix in ("-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    meta.write_text(json.dumps(facts, indent=2) + "\n")
    print(f"published {published:,} pupils in {seconds:.0f} s")
    return target, facts


def gateway_env(redis_url: str, backend: str, tmp: Path, pace: int, logs: Path) -> dict[str, str]:
    """One deployment's settings for the gateway, its sender workers and its alerts consumer,
    on a migrated SQLite file under `tmp`."""
    env = {
        **clean_env(),
        "GATEWAY_ENV": "test",
        "GATEWAY_REDIS_URL": redis_url,
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp}/gateway.db",
        "GATEWAY_IDENTITY_KEY": f"bench-results-day-{uuid.uuid4().hex}",
        "GATEWAY_BACKEND_URL": backend,
        "GATEWAY_SMS_SENDER": "sink",
        "GATEWAY_QUIET_HOURS": "none",
        # Each warm phone dials and texts many times a minute: lift the per-phone limit.
        "GATEWAY_RATE_LIMIT_PER_MINUTE": "1000000",
        "GATEWAY_OUTBOX_RATE_SMS": str(pace),
        "GATEWAY_OUTBOX_BURST_SMS": str(pace),
        "GATEWAY_OUTBOX_CONCURRENCY": "64",
        # A message left pending by a Redis timeout on a loaded machine is taken over in
        # seconds, not the production 90 s (the lease must outlast a follow-up's budget).
        "GATEWAY_FOLLOWUP_BUDGET_S": "5",
        "GATEWAY_OUTBOX_LEASE_S": "6",
        "GATEWAY_OUTBOX_RECLAIM_IDLE_S": "8",
        "GATEWAY_LOG_LEVEL": "WARNING",
        "GATEWAY_LOG_FORMAT": "json",
        "GATEWAY_LOG_FILE": str(logs / "gateway.log"),
    }
    subprocess.run(
        [sys.executable, "-m", "gateway", "migrate"], env=env, cwd=ROOT, check=True,
        capture_output=True,
    )  # fmt: skip
    return env


def launch(env: dict[str, str], args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """`python -m gateway <args>`, its output appended to `log`."""
    out = log.open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "gateway", *args],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    finally:
        out.close()  # the child has its own descriptor


def wait_metrics(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    """Until the process serves its metrics (it is up), or it died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"a gateway process exited with {proc.returncode}")
        try:
            if httpx.get(f"http://{HOST}:{port}/metrics", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("a gateway process did not start")


def cursor_of(env: dict[str, str]) -> str | None:
    """The consumer's stored feed cursor (None before it stored one)."""
    with closing(sqlite3.connect(env["GATEWAY_DATABASE_URL"].removeprefix("sqlite:///"))) as conn:
        row = conn.execute("select cursor from alert_cursor where name = 'changes'").fetchone()
    return None if row is None else str(row[0])
