"""What the gateway's /metrics asks the shared engines when Prometheus scrapes it: does Redis
answer, does the database, and how much of its `maxmemory` Redis uses (the outbox needs
`noeviction`, so a full Redis refuses writes: deploy/prometheus/rules.yml warns first)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from redis.asyncio import Redis

from gateway.state.errors import translated

__all__ = ["EngineProbe", "RedisMemory"]


@dataclass(frozen=True, slots=True)
class RedisMemory:
    used: int  # bytes (INFO memory's used_memory)
    limit: int  # maxmemory; 0: no limit


@translated
class EngineProbe:
    """Pings and Redis' memory; raises `StoreUnavailable` when an engine does not answer."""

    def __init__(self, redis: Redis, engine: sa.Engine) -> None:
        self.redis = redis
        self.engine = engine

    async def ping_redis(self) -> None:
        await self.redis.ping()

    def ping_database(self) -> None:
        """`select 1` (blocking: run it in a thread)."""
        with self.engine.connect() as conn:
            conn.execute(sa.text("select 1"))

    async def redis_memory(self) -> RedisMemory:
        """Used and maximum memory; on a cluster, the node nearest its limit."""
        info: dict[str, Any] = await self.redis.info("memory")
        nodes = [info] if "used_memory" in info else []
        nodes += [v for v in info.values() if isinstance(v, dict) and "used_memory" in v]
        readings = [
            RedisMemory(int(node.get("used_memory", 0)), int(node.get("maxmemory", 0)))
            for node in nodes
        ]
        if not readings:
            return RedisMemory(0, 0)
        return max(readings, key=lambda m: m.used / m.limit if m.limit else 0.0)
