"""Retries: reads only, retryable errors only, jittered, and always inside the deadline."""

from __future__ import annotations

import asyncio
import random
from datetime import date

import httpx
import pytest
from backend_fakes import BASE_URL, TOKEN, ScriptedBackend, Sleeps, example, problem

from backend_client import (
    BackendTimeout,
    BackendUnavailable,
    Deadline,
    MassarClient,
    NotFound,
    RateLimited,
    RetryPolicy,
)

pytestmark = pytest.mark.anyio

GID = "gdn_01HZX3K9"
SID = "stu_01HZX3M2"


async def test_read_is_retried_after_503_then_succeeds(
    client: MassarClient, backend: ScriptedBackend, sleeps: Sleeps
) -> None:
    backend.script(
        problem(503, "service-unavailable"),
        httpx.Response(502),
        httpx.Response(200, json=example("grades")),
    )
    grades = await client.grades(SID, "2025-2026", 1, on_behalf_of=GID)
    assert grades.semester_average == 13.87
    assert len(backend.requests) == 3
    # One request id for the whole call, so the backend's logs join the attempts.
    assert len({r.headers["X-Request-ID"] for r in backend.requests}) == 1
    # Full jitter: each wait is drawn in [0, min(cap, base * 2^(n-1))].
    assert len(sleeps.waits) == 2
    assert 0.0 <= sleeps.waits[0] <= 0.1
    assert 0.0 <= sleeps.waits[1] <= 0.2


async def test_guardian_lookup_is_retried_although_it_is_a_post(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    backend.script(
        httpx.ConnectError("refused"), httpx.Response(200, json=example("guardian_lookup"))
    )
    found = await client.lookup_guardian("+212600000001")
    assert found.guardian.id == GID
    assert len(backend.requests) == 2


async def test_retries_stop_at_max_attempts(
    client: MassarClient, backend: ScriptedBackend, sleeps: Sleeps
) -> None:
    backend.script(problem(503, "service-unavailable"))
    with pytest.raises(BackendUnavailable):
        await client.meta()
    assert len(backend.requests) == 3
    assert len(sleeps.waits) == 2


async def test_jitter_comes_from_the_injected_random_source(backend: ScriptedBackend) -> None:
    async def waits_with(seed: int) -> list[float]:
        backend.requests.clear()
        backend.script(httpx.Response(503))
        sleeps = Sleeps()
        async with httpx.AsyncClient(transport=httpx.MockTransport(backend)) as http:
            massar = MassarClient(BASE_URL, TOKEN, http=http, rng=random.Random(seed), sleep=sleeps)
            with pytest.raises(BackendUnavailable):
                await massar.health()
        return sleeps.waits

    assert await waits_with(7) == await waits_with(7)
    assert await waits_with(7) != await waits_with(8)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.verify_student("Z990000001", date(2012, 3, 4), "+212600000001"),
        lambda c: c.lookup_application("PRE-2026-0000001", date(2020, 6, 1)),
    ],
    ids=["verify_student", "lookup_application"],
)
async def test_calls_that_count_failures_are_never_retried(
    client: MassarClient, backend: ScriptedBackend, sleeps: Sleeps, call
) -> None:
    backend.script(problem(503, "service-unavailable"), httpx.Response(200, json={}))
    with pytest.raises(BackendUnavailable):
        await call(client)
    assert len(backend.requests) == 1
    assert sleeps.waits == []


async def test_rejections_are_not_retried(
    client: MassarClient, backend: ScriptedBackend, sleeps: Sleeps
) -> None:
    backend.script(problem(404, "not-published"), httpx.Response(200, json=example("grades")))
    with pytest.raises(NotFound):
        await client.grades(SID, "2025-2026", 2, on_behalf_of=GID)
    assert len(backend.requests) == 1
    assert sleeps.waits == []


async def test_internal_error_is_not_retried(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    backend.script(problem(500, "internal"), httpx.Response(200, json={"status": "ok"}))
    with pytest.raises(BackendUnavailable):
        await client.health()
    assert len(backend.requests) == 1


async def test_retry_after_that_fits_the_deadline_is_waited_for(
    client: MassarClient, backend: ScriptedBackend, sleeps: Sleeps
) -> None:
    backend.script(
        problem(429, "rate-limited", retry_after=1), httpx.Response(200, json={"status": "ok"})
    )
    await client.health(deadline=5.0)
    assert sleeps.waits == [1.0]
    assert len(backend.requests) == 2


async def test_retry_after_beyond_the_deadline_is_not_waited_for(
    client: MassarClient, backend: ScriptedBackend, sleeps: Sleeps
) -> None:
    backend.script(
        problem(429, "rate-limited", retry_after=30), httpx.Response(200, json={"status": "ok"})
    )
    with pytest.raises(RateLimited) as caught:
        await client.health(deadline=2.0)
    assert caught.value.retry_after == 30.0
    assert sleeps.waits == []
    assert len(backend.requests) == 1


async def test_down_backend_retry_after_is_not_waited_for(
    client: MassarClient, backend: ScriptedBackend, sleeps: Sleeps
) -> None:
    backend.script(problem(503, "service-unavailable", retry_after=300))
    with pytest.raises(BackendUnavailable) as caught:
        await client.health(deadline=2.0)
    assert caught.value.retry_after == 300.0
    assert sleeps.waits == []


async def test_hanging_backend_times_out_at_the_deadline(backend: ScriptedBackend) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, json={"status": "ok"})

    backend.script(hang)
    async with httpx.AsyncClient(transport=httpx.MockTransport(backend)) as http:
        massar = MassarClient(BASE_URL, TOKEN, http=http, retry=RetryPolicy(max_attempts=5))
        with pytest.raises(BackendTimeout) as caught:
            await massar.health(deadline=0.2)
    assert caught.value.retryable
    # The first attempt used the whole budget, so no second one was started.
    assert len(backend.requests) == 1


async def test_fast_failures_are_retried_only_while_the_deadline_lasts(
    backend: ScriptedBackend,
) -> None:
    async def slow_503(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)
        return httpx.Response(503)

    waits: list[float] = []

    async def real_sleep(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(seconds)

    backend.script(slow_503)
    policy = RetryPolicy(max_attempts=1000, backoff_base=0.01, backoff_cap=0.02)
    async with httpx.AsyncClient(transport=httpx.MockTransport(backend)) as http:
        massar = MassarClient(
            BASE_URL, TOKEN, http=http, retry=policy, rng=random.Random(3), sleep=real_sleep
        )
        with pytest.raises(BackendUnavailable):
            await massar.health(deadline=0.2)
    # Each attempt costs at least 50 ms of a 200 ms budget, and the loop waits only
    # between attempts: it does not spin on a spent deadline.
    assert 1 <= len(backend.requests) <= 4
    assert len(waits) <= len(backend.requests)


async def test_no_attempt_starts_on_a_spent_deadline(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    spent = Deadline(expires_at=10.0, clock=lambda: 10.0)
    with pytest.raises(BackendTimeout):
        await client.health(deadline=spent)
    assert backend.requests == []


async def test_one_deadline_is_shared_by_the_calls_of_a_turn(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    now = [0.0]
    turn = Deadline.after(2.0, clock=lambda: now[0])

    async def reply_and_let_time_pass(request: httpx.Request) -> httpx.Response:
        now[0] += 1.99
        return httpx.Response(200, json={"status": "ok"})

    backend.script(reply_and_let_time_pass)
    await client.health(deadline=turn)
    with pytest.raises(BackendTimeout):
        await client.health(deadline=turn)
    assert len(backend.requests) == 1


async def test_attempt_timeouts_are_cut_to_the_remaining_budget(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    backend.script(httpx.Response(200, json={"status": "ok"}))
    await client.health(deadline=Deadline.after(0.5))
    timeouts = backend.last.extensions["timeout"]
    assert all(0.0 < timeouts[phase] <= 0.5 for phase in ("connect", "read", "write", "pool"))
