"""Lua scripts run by their SHA: one `EVALSHA` per call, loaded again only when Redis lost it.

redis-py's `Script.__call__` imports two modules and checks the client against its pipeline
classes (`typing.Protocol` instance checks) on every call: 2.9 % of a USSD turn's CPU in
`make profile`. A plain client needs none of that; a pipeline still goes through redis-py's
own `Script`, which registers the script with the pipeline so it is loaded before `EXEC`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

__all__ = ["Lua", "lua"]


class Lua:
    """A script bound to one client; called as redis-py's scripts are."""

    __slots__ = ("_redis", "_script", "sha")

    def __init__(self, redis: Redis, source: str) -> None:
        self._redis = redis
        self._script = redis.register_script(source)
        self.sha: str = self._script.sha

    async def __call__(
        self, keys: Sequence[Any] = (), args: Sequence[Any] = (), client: Any = None
    ) -> Any:
        if client is not None:  # a pipeline: redis-py queues the load with it
            return await self._script(keys=keys, args=args, client=client)
        try:
            return await self._redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:  # a restarted or failed-over Redis: load it, run it
            return await self._script(keys=keys, args=args)


def lua(redis: Redis, source: str) -> Lua:
    return Lua(redis, source)
