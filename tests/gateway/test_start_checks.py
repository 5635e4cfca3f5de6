"""What the start makes of the engines' answers (gateway/checks.py): refused in production,
a warning elsewhere; snapshots without AOF warn everywhere, naming the risk; a Redis that
refuses CONFIG GET starts in production only when GATEWAY_REDIS_MANAGED_ACK says the provider
guarantees persistence and noeviction; a database behind the code's schema is refused
everywhere. The facts are what `gateway/state/health.py` reads from real servers
(tests/gateway/state/test_health.py)."""

from __future__ import annotations

import pytest

from gateway.checks import Verdict, judge_engines
from gateway.migrate import head_revision
from gateway.settings import Settings
from gateway.state.health import STAND_IN, DatabaseFacts, RedisFacts, RedisNode
from tests.gateway.test_settings import STRONG

WHERE = "10.0.0.5:6379/0"
HEAD = head_revision()
MIGRATED = DatabaseFacts(where="postgresql+psycopg://gateway@db/gateway", revision=HEAD)


def settings(env: str, **extra: object) -> Settings:
    if env == "production":
        return Settings(**{**STRONG, **extra})  # type: ignore[arg-type]
    return Settings(env=env, redis_url="redis://10.0.0.5:6379/0", **extra)  # type: ignore[arg-type]


def redis(appendonly: str = "yes", save: str = "", policy: str = "noeviction") -> RedisFacts:
    node = RedisNode(name="10.0.0.5:6379", appendonly=appendonly, save=save, policy=policy)
    return RedisFacts(where=WHERE, nodes=(node,))


def judge(
    env: str, facts: RedisFacts, database: DatabaseFacts = MIGRATED, **extra: object
) -> Verdict:
    return judge_engines(settings(env, **extra), facts, database, HEAD)


def checks(findings: list[object]) -> list[str]:
    return [f.check for f in findings]  # type: ignore[attr-defined]


@pytest.mark.parametrize("env", ["production", "development", "test"])
def test_an_append_only_noeviction_redis_passes(env: str) -> None:
    verdict = judge(env, redis())
    assert (verdict.refusals, verdict.warnings) == ([], [])


@pytest.mark.parametrize(
    ("facts", "check", "words"),
    [
        (redis(appendonly="no", save=""), "redis_persistence", "does not persist"),
        (redis(policy="allkeys-lru"), "redis_eviction", "maxmemory-policy allkeys-lru"),
        (redis(policy="volatile-lru"), "redis_eviction", "maxmemory-policy volatile-lru"),
        (redis(policy="volatile-ttl"), "redis_eviction", "maxmemory-policy volatile-ttl"),
        (redis(policy="allkeys-random"), "redis_eviction", "maxmemory-policy allkeys-random"),
        (RedisFacts(where=WHERE, error="ConnectionError"), "redis_reachable", "does not answer"),
        (
            RedisFacts(where=WHERE, config_refused="ResponseError: unknown command 'config'"),
            "redis_config",
            "GATEWAY_REDIS_MANAGED_ACK=true",
        ),
    ],
    ids=["no-persistence", "allkeys-lru", "volatile-lru", "volatile-ttl", "allkeys-random",
         "unreachable", "config-refused"],
)  # fmt: skip
def test_production_refuses_what_development_only_warns_of(
    facts: RedisFacts, check: str, words: str
) -> None:
    production = judge("production", facts)
    assert checks(production.refusals) == [check]
    assert production.warnings == []
    [refusal] = production.refusals
    assert words in refusal.text
    assert WHERE in refusal.text  # which Redis, by address
    development = judge("development", facts)
    assert development.refusals == []
    assert [(f.check, f.text) for f in development.warnings] == [(check, refusal.text)]


def test_what_is_lost_is_named() -> None:
    [finding] = judge("production", redis(appendonly="no", save="")).refusals
    assert "queued messages" in finding.text
    assert "sent twice" in finding.text
    assert "lockouts" in finding.text
    assert "appendonly yes" in finding.text  # and what to do


def test_snapshots_without_aof_start_everywhere_with_the_risk_named() -> None:
    for env in ("production", "development"):
        verdict = judge(env, redis(appendonly="no", save="3600 1 300 100"))
        assert verdict.refusals == []
        [warning] = verdict.warnings
        assert warning.check == "redis_persistence"
        assert "snapshots only (after 1 write in 3600 s, 100 writes in 300 s)" in warning.text
        assert "a crash loses what changed since the last one" in warning.text


def test_no_persistence_and_eviction_are_two_refusals() -> None:
    verdict = judge("production", redis(appendonly="no", save="", policy="allkeys-lru"))
    assert checks(verdict.refusals) == ["redis_persistence", "redis_eviction"]


def test_the_managed_acknowledgement_lets_production_start_without_config_get() -> None:
    refused = RedisFacts(where=WHERE, config_refused="NoPermissionError: no permissions")
    verdict = judge("production", refused, redis_managed_ack=True)
    assert (verdict.refusals, verdict.warnings) == ([], [])


def test_the_acknowledgement_does_not_override_what_the_server_says() -> None:
    """Where CONFIG GET answers, the answer wins over the setting."""
    verdict = judge("production", redis(policy="allkeys-lru"), redis_managed_ack=True)
    assert checks(verdict.refusals) == ["redis_eviction"]


def test_each_node_of_a_cluster_is_judged_by_name() -> None:
    nodes = (
        RedisNode(name="10.0.0.7:7000", appendonly="yes", save="", policy="noeviction"),
        RedisNode(name="10.0.0.8:7000", appendonly="yes", save="", policy="allkeys-lru"),
    )
    facts = RedisFacts(where="cluster 10.0.0.7:7000", nodes=nodes)
    [refusal] = judge("production", facts).refusals
    assert "(node 10.0.0.8:7000)" in refusal.text


def test_the_stand_in_is_not_judged() -> None:
    verdict = judge_engines(Settings(), RedisFacts(where=STAND_IN, stand_in=True), MIGRATED, HEAD)
    assert (verdict.refusals, verdict.warnings) == ([], [])


@pytest.mark.parametrize("env", ["production", "development"])
def test_a_database_behind_the_schema_or_silent_is_refused_everywhere(env: str) -> None:
    old = DatabaseFacts(where="sqlite:///var/gateway.db", revision=None)
    [refusal] = judge(env, redis(), old).refusals
    assert refusal.text == (
        f"the database schema is at no revision, this release needs revision {HEAD}: "
        "run `python -m gateway migrate` before starting the gateway"
    )
    down = DatabaseFacts(where="postgresql+psycopg://gateway@db/gw", error="OperationalError")
    [refusal] = judge(env, redis(), down).refusals
    assert refusal.text == (
        "the database at postgresql+psycopg://gateway@db/gw does not answer (OperationalError)"
    )
