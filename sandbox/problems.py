"""RFC 9457 problem responses: one exception type, the handlers, and a raw builder for middleware.

`detail` texts are fixed sentences: they never carry personal data or echo the caller's input.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from sandbox.schemas import Problem

TYPE_BASE = "https://massar-gateway.dev/problems/"
MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("sandbox.api")

TITLES = {
    "invalid-request": "Invalid request",
    "unauthorized": "Missing or invalid credentials",
    "not-linked": "Guardian not linked to student",
    "guardian-not-found": "Guardian not found",
    "student-not-found": "Student not found",
    "application-not-found": "Application not found",
    "not-published": "Not published",
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "invalid-transition": "Illegal status transition",
    "cursor-expired": "Cursor expired",
    "verification-locked": "Verification locked",
    "rate-limited": "Too many requests",
    "internal": "Internal error",
    "service-unavailable": "Service unavailable",
    "upstream-timeout": "Upstream timeout",
}


class ProblemError(Exception):
    """An API error rendered as problem+json."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or TITLES.get(code, code)
        self.headers = headers or {}

    def __repr__(self) -> str:
        return f"ProblemError(status={self.status}, code={self.code!r})"


def problem_body(
    status: int, code: str, detail: str, instance: str, request_id: str, title: str | None = None
) -> bytes:
    body = Problem(
        type=TYPE_BASE + code,
        title=title or TITLES.get(code, code),
        status=status,
        detail=detail,
        instance=instance,
        code=code,
        request_id=request_id,
    )
    return body.model_dump_json().encode()


def request_id_of(scope: dict[str, Any]) -> str:
    return str(scope.get("state", {}).get("request_id", "req_unknown"))


def problem_response(request: Request, exc: ProblemError) -> Response:
    body = problem_body(
        exc.status, exc.code, exc.detail, request.url.path, request_id_of(request.scope), exc.title
    )
    return Response(body, status_code=exc.status, media_type=MEDIA_TYPE, headers=exc.headers)


def _validation_detail(exc: RequestValidationError) -> str:
    # Field locations only: the offending values may be phone numbers or codes.
    fields = sorted(
        {
            ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
            for err in exc.errors()
        }
    )
    return "Invalid or missing fields: " + ", ".join(fields[:8]) + "."


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, ProblemError):  # pragma: no cover - registered for this type
            raise exc
        return problem_response(request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, RequestValidationError):  # pragma: no cover
            raise exc
        return problem_response(
            request, ProblemError(400, "invalid-request", _validation_detail(exc))
        )

    async def on_http(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, StarletteHTTPException):  # pragma: no cover
            raise exc
        if exc.status_code == 404:
            problem = ProblemError(404, "not-found", "No such resource.")
        elif exc.status_code == 405:
            problem = ProblemError(405, "method-not-allowed", "This method is not allowed here.")
        else:
            problem = ProblemError(
                exc.status_code, "invalid-request", "The request could not be processed."
            )
        problem.headers = dict(exc.headers or {})
        return problem_response(request, problem)

    async def on_error(request: Request, exc: Exception) -> Response:
        log.error(
            "unhandled error type=%s request_id=%s",
            type(exc).__name__,
            request_id_of(request.scope),
        )
        return problem_response(
            request, ProblemError(500, "internal", "An unexpected error occurred.")
        )

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_error)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the problem statuses a route may return."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        out[status] = {
            "model": Problem,
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return out


__all__ = ["MEDIA_TYPE", "ProblemError", "install", "problem_body", "responses"]
