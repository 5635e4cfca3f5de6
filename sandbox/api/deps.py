"""Shared dependencies: settings, connections, auth and cache-hinted JSON responses."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.engine import Connection
from starlette.responses import Response

from sandbox import ids
from sandbox.clock import SandboxClock
from sandbox.problems import ProblemError
from sandbox.settings import SandboxSettings

bearer = HTTPBearer(
    auto_error=False, description="One token per gateway deployment (SANDBOX_API_TOKEN)."
)
admin_bearer = HTTPBearer(
    auto_error=False, scheme_name="AdminBearer", description="SANDBOX_ADMIN_TOKEN."
)


def settings_of(request: Request) -> SandboxSettings:
    settings: SandboxSettings = request.app.state.settings
    return settings


def clock_of(request: Request) -> SandboxClock:
    clock: SandboxClock = request.app.state.clock
    return clock


def read_conn(request: Request) -> Iterator[Connection]:
    with request.app.state.engine.connect() as conn:
        yield conn


def _check(creds: HTTPAuthorizationCredentials | None, expected: str) -> None:
    given = creds.credentials if creds is not None else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise ProblemError(
            401,
            "unauthorized",
            "A valid bearer token is required.",
            headers={"WWW-Authenticate": "Bearer"},
        )


def require_token(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    _check(creds, settings_of(request).api_token.get_secret_value())


def require_admin(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(admin_bearer)]
) -> None:
    _check(creds, settings_of(request).admin_token.get_secret_value())


Conn = Annotated[Connection, Depends(read_conn)]
Clock = Annotated[SandboxClock, Depends(clock_of)]
OnBehalfOf = Annotated[
    str,
    Header(
        alias="X-On-Behalf-Of",
        min_length=1,
        max_length=64,
        description="The guardian (`gdn_…`) the gateway acts for; must be linked to the student.",
    ),
]


def guardian_key(public_id: str) -> int | None:
    return ids.decode("gdn", public_id)


def student_key(public_id: str) -> int:
    key = ids.decode("stu", public_id)
    if key is None:
        raise ProblemError(404, "student-not-found", "No student has this id.")
    return key


def cached(request: Request, model: BaseModel, max_age: int, status: int = 200) -> Response:
    """JSON with an ETag and `Cache-Control: private, max-age=N`; 304 when the ETag matches."""
    body = model.model_dump_json().encode()
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": f"private, max-age={max_age}"}
    inm = request.headers.get("if-none-match")
    if inm is not None and etag in [t.strip() for t in inm.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, status_code=status, media_type="application/json", headers=headers)
