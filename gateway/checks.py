"""What is checked at start-up, before anything opens for traffic.

`check_settings`: the settings whose text is read where it is used (settings import nothing
of the gateway), read once at start-up, so a bad value stops the gateway there and not at its
first use.

`judge_engines`: what the shared engines said about themselves (`gateway/state/health.py`
probes them) against what the gateway needs of them. The outbox, its dedupe markers, the
lockouts and the replay markers live in Redis: a Redis that forgets them on restart, or evicts
them under memory pressure, sends messages twice and lifts lockouts without a word. Production
refuses such a Redis; development and tests start with a warning. Some findings only warn,
everywhere (snapshots without AOF: the risk is named).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.alerts.quiet import QuietHours
from gateway.alerts.weekly import Weekly
from gateway.channels.ussd.ops import parse_ops
from gateway.settings import Env, Settings

if TYPE_CHECKING:
    from gateway.state.health import DatabaseFacts, RedisFacts

MANAGED_ACK = "GATEWAY_REDIS_MANAGED_ACK"
# What a Redis that forgets or evicts takes with it (named in every finding about it).
AT_RISK = "the outbox's queued messages and dedupe markers (messages sent twice), lockouts"


class BadSetting(ValueError):
    """`name` (a `Settings` field) holds what its reader refuses, for `reason`."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = name, reason


def check_settings(settings: Settings) -> None:
    """Raise `BadSetting` for the first value that cannot be read."""
    try:
        QuietHours.parse(settings.quiet_hours)
    except ValueError as exc:
        raise BadSetting("quiet_hours", str(exc)) from None
    try:
        Weekly.parse(settings.alerts_weekly_at)
    except ValueError as exc:
        raise BadSetting("alerts_weekly_at", str(exc)) from None
    try:
        parse_ops(settings.ussd_kannel_ops)
    except ValueError as exc:
        raise BadSetting("ussd_kannel_ops", str(exc)) from None


@dataclass(frozen=True, slots=True)
class Finding:
    check: str  # redis_reachable, redis_config, redis_persistence, redis_eviction, database
    text: str


@dataclass(slots=True)
class Verdict:
    refusals: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)


def judge_engines(
    settings: Settings, redis: RedisFacts, database: DatabaseFacts, head: str
) -> Verdict:
    """Refusals and warnings for what the engines said (`head`: the newest schema revision)."""
    production = settings.env is Env.PRODUCTION
    verdict = Verdict()

    def serious(check: str, text: str) -> None:
        """Refused in production, a warning elsewhere."""
        (verdict.refusals if production else verdict.warnings).append(Finding(check, text))

    _judge_database(verdict, database, head)
    if redis.stand_in:  # development only (production refuses a missing GATEWAY_REDIS_URL)
        return verdict
    if not redis.reachable:
        serious(
            "redis_reachable",
            f"Redis at {redis.where} does not answer ({redis.error}); "
            "turns answer 'busy' and nothing is sent until it does",
        )
        return verdict
    if redis.config_refused is not None:
        if not settings.redis_managed_ack:
            serious(
                "redis_config",
                f"Redis at {redis.where} refuses CONFIG GET ({redis.config_refused}), so its "
                "persistence and eviction policy cannot be checked: once the provider "
                "guarantees persistence and maxmemory-policy noeviction, say so with "
                f"{MANAGED_ACK}=true",
            )
        return verdict
    for node in redis.nodes:
        where = redis.where if len(redis.nodes) == 1 else f"{redis.where} (node {node.name})"
        if node.appendonly != "yes" and not node.save.strip():
            serious(
                "redis_persistence",
                f"Redis at {where} does not persist (appendonly no, no save rule): a restart "
                f"loses {AT_RISK} and replay markers; set appendonly yes",
            )
        elif node.appendonly != "yes":
            verdict.warnings.append(
                Finding(
                    "redis_persistence",
                    f"Redis at {where} persists by snapshots only ({_rules(node.save)}): a crash "
                    f"loses what changed since the last one, {AT_RISK}; appendonly yes "
                    "(appendfsync everysec) loses at most a second",
                )
            )
        if node.policy != "noeviction":
            serious(
                "redis_eviction",
                f"Redis at {where} has maxmemory-policy {node.policy}: near its memory limit "
                f"it evicts keys, {AT_RISK} and replay markers among them; set "
                "maxmemory-policy noeviction and alert on memory instead",
            )
    return verdict


def _rules(save: str) -> str:
    """RDB `save` rules in words ("3600 1 300 100": "after 1 write in 3600 s, 100 writes in
    300 s"), which the logs' phone masking leaves readable."""
    parts = save.split()
    said = [
        f"{writes} {'write' if writes == '1' else 'writes'} in {seconds} s"
        for seconds, writes in zip(parts[::2], parts[1::2], strict=False)
    ]
    return "after " + ", ".join(said)


def _judge_database(verdict: Verdict, database: DatabaseFacts, head: str) -> None:
    """Refused everywhere: a worker cannot run on a database it cannot read or that is not at
    the schema its code reads and writes (`serve` migrates first; `migrate` does it alone)."""
    from gateway.state.migrate import SchemaOutdated

    if not database.reachable:
        text = f"the database at {database.where} does not answer ({database.error})"
        verdict.refusals.append(Finding("database", text))
    elif database.revision != head:
        verdict.refusals.append(Finding("database", str(SchemaOutdated(database.revision, head))))
