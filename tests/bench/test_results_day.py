"""`make bench-results-day --quick` with tiny numbers: it runs end to end (its own
redis-server, sandbox, gateway, sender worker and alerts consumer) and writes a JSON with the
figures of issue #24 item 7 and the chart. No timing is asserted: only that every figure is
there, every alert of the publication was sent, and each kind of message had its priority
(replies interactive, alerts bulk)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
NAME = "results_day_smoke"


@pytest.mark.slow
def test_a_quick_results_day_writes_every_figure(tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("the bench starts its own redis-server, which is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    done = subprocess.run(  # noqa: S603 - this interpreter and the repository's own script
        [sys.executable, "bench/results_day.py", "--quick", "--students", "200", "--rate", "10",
         "--quiet", "2", "--publication", "6", "--phones", "10", "--workers", "1",
         "--senders", "1", "--drain-timeout", "600", "--cache", str(tmp_path), "--out", NAME],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    try:
        result = json.loads((RESULTS / f"{NAME}.json").read_text())
        if importlib.util.find_spec("matplotlib") is not None:  # the bench extra
            assert (RESULTS / f"{NAME}.png").stat().st_size > 0
    finally:
        for suffix in (".json", ".png"):
            (RESULTS / f"{NAME}{suffix}").unlink(missing_ok=True)
    assert result["drained"] is True
    assert result["pupils_published"] > 0
    assert {
        "quiet_p99_ms", "publication_p99_ms", "p99_ratio", "target_ratio", "load_during",
        "alerts_per_s_with_turns", "alerts_per_s_alone", "series", "marks_s",
    } <= set(result)  # fmt: skip
    assert result["quiet_p99_ms"] is not None
    assert result["publication_p99_ms"] is not None
    for phase in ("quiet", "publication"):
        figures = result["turns"][phase]
        assert figures["turns"] > 0
        assert set(figures["statuses"]) == {"200"}
        assert figures["ussd"]["p99_ms"] is not None
        assert figures["sms"]["p99_ms"] is not None
        replies = result["replies"][phase]["reply"]
        assert replies["queued"] > 0
        assert replies["sent"] == replies["queued"]
    assert result["alerts"]["alerts"] > 0
    # Sampled by a thread: a quick run may drain between two looks, so no count is required.
    assert isinstance(result["backlog"]["peak"]["bulk"], int)
    assert result["priorities"]["reply"] == [0]
    assert result["priorities"]["alert"] == [2]
    assert result["priorities"].get("followup", [1]) == [1]
    assert len(result["series"]["t_s"]) == len(result["series"]["turn_p99_ms"])
    assert result["host"]["cores"]
    assert result["host"]["commit"]
