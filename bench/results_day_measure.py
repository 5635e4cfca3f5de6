"""What `make bench-results-day` offers and reads: the steady turns (USSD dials and Kannel SMS,
alternating), the outbox's backlog sampled over time, the messages' records, and the figures
of each phase. Used by `bench/results_day.py`.

A turn's latency is the open-loop generator's (`bench/loadgen.py`): from when the turn was
due to the last byte of its answer. A Kannel SMS is answered with an empty 200 and its reply
leaves through the outbox as an interactive message (priority 0, ahead of the follow-ups'
1 and the alerts' 2): the reply's wait is read from the worker's record of it, queued
(`created_at`) to handed to the sink (`sent_at`), so the table shows whether the replies
overtake the publication's alerts in the queue.
"""

from __future__ import annotations

import math
import sqlite3
import statistics
import threading
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import redis as redis_sync

from bench import loadgen
from bench.common import USSD_PATH, ussd_body
from bench.results_day_setup import HOST, KANNEL_TOKEN
from gateway.outbox.queue import Outbox

KANNEL_PATH = "/channels/sms/kannel"
SMS_TEXT = "MENU"


def turn_kind(i: int) -> str:
    """Even turns are USSD dials, odd ones Kannel SMS."""
    return "ussd" if i % 2 == 0 else "sms"


def kannel_get(port: int, phone: str, message_id: str) -> bytes:
    """smsbox's get-url call for an SMS `MENU` from `phone`, as raw bytes."""
    query = (
        f"token={KANNEL_TOKEN}&from={quote(phone)}&to=2020&smsc=IAM&id={message_id}"
        f"&coding=0&charset=UTF-8&text={SMS_TEXT}"
    )
    return f"GET {KANNEL_PATH}?{query} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()


def turns(port: int, phones: Sequence[str], run: str) -> loadgen.RequestFactory:
    """Request i: a new USSD session (even i) or an SMS (odd i) from the next warm phone."""

    def make(i: int) -> bytes:
        phone = phones[(i // 2) % len(phones)]
        if turn_kind(i) == "ussd":
            return loadgen.form_post(HOST, port, USSD_PATH, ussd_body(phone, f"{run}-{i}"))
        return kannel_get(port, phone, f"{run}-{i}")

    return make


@dataclass
class BacklogSampler:
    """Every `every_s`, the outbox's entries waiting per priority (a thread of its own; one
    pipelined round trip a sample)."""

    redis_url: str
    key_secret: bytes
    every_s: float = 0.5
    samples: list[tuple[float, dict[str, int]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="backlog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        client = redis_sync.Redis.from_url(self.redis_url, socket_timeout=5)
        outbox = Outbox(client, key_secret=self.key_secret)  # type: ignore[arg-type]
        names = ["interactive", "followup", "bulk"]
        try:
            while not self._stop.is_set():
                pipe = client.pipeline(transaction=False)
                for stream in outbox.store.streams:
                    pipe.xlen(stream)
                pipe.zcard(outbox.keys.delayed)
                try:
                    counts = pipe.execute()
                except redis_sync.RedisError:
                    counts = None
                if counts is not None:
                    sample = dict(zip([*names, "delayed"], map(int, counts), strict=True))
                    self.samples.append((time.time(), sample))
                self._stop.wait(self.every_s)
        finally:
            client.close()

    def latest(self) -> dict[str, int] | None:
        return self.samples[-1][1] if self.samples else None

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


@dataclass(frozen=True, slots=True)
class Sent:
    kind: str  # reply | followup | alert
    priority: int
    queued: float  # epoch seconds
    sent: float | None


def records(database: Path) -> list[Sent]:
    """Every message the workers recorded (kind, priority, queued and sent times)."""

    def epoch(value: object) -> float | None:
        if value is None:
            return None
        at = datetime.fromisoformat(str(value))
        if at.tzinfo is None:  # SQLite keeps UTC without its offset
            at = at.replace(tzinfo=UTC)
        return at.timestamp()

    with closing(sqlite3.connect(database)) as db:
        rows = db.execute(
            "select kind, priority, created_at, sent_at from outbound_message"
        ).fetchall()
    return [Sent(str(k), int(p), epoch(c) or 0.0, epoch(s)) for k, p, c, s in rows]


# ---- the figures ----------------------------------------------------------------------------


def pct(values: Sequence[float], p: float) -> float | None:
    """The `p` percentile (nearest rank) in ms of `values` in seconds; None if none."""
    if not values:
        return None
    ranked = sorted(values)
    value = ranked[max(0, math.ceil(p / 100 * len(ranked)) - 1)]
    return None if math.isinf(value) else round(value * 1000, 1)


@dataclass(frozen=True, slots=True)
class Timeline:
    """The run's moments (epoch seconds)."""

    start: float  # the first turn was due
    publication: float  # the alerts consumer was started
    turns_end: float  # the last turn was due
    drained: float | None  # every alert sent (None: not within the time allowed)
    rate: float  # turns offered per second

    def due(self, index: int) -> float:
        return self.start + index / self.rate

    @property
    def busy_end(self) -> float:
        """When turns and the publication stopped meeting: the last turn, or the drain."""
        return min(self.turns_end, self.drained) if self.drained else self.turns_end


def turn_figures(samples: Sequence[loadgen.Sample], timeline: Timeline) -> dict[str, object]:
    """p50/p99 of the turns' answers in each phase, all and by channel, and their statuses."""
    phases: dict[str, tuple[float, float]] = {
        "quiet": (timeline.start, timeline.publication),
        "publication": (timeline.publication, timeline.busy_end),
    }
    out: dict[str, object] = {}
    for phase, (lo, hi) in phases.items():
        picked = [s for s in samples if lo <= timeline.due(s.index) < hi]
        figures: dict[str, object] = {"turns": len(picked), "seconds": round(hi - lo, 1)}
        for kind in ("all", "ussd", "sms"):
            mine = [s.latency_s for s in picked if kind == "all" or turn_kind(s.index) == kind]
            figures[kind] = {"p50_ms": pct(mine, 50), "p99_ms": pct(mine, 99)}
        figures["statuses"] = {
            str(k): v for k, v in sorted(Counter(s.status for s in picked).items())
        }
        out[phase] = figures
    return out


def reply_figures(sent: Sequence[Sent], timeline: Timeline) -> dict[str, object]:
    """The SMS replies' (and follow-ups') wait in the queue, queued to sent, per phase."""
    out: dict[str, object] = {}
    for phase, (lo, hi) in {
        "quiet": (timeline.start, timeline.publication),
        "publication": (timeline.publication, timeline.busy_end),
    }.items():
        for kind in ("reply", "followup"):
            mine = [s for s in sent if s.kind == kind and lo <= s.queued < hi]
            waits = [s.sent - s.queued for s in mine if s.sent is not None]
            out.setdefault(phase, {})[kind] = {  # type: ignore[index]
                "queued": len(mine),
                "sent": len(waits),
                "p50_ms": pct(waits, 50),
                "p99_ms": pct(waits, 99),
            }
    return out


def alert_figures(sent: Sequence[Sent], timeline: Timeline) -> dict[str, object]:
    """Alerts/s while the turns arrive (from the first alert sent to the end of the turns or
    of the drain) and alone (after the last turn, when the drain went on long enough)."""
    times = sorted(s.sent for s in sent if s.kind == "alert" and s.sent is not None)
    if not times:
        return {"alerts": 0, "with_turns_per_s": None, "alone_per_s": None}
    first, last = times[0], times[-1]
    with_end = min(timeline.turns_end, last)
    with_s = with_end - first
    during = [t for t in times if t <= with_end]
    alone = [t for t in times if t > timeline.turns_end]
    alone_s = last - timeline.turns_end
    return {
        "alerts": len(times),
        "first_sent_after_s": round(first - timeline.publication, 1),
        "with_turns_per_s": round(len(during) / with_s, 1) if with_s > 0 else None,
        "with_turns_alerts": len(during),
        "alone_per_s": round(len(alone) / alone_s, 1) if alone_s >= 5 and alone else None,
        "alone_alerts": len(alone),
        "drain_seconds": round(last - timeline.publication, 1),
    }


def priorities(sent: Sequence[Sent]) -> dict[str, list[int]]:
    """The priorities each kind of message was queued with (0 interactive ... 2 bulk)."""
    seen: dict[str, set[int]] = {}
    for s in sent:
        seen.setdefault(s.kind, set()).add(s.priority)
    return {kind: sorted(values) for kind, values in sorted(seen.items())}


def series(
    samples: Sequence[loadgen.Sample],
    sent: Sequence[Sent],
    backlog: Sequence[tuple[float, dict[str, int]]],
    timeline: Timeline,
    bin_s: float = 2.0,
) -> dict[str, list[float | None]]:
    """Per `bin_s` since the start: the turns' p99 (ms), alerts/s sent, and the bulk backlog
    (the last sample in the bin), for the chart and the JSON."""
    end = max(
        [timeline.turns_end, *(s.sent for s in sent if s.sent is not None)]
        + [at for at, _ in backlog]
    )
    bins = max(1, math.ceil((end - timeline.start) / bin_s))
    latencies: list[list[float]] = [[] for _ in range(bins)]
    for s in samples:
        b = int((timeline.due(s.index) - timeline.start) / bin_s)
        if 0 <= b < bins:
            latencies[b].append(s.latency_s)
    alerts = [0] * bins
    for one in sent:
        if one.kind == "alert" and one.sent is not None:
            b = int((one.sent - timeline.start) / bin_s)
            if 0 <= b < bins:
                alerts[b] += 1
    waiting: list[float | None] = [None] * bins
    for at, counts in backlog:
        b = int((at - timeline.start) / bin_s)
        if 0 <= b < bins:
            waiting[b] = float(counts["bulk"] + counts["delayed"])
    return {
        "t_s": [round(i * bin_s, 1) for i in range(bins)],
        "turn_p99_ms": [pct(values, 99) for values in latencies],
        "alerts_per_s": [round(n / bin_s, 1) for n in alerts],
        "bulk_backlog": waiting,
    }


def backlog_figures(backlog: Sequence[tuple[float, dict[str, int]]]) -> dict[str, object]:
    """The largest backlog per priority seen, and the interactive one's median."""
    if not backlog:
        return {}
    peak = {name: max(c[name] for _, c in backlog) for name in backlog[0][1]}
    interactive = [c["interactive"] for _, c in backlog]
    return {"peak": peak, "interactive_median": statistics.median(interactive)}
