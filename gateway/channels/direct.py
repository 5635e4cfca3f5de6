"""Webhook routes served straight from a table, past the framework's router.

FastAPI 0.165 finds a request's route by asking every route in turn (and first sums the routes'
versions to know whether its cache of them still holds): with the console's pages, the admin
API and every channel mounted, that was 9.5 % of a USSD turn's CPU in `make profile`. A
provider's webhook is one exact path and method whose endpoint takes the request and returns
a response, so the table below finds it with one dictionary look-up and calls it as FastAPI
would. The routes stay declared on their routers: the OpenAPI description, the tests and any
request this table does not hold go through FastAPI as before.

The table sits inside every middleware (body limits, the request log, the console's guard and
headers): a webhook served from it is bounded, logged and answered with the same headers.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, get_type_hints

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["DirectRoutes", "Endpoint", "direct_endpoints"]

Endpoint = Callable[[Request], Awaitable[Response]]


class DirectRoutes:
    """ASGI middleware: `(method, path)` found in `table` is answered by its endpoint."""

    def __init__(self, app: ASGIApp, *, table: dict[tuple[str, str], Endpoint]) -> None:
        self.app = app
        self.table = table  # filled by the app factory once every router is included

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            endpoint = self.table.get((scope["method"], scope["path"]))
            if endpoint is not None:
                response = await endpoint(Request(scope, receive, send))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def direct_endpoints(routes: Iterable[BaseRoute], tag: str) -> dict[tuple[str, str], Endpoint]:
    """The routes tagged `tag` that a table can serve: an exact path, and an endpoint whose
    only parameter is the request and which returns a `Response` (no dependency, no body model,
    nothing FastAPI would have to convert)."""
    table: dict[tuple[str, str], Endpoint] = {}
    for route in routes:
        if not isinstance(route, APIRoute) or tag not in route.tags or _has_params(route):
            continue
        if not _takes_only_the_request(route.endpoint):
            continue
        for method in route.methods or ():
            table.setdefault((method, route.path), route.endpoint)
    return table


def _has_params(route: APIRoute) -> bool:
    return "{" in route.path or bool(route.dependencies)


def _takes_only_the_request(endpoint: Callable[..., Any]) -> bool:
    if not inspect.iscoroutinefunction(endpoint):
        return False
    hints = get_type_hints(endpoint)
    params = list(inspect.signature(endpoint).parameters)
    returns = hints.get("return")
    return (
        len(params) == 1
        and hints.get(params[0]) is Request
        and isinstance(returns, type)
        and issubclass(returns, Response)
    )
