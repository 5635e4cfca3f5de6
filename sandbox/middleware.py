"""Request context: the request id, one log line per request and call counts per route template.

The log line names the route template (`/api/v1/students/{sid}/grades`), never the concrete path,
so no id, phone or code reaches the logs.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("sandbox.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class CallStats:
    """Counts of API calls per (method + route template, status)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            self.total = 0
            self.since = datetime.now(UTC).isoformat()

    def add(self, route: str, status: int) -> None:
        with self.lock:
            self.counts[route][str(status)] += 1
            self.total += 1

    def snapshot(self) -> dict[str, object]:
        with self.lock:
            routes = {k: dict(v) for k, v in sorted(self.counts.items())}
            return {"total": self.total, "since": self.since, "routes": routes}


class RequestContextMiddleware:
    """Outermost middleware: request id in and out, stats and the access log line."""

    def __init__(self, app: ASGIApp, stats: CallStats) -> None:
        self.app = app
        self.stats = stats
        self.router_app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _SAFE_ID.match(candidate):
                    request_id = candidate
        request_id = request_id or "req_" + secrets.token_hex(6)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder = [500]
        header = (b"x-request-id", request_id.encode())

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = self._template(scope)
            if scope["path"].startswith("/api/v1/"):
                self.stats.add(f"{scope['method']} {route}", status_holder[0])
            log.info(
                "request method=%s route=%s status=%d ms=%.1f request_id=%s",
                scope["method"],
                route,
                status_holder[0],
                (time.perf_counter() - started) * 1000,
                request_id,
            )

    def _template(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is not None and hasattr(route, "path"):
            return str(route.path)
        app = scope.get("app")
        for candidate in _leaf_routes(getattr(app, "router", None)):
            match, _ = candidate.matches(scope)
            if match == Match.FULL:
                return str(candidate.path)
        return "(unmatched)"


def _leaf_routes(router: object) -> list[Any]:
    """Routes with a path, looking inside included routers."""
    out: list[Any] = []
    for candidate in getattr(router, "routes", []):
        inner = getattr(candidate, "original_router", None)
        if inner is not None:
            out.extend(_leaf_routes(inner))
        elif hasattr(candidate, "path"):
            out.append(candidate)
    return out
