"""The resilient facade is made from the client: a method added to `backend_client.Endpoints`
is served, typed as the client's, with no line written for it in `gateway/resilience/`; the
policy in `backend_client/policy.py` decides how; cache keys stay as they were spelled."""

from __future__ import annotations

import contextlib
import inspect
import json
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import httpx
import pytest
from redis.asyncio import Redis

from backend_client import (
    CACHED,
    ROUTES,
    SENT_ONCE,
    AbsenceKind,
    BackendError,
    Endpoints,
    MassarClient,
    Route,
)
from gateway.resilience import (
    DEFAULT_TTLS,
    BackendSlots,
    Breaker,
    BreakerConfig,
    Cache,
    Metrics,
    ResilientBackend,
    SingleFlight,
    begin_turn,
    unsafe_to_repeat,
)
from gateway.resilience.cache import STUDENT_KINDS
from gateway.resilience.endpoints import CACHE_TTLS, ENDPOINTS
from gateway.settings import Settings

pytestmark = [pytest.mark.anyio, pytest.mark.redis]

SECRET = b"test-secret"
PHONE = "+212600000001"
GID = "gdn_01HZX3K9"
SID = "stu_01HZX3M2"
EXAMPLES = Path(__file__).parents[1] / "backend_client/examples"
CALLS = sorted(
    name
    for name, _ in inspect.getmembers(
        Endpoints, lambda f: inspect.iscoroutinefunction(f) or inspect.isasyncgenfunction(f)
    )
    if not name.startswith("_")
)


def example(name: str) -> Any:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


class Recorder(httpx.AsyncBaseTransport):
    """Notes each request, then hands it to `inner` (the sandbox) or answers `reply`."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None, reply: Any = None) -> None:
        self.inner = inner
        self.reply = reply
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.inner is not None:
            return await self.inner.handle_async_request(request)
        return httpx.Response(200, json=self.reply)


def facade(
    redis: Redis, prefix: str, transport: httpx.AsyncBaseTransport, metrics: Metrics | None = None
) -> ResilientBackend:
    client = MassarClient(
        "http://massar.test/api/v1",
        "sandbox-token",
        http=httpx.AsyncClient(transport=transport),
    )
    return ResilientBackend(
        client,
        cache=Cache(redis, key_secret=SECRET, prefix=prefix),
        singleflight=SingleFlight(redis, lease_s=2.0),
        breaker=Breaker(redis, prefix=prefix, config=BreakerConfig(failures=100)),
        slots=BackendSlots(10),
        metrics=metrics,
    )


def route_of(request: httpx.Request) -> Route[Any]:
    path = request.url.path.removeprefix("/api/v1")
    (route,) = [
        r
        for r in ROUTES
        if r.method == request.method and re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", r.path), path)
    ]
    return route


def sample(annotation: Any) -> Any:
    """A value of the parameter's type, for a call whose answer does not matter."""
    if annotation is str:
        return "x1"
    if annotation is int:
        return 1
    if annotation is date:
        return date(2012, 3, 4)
    if get_origin(annotation) in (Sequence, list, tuple):
        return [sample(get_args(annotation)[0])]
    raise AssertionError(f"no sample for {annotation}: teach `sample` this type")


def required_args(name: str) -> dict[str, Any]:
    method = getattr(Endpoints, name)
    hints = get_type_hints(method)
    params = list(inspect.signature(method).parameters.values())[1:]
    return {p.name: sample(hints[p.name]) for p in params if p.default is inspect.Parameter.empty}


# --- a method of the client is a method of the facade -----------------------------------------


def test_every_call_of_the_client_is_the_facades_with_the_same_signature() -> None:
    assert CALLS, "the client has calls"
    for name in CALLS:
        served = getattr(ResilientBackend, name)
        assert inspect.signature(served) == inspect.signature(getattr(Endpoints, name)), name
        assert served.__doc__ == getattr(Endpoints, name).__doc__, name
    assert set(ENDPOINTS) == {n for n in CALLS if n != "iter_absence_pages"}


def test_the_policy_names_only_calls_of_the_client_and_matches_the_cache() -> None:
    assert set(CACHED) | SENT_ONCE <= set(CALLS)
    assert not set(CACHED) & SENT_ONCE
    # The cache's and the settings' TTLs agree with the policy where they name a kind (a new
    # kind takes the policy's TTL; `runtime` lays the settings over it).
    assert {k: CACHE_TTLS[k] for k in DEFAULT_TTLS} == dict(DEFAULT_TTLS)
    fields = Settings.model_fields
    set_ttls = {
        k: fields[f"cache_ttl_{k}_s"].default for k in CACHE_TTLS if f"cache_ttl_{k}_s" in fields
    }
    assert set_ttls == {k: CACHE_TTLS[k] for k in set_ttls}
    assert set(Settings.model_construct().cache_ttls) <= set(CACHE_TTLS)
    assert {p.kind for p in CACHED.values() if p.per_student} == STUDENT_KINDS


def test_every_cached_answer_is_keyed_by_who_asks() -> None:
    """Attack: a policy key without `on_behalf_of` (or the phone) would hand one guardian's
    cached answer to another, past the backend's link check."""
    for name, endpoint in ENDPOINTS.items():
        if endpoint.cache is None:
            continue
        asker = {"on_behalf_of", "phone"} & set(endpoint.signature.parameters)
        assert asker <= set(endpoint.key), name


async def test_another_guardian_never_gets_the_first_ones_cached_marks(
    redis: Redis, prefix: str
) -> None:
    recorder = Recorder(reply=example("grades"))
    backend = facade(redis, prefix, recorder)
    await backend.grades(SID, "2025-2026", 1, on_behalf_of=GID, deadline=5.0)
    await backend.grades(SID, "2025-2026", 1, on_behalf_of="gdn_STRANGER", deadline=5.0)
    assert [r.headers["X-On-Behalf-Of"] for r in recorder.requests] == [GID, "gdn_STRANGER"]


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
async def test_every_call_reaches_its_route_through_the_protections(
    name: str, redis: Redis, prefix: str, sandbox_app: Any
) -> None:
    """Called with arguments of the right types only (the sandbox may well refuse them): the
    request leaves on the route the client names, counted under the call's name, and only
    the routes the backend counts (not idempotent) mark the turn unsafe to repeat."""
    recorder = Recorder(httpx.ASGITransport(app=sandbox_app))
    metrics = Metrics()
    backend = facade(redis, prefix, recorder, metrics)
    begin_turn()
    with contextlib.suppress(BackendError):  # refused or not found: it reached the backend
        await getattr(backend, name)(**required_args(name), deadline=5.0)
    assert recorder.requests, f"{name} never left the facade"
    route = route_of(recorder.requests[-1])
    (counted,) = metrics.backend_calls.collect()
    assert {s.labels["route"] for s in counted.samples if s.name.endswith("_total")} == {name}
    assert (name in SENT_ONCE) is (not route.idempotent) is unsafe_to_repeat()


async def test_a_new_client_generator_runs_on_the_facade(redis: Redis, prefix: str) -> None:
    """`iter_absence_pages` is the client's own code; on the facade each page is a
    protected, cached read (its cursor in its key)."""
    page = example("absences")
    recorder = Recorder(reply={**page, "next_cursor": None})
    backend = facade(redis, prefix, recorder)
    pages = [p async for p in backend.iter_absence_pages(SID, on_behalf_of=GID, deadline=5.0)]
    assert len(pages) == 1
    again = [p async for p in backend.iter_absence_pages(SID, on_behalf_of=GID, deadline=5.0)]
    assert again == pages
    assert len(recorder.requests) == 1  # the second walk was served by the cache


# --- cache keys as before ----------------------------------------------------------------------

META = {"school_year": "2025-2026", "semester": 1, "now": "2025-11-20T10:00:00+01:00"}
# Each cached call, its reply, and the key's arguments as `ResilientBackend` spelled them by
# hand before it was made from the client: the entries written then are read now.
KEYS = [
    ("lookup_guardian", (PHONE,), {}, example("guardian_lookup"), "guardian", [PHONE]),
    (
        "grades",
        (SID, "2025-2026", 1),
        {"on_behalf_of": GID},
        example("grades"),
        "grades",
        [SID, "2025-2026", "1", GID],
    ),
    (
        "absences",
        (SID,),
        {"on_behalf_of": GID, "limit": 20},
        example("absences"),
        "absences",
        [SID, GID, "", "", "", "20"],
    ),
    (
        "absences",
        (SID,),
        {"on_behalf_of": GID, "date_from": date(2025, 11, 1), "status": "unjustified"},
        example("absences"),
        "absences",
        [SID, GID, "2025-11-01", "", "unjustified", ""],
    ),
    (
        "student_applications",
        (SID,),
        {"on_behalf_of": GID},
        {"items": [], "next_cursor": None},
        "enrolment",
        [SID, GID],
    ),
    ("meta", (), {}, META, "meta", []),
]


@pytest.mark.parametrize(("name", "args", "kwargs", "reply", "kind", "key"), KEYS)
async def test_each_cached_read_writes_the_key_it_always_wrote(
    name: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    reply: Any,
    kind: str,
    key: list[str],
    redis: Redis,
    prefix: str,
) -> None:
    recorder = Recorder(reply=reply)
    backend = facade(redis, prefix, recorder)
    first = await getattr(backend, name)(*args, **kwargs, deadline=5.0)
    assert await redis.exists(backend.cache.key(kind, key)) == 1
    assert await getattr(backend, name)(*args, **kwargs, deadline=5.0) == first
    assert len(recorder.requests) == 1
    if CACHED[name].per_student:
        index = backend.cache.student_index(SID)
        assert await redis.sismember(index, backend.cache.key(kind, key))


async def test_a_page_asked_by_cursor_never_answers_the_first_page(
    redis: Redis, prefix: str
) -> None:
    """`kind` and `cursor` were out of the key: an argument outside the policy's key goes in
    after it, so another call shape gets an entry of its own."""
    recorder = Recorder(reply=example("absences"))
    backend = facade(redis, prefix, recorder)
    await backend.absences(SID, on_behalf_of=GID, cursor="c2", deadline=5.0)
    await backend.absences(SID, on_behalf_of=GID, deadline=5.0)
    await backend.absences(SID, on_behalf_of=GID, kind=AbsenceKind.LATE, deadline=5.0)
    assert len(recorder.requests) == 3
    plain = backend.cache.key("absences", [SID, GID, "", "", "", ""])
    paged = backend.cache.key("absences", [SID, GID, "", "", "", "", "cursor=c2"])
    assert await redis.exists(plain, paged) == 2


async def test_wrong_arguments_fail_as_on_the_client(redis: Redis, prefix: str) -> None:
    recorder = Recorder(reply=META)
    backend = facade(redis, prefix, recorder)
    with pytest.raises(TypeError):
        await backend.grades(SID, on_behalf_of=GID)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        await backend.meta(when="now")  # type: ignore[call-arg]
    assert recorder.requests == []


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_arguments_bind_as_the_clients_signature_binds_them(name: str) -> None:
    """The facade binds a call's arguments itself (it is on every read): as `inspect` would,
    and a wrong call fails as it would on the client."""
    endpoint = ENDPOINTS[name]
    params = endpoint.signature.parameters
    given = {**required_args(name), "deadline": 1.0}
    leading = [n for n in given if params[n].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    by_position = tuple(given[n] for n in leading)
    rest = {n: v for n, v in given.items() if n not in leading}
    for args, kwargs in [((), given), (by_position, rest)]:
        assert (
            endpoint.arguments(args, kwargs) == endpoint.signature.bind(*args, **kwargs).arguments
        )
    wrong: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        (tuple(range(len(params) + 1)), {}),  # too many
        ((), {**given, "nonsense": 1}),  # unknown
    ]
    if leading:
        wrong.append((by_position, given))  # twice
        wrong.append(((), {n: v for n, v in given.items() if n != leading[0]}))  # missing
    for args, kwargs in wrong:
        with pytest.raises(TypeError):
            endpoint.arguments(args, kwargs)


async def test_a_call_sent_once_is_neither_cached_nor_repeated(redis: Redis, prefix: str) -> None:
    recorder = Recorder(reply={"match": False})
    backend = facade(redis, prefix, recorder)
    begin_turn()
    for _ in range(2):
        found = await backend.verify_student("Z990000001", date(2012, 3, 4), PHONE, deadline=5.0)
        assert not found.match
    assert len(recorder.requests) == 2  # each check is the backend's to count
    assert unsafe_to_repeat()
    assert [k async for k in redis.scan_iter(match=f"{prefix}:c:*")] == []
