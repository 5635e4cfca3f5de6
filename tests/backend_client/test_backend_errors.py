"""Error replies map onto the error tree; bodies and personal data stay out of messages."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from backend_fakes import ScriptedBackend, example, problem

from backend_client import (
    BackendError,
    BackendRejected,
    BackendTimeout,
    BackendUnavailable,
    BadResponse,
    CursorExpired,
    InvalidRequest,
    MassarClient,
    NotFound,
    NotLinked,
    RateLimited,
    TooManyRequests,
    Unauthorized,
    VerificationLocked,
)

pytestmark = pytest.mark.anyio

GID = "gdn_01HZX3K9"
SID = "stu_01HZX3M2"
BIRTH = date(2012, 3, 4)

# (status, problem code, error class, retryable) for every code of §8.
PROBLEMS = [
    (400, "invalid-request", InvalidRequest, False),
    (401, "unauthorized", Unauthorized, False),
    (403, "not-linked", NotLinked, False),
    (404, "guardian-not-found", NotFound, False),
    (404, "student-not-found", NotFound, False),
    (404, "application-not-found", NotFound, False),
    (404, "not-published", NotFound, False),
    (410, "cursor-expired", CursorExpired, False),
    (429, "verification-locked", VerificationLocked, False),
    (429, "rate-limited", RateLimited, True),
    (500, "internal", BackendUnavailable, False),
    (503, "service-unavailable", BackendUnavailable, True),
    (504, "upstream-timeout", BackendUnavailable, True),
]


@pytest.mark.parametrize(("status", "code", "error", "retryable"), PROBLEMS)
async def test_problem_codes_map_to_the_error_tree(
    client: MassarClient,
    backend: ScriptedBackend,
    status: int,
    code: str,
    error: type[BackendError],
    retryable: bool,
) -> None:
    backend.script(problem(status, code, request_id="req_7f3a"))
    # verify_student is sent once, so each code is seen exactly as the server gave it.
    with pytest.raises(error) as caught:
        await client.verify_student("Z990000001", BIRTH, "+212600000001")
    assert type(caught.value) is error
    assert caught.value.status == status
    assert caught.value.code == code
    assert caught.value.request_id == "req_7f3a"
    assert caught.value.retryable is retryable


def test_the_tree_groups_what_callers_act_on() -> None:
    assert issubclass(BackendTimeout, BackendUnavailable)
    for rejected in (
        InvalidRequest,
        Unauthorized,
        NotLinked,
        NotFound,
        CursorExpired,
        VerificationLocked,
        RateLimited,
    ):
        assert issubclass(rejected, BackendRejected)
    assert issubclass(VerificationLocked, TooManyRequests)
    assert issubclass(RateLimited, TooManyRequests)
    assert not issubclass(BadResponse, BackendRejected | BackendUnavailable)
    assert BackendUnavailable().retryable
    assert not BackendRejected().retryable


async def test_not_linked_carries_the_contract_example_fields(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    backend.script(
        httpx.Response(
            403,
            json=example("problem_not_linked"),
            headers={"Content-Type": "application/problem+json"},
        )
    )
    with pytest.raises(NotLinked) as caught:
        await client.grades(SID, "2025-2026", 1, on_behalf_of=GID)
    assert (caught.value.status, caught.value.code, caught.value.request_id) == (
        403,
        "not-linked",
        "req_7f3a",
    )


async def test_rate_limit_carries_retry_after(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    backend.script(problem(429, "verification-locked", retry_after=900))
    with pytest.raises(VerificationLocked) as caught:
        await client.verify_student("Z990000001", BIRTH, "+212600000001")
    assert caught.value.retry_after == 900.0


async def test_error_without_problem_body_still_maps_by_status(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    backend.script(httpx.Response(502, text="<html>Bad gateway</html>"))
    with pytest.raises(BackendUnavailable) as caught:
        await client.verify_student("Z990000001", BIRTH, "+212600000001")
    assert (caught.value.status, caught.value.code) == (502, None)
    assert caught.value.request_id == backend.last.headers["X-Request-ID"]


async def test_error_messages_hold_no_body_and_no_personal_data(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    backend.script(problem(404, "guardian-not-found", detail="no guardian for +212600000001"))
    with pytest.raises(NotFound) as caught:
        await client.lookup_guardian("+212600000001")
    for text in (str(caught.value), repr(caught.value)):
        assert "212600000001" not in text
        assert "no guardian" not in text


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b'{"guardian": {"id": "gdn_1"}, "students": []}',
        b'{"guardian": {"id": "gdn_1", "first_name_fr": "Khadija", "first_name_ar": "x",'
        b' "preferred_lang": "klingon"}, "students": []}',
    ],
    ids=["not-json", "missing-fields", "unknown-enum-value"],
)
async def test_malformed_success_body_is_a_bad_response(
    client: MassarClient, backend: ScriptedBackend, body: bytes
) -> None:
    backend.script(httpx.Response(200, content=body))
    with pytest.raises(BadResponse) as caught:
        await client.lookup_guardian("+212600000001")
    assert caught.value.status == 200
    assert caught.value.code == "bad-response"
    assert not caught.value.retryable
    assert len(backend.requests) == 1
    # pydantic's own error quotes the input; it must not ride along as the cause.
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    assert "klingon" not in str(caught.value) + "".join(caught.value.__notes__)


async def test_connection_refused_is_unavailable(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    backend.script(httpx.ConnectError("refused"))
    with pytest.raises(BackendUnavailable) as caught:
        await client.verify_student("Z990000001", BIRTH, "+212600000001")
    assert type(caught.value) is BackendUnavailable
    assert caught.value.status is None


async def test_transport_timeout_is_backend_timeout(
    client: MassarClient, backend: ScriptedBackend
) -> None:
    backend.script(httpx.ReadTimeout("slow"))
    with pytest.raises(BackendTimeout):
        await client.verify_student("Z990000001", BIRTH, "+212600000001")
