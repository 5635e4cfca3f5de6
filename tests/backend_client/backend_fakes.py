"""Test doubles for the backend client: a scripted backend, a recording sleep, examples."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

EXAMPLES = Path(__file__).parent / "examples"
BASE_URL = "http://massar.test/api/v1"
TOKEN = "t0ken-for-tests"

Reply = httpx.Response | Exception | Callable[[httpx.Request], Awaitable[httpx.Response]]


def example(name: str) -> Any:
    """One of the verbatim §8 examples in `examples/`."""
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def problem(status: int, code: str, **extra: Any) -> httpx.Response:
    """An RFC 9457 error reply as the contract draws it."""
    headers = {"Retry-After": str(extra.pop("retry_after"))} if "retry_after" in extra else {}
    body = {
        "type": f"https://massar-gateway.dev/problems/{code}",
        "title": code,
        "status": status,
        "code": code,
        **extra,
    }
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/problem+json", **headers},
    )


class ScriptedBackend:
    """Answers requests from a script, one reply per request; the last reply repeats."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self._script: list[Reply] = [httpx.Response(500)]

    def script(self, *replies: Reply) -> None:
        self._script = list(replies)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self._script.pop(0) if len(self._script) > 1 else self._script[0]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return await reply(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


class Sleeps:
    """A sleep that records the waits the retry loop asked for and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
