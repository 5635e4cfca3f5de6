"""`/console/dashboard` (supervisors): the app's own Prometheus collectors, read in-process and
drawn as bars — turns per minute per channel (between two views of the page), p50/p99 turn
time, breaker state, cache hit rate, outbox depth and age of its oldest entry, messages sent
and failed, alerts sent and failed, unmatched messages."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.console.web import SupervisorDep, page
from gateway.deps import runtime
from gateway.state.errors import StoreUnavailable

if TYPE_CHECKING:  # a type only: the runtime imports the modules that route to this one
    from gateway.runtime import Runtime

__all__ = ["histogram_quantile", "read_metrics", "router"]

router = APIRouter(prefix="/console", include_in_schema=False)


def read_metrics(registry: Any) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample of the registry: name -> [(labels, value)]."""
    found: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
    for metric in registry.collect():
        for sample in metric.samples:
            found[sample.name].append((dict(sample.labels), float(sample.value)))
    return found


def by_label(
    samples: dict[str, list[tuple[dict[str, str], float]]], name: str, label: str
) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for labels, value in samples.get(name, []):
        totals[labels.get(label, "")] += value
    return dict(sorted(totals.items()))


def histogram_quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """Prometheus' estimate from cumulative (upper bound, count) buckets; None without data."""
    buckets = sorted(buckets)
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = q * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return lower_bound
            share = (rank - lower_count) / (count - lower_count) if count > lower_count else 0
            return lower_bound + (bound - lower_bound) * share
        lower_bound, lower_count = bound, count
    return lower_bound


def latency(samples: dict[str, list[tuple[dict[str, str], float]]]) -> dict[str, dict[str, Any]]:
    per_channel: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for labels, value in samples.get("massar_turn_seconds_bucket", []):
        per_channel[labels["channel"]].append((float(labels["le"]), value))
    return {
        channel: {
            "p50": histogram_quantile(buckets, 0.5),
            "p99": histogram_quantile(buckets, 0.99),
        }
        for channel, buckets in sorted(per_channel.items())
    }


async def outbox_state(state: Runtime) -> dict[str, Any]:
    """Entries waiting per priority and the age of the oldest (seconds), from Redis."""
    try:
        backlog = await state.outbox.backlog()
        ages = await state.outbox.ages_s()  # what the Prometheus gauge reads too
    except (StoreUnavailable, OSError):
        return {"backlog": {}, "oldest_s": None, "error": True}
    waiting = [age for priority, age in ages.items() if backlog.get(priority)]
    return {"backlog": backlog, "oldest_s": max(waiting, default=None), "error": False}


def alert_counts(samples: dict[str, list[tuple[dict[str, str], float]]]) -> dict[str, Any]:
    """Alerts the providers took and alerts given up, per channel (the outbox's `kind` label)."""
    counts: dict[str, dict[str, float]] = {}
    for name, outcome in (
        ("massar_outbox_sent_total", "sent"),
        ("massar_outbox_failed_total", "failed"),
    ):
        per_channel: dict[str, float] = defaultdict(float)
        for labels, value in samples.get(name, []):
            if labels.get("kind") == "alert":
                per_channel[labels.get("channel", "")] += value
        counts[outcome] = dict(sorted(per_channel.items()))
    return {
        "sent": bars(counts["sent"]),
        "failed": bars(counts["failed"]),
        "total_sent": sum(counts["sent"].values()),
        "total_failed": sum(counts["failed"].values()),
    }


def turns_per_minute(
    samples: deque[tuple[float, dict[str, float]]], totals: dict[str, float]
) -> dict[str, float] | None:
    """Turns per minute per channel since the oldest kept view of the page (None: first view);
    `samples`: the views kept (`ConsoleParts.samples`)."""
    now = time.monotonic()
    rates = None
    if samples:
        then, before = samples[0]
        minutes = max((now - then) / 60, 1 / 60)
        rates = {ch: (value - before.get(ch, 0.0)) / minutes for ch, value in totals.items()}
    samples.append((now, totals))
    return rates


def bars(values: dict[str, float], unit: str = "") -> dict[str, Any]:
    """What the template needs to draw horizontal bars (an inline SVG, no script)."""
    top = max(values.values(), default=0) or 1
    return {
        "rows": [
            {"label": k, "value": v, "width": round(300 * v / top), "unit": unit}
            for k, v in values.items()
        ],
        "height": 22 * max(len(values), 1),
    }


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, operator: SupervisorDep) -> Response:
    state = runtime(request)
    samples = read_metrics(state.metrics.registry)
    turns = by_label(samples, "massar_turns_total", "channel")
    cache = by_label(samples, "massar_cache_total", "result")
    lookups = sum(cache.values())
    try:
        breaker = (await state.backend.breaker.state()).name.lower()
    except (StoreUnavailable, OSError):
        breaker = "unknown"
    rates = turns_per_minute(state.console.samples, turns)
    return page(
        request,
        "dashboard.html",
        turns=bars(turns),
        rates=bars(rates) if rates is not None else None,
        latency=latency(samples),
        breaker=breaker,
        cache_hit=(cache.get("hit", 0) / lookups) if lookups else None,
        outbox=await outbox_state(state),
        sent=bars(by_label(samples, "massar_outbox_sent_total", "channel")),
        failed=bars(by_label(samples, "massar_outbox_failed_total", "channel")),
        unmatched=bars(by_label(samples, "massar_unmatched_total", "channel")),
        alerts=alert_counts(samples),
    )
