"""Prometheus collectors on a registry owned by one app (tests build several apps).

Labels are channels, routes, kinds and outcomes: never a phone number, a code or an id.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    """The gateway's collectors; `render()` is the text of `GET /metrics`."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.turns = Counter("massar_turns", "User turns", ["channel"], registry=r)
        self.turn_seconds = Histogram(
            "massar_turn_seconds",
            "Time to answer a turn",
            ["channel"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0),
            registry=r,
        )
        self.backend_calls = Counter(
            "massar_backend_calls", "Backend calls by outcome", ["route", "outcome"], registry=r
        )
        self.cache = Counter(
            "massar_cache", "Cache lookups (hit, miss, stale)", ["kind", "result"], registry=r
        )
        self.singleflight_joins = Counter(
            "massar_singleflight_joins", "Reads that waited on another's backend call", registry=r
        )
        self.breaker_state = Gauge(
            "massar_breaker_state", "Shared breaker: 0 closed, 1 open, 2 half-open", registry=r
        )
        self.shed_turns = Counter(
            "massar_shed_turns",
            "Turns answered busy without a backend call",
            ["channel"],
            registry=r,
        )
        self.rate_limited = Counter(
            "massar_rate_limited", "Turns refused by the per-phone limit", ["channel"], registry=r
        )
        self.unmatched = Counter(
            "massar_unmatched",
            "Messages with words that matched no request, menu option or prompt",
            ["channel", "lang"],
            registry=r,
        )
        self.followups = Counter(
            "massar_followups", "Answers sent later by SMS, by outcome", ["outcome"], registry=r
        )

        # The outbox (a worker's own registry, or the app's when it sends in-process).
        self.outbox_sent = Counter(
            "massar_outbox_sent",
            "Messages a provider took",
            ["channel", "sender", "kind"],
            registry=r,
        )
        self.outbox_failed = Counter(
            "massar_outbox_failed",
            "Messages given up (permanent error)",
            ["channel", "sender", "kind"],
            registry=r,
        )
        self.outbox_retries = Counter(
            "massar_outbox_retries",
            "Sends put back after a transient error",
            ["channel"],
            registry=r,
        )
        self.outbox_dead = Counter(
            "massar_outbox_dead", "Stream entries that could not be read", registry=r
        )
        self.outbox_reclaimed = Counter(
            "massar_outbox_reclaimed", "Entries reclaimed from a dead worker", registry=r
        )
        self.outbox_followups = Counter(
            "massar_outbox_followups",
            "Follow-up answers: composed, waiting for the backend, expired",
            ["outcome"],
            registry=r,
        )

        # Read when scraped (the app's /metrics) or by the sender worker's loop: what the
        # deploy kit's alert rules watch (deploy/prometheus/rules.yml).
        self.outbox_backlog = Gauge(
            "massar_outbox_backlog",
            "Outbox entries waiting, by priority (delayed: retries and follow-ups not yet due)",
            ["priority"],
            registry=r,
        )
        self.outbox_oldest_age = Gauge(
            "massar_outbox_oldest_age_seconds",
            "Seconds the oldest entry of each priority's stream has waited",
            ["priority"],
            registry=r,
        )
        # Backpressure on bulk producers (`gateway.outbox.pressure`): each shutting of the
        # gate, and whether it is shut now (the alerts consumer's process tells).
        self.outbox_bulk_pauses = Counter(
            "massar_outbox_bulk_pauses",
            "Times bulk producers were paused: the bulk backlog passed the high water mark",
            registry=r,
        )
        self.outbox_bulk_waiting = Gauge(
            "massar_outbox_bulk_waiting",
            "1 while this process' bulk producers wait for the backlog to fall below low water",
            registry=r,
        )
        self.store_up = Gauge(
            "massar_store_up",
            "1 when the part (redis, database) answered at the last scrape, else 0",
            ["part"],
            registry=r,
        )
        self.redis_memory_used = Gauge(
            "massar_redis_memory_used_bytes", "Redis' used_memory (INFO memory)", registry=r
        )
        self.redis_memory_max = Gauge(
            "massar_redis_memory_max_bytes", "Redis' maxmemory (0: no limit)", registry=r
        )
        # Delivery reports: Kannel's per operator link (smsc-id), Twilio's as `twilio`.
        self.delivery_reports = Counter(
            "massar_delivery_reports",
            "Delivery reports by channel, operator link and status (sent, delivered, failed…)",
            ["channel", "link", "status"],
            registry=r,
        )
        # The alerts consumer (the lease holder sets them; the others leave them alone).
        self.alerts_lag = Gauge(
            "massar_alerts_lag_seconds",
            "Age of the newest change in the last page read (0 once read to the feed's head)",
            registry=r,
        )
        self.alerts_last_read = Gauge(
            "massar_alerts_last_read_timestamp_seconds",
            "When the alerts consumer last read a page of the change feed (Unix time)",
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
