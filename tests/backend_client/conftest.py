"""Fixtures for the backend client: a scripted backend behind `httpx.MockTransport`."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import httpx
import pytest
from backend_fakes import BASE_URL, TOKEN, ScriptedBackend, Sleeps

from backend_client import MassarClient, RetryPolicy


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def backend() -> ScriptedBackend:
    return ScriptedBackend()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def client(backend: ScriptedBackend, sleeps: Sleeps) -> AsyncIterator[MassarClient]:
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(backend)) as http,
        MassarClient(
            BASE_URL,
            TOKEN,
            http=http,
            retry=RetryPolicy(max_attempts=3, backoff_base=0.1, backoff_cap=1.0),
            rng=random.Random(1234),
            sleep=sleeps,
        ) as massar,
    ):
        yield massar
