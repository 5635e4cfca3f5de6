"""The app factory: the only place that builds the gateway's pieces from its settings."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

import anyio
import anyio.to_thread
import httpx
import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend_client import Deadline, MassarClient
from backend_client.errors import BackendError
from gateway import admin, console, deps, logs
from gateway.channels import (
    kannel_sms,
    limits,
    meta_whatsapp,
    telegram,
    twilio_sms,
    twilio_whatsapp,
    ussd,
)
from gateway.channels.direct import DirectRoutes, Endpoint, direct_endpoints
from gateway.channels.voice import twilio as twilio_voice
from gateway.checks import check_settings
from gateway.console.parts import demo_operators
from gateway.embedded import (
    embedded_alerts,
    embedded_sender,
    run_embedded_alerts,
    run_embedded_sender,
)
from gateway.resilience import Breaker, BreakerState
from gateway.resilience.metrics import CONTENT_TYPE_LATEST
from gateway.runtime import open_runtime
from gateway.scrape import refresh
from gateway.settings import Channel, SenderName, Settings
from gateway.state.errors import StoreError
from gateway.state.health import describe_database, describe_redis, ping_database, ping_redis
from gateway.surface import metrics_allowed

log = structlog.get_logger("gateway")

READY_CHECK_BUDGET_S = 1.0


class RequestLogMiddleware:
    """Binds a request id to every log line of a request; writes one canonical line at its end."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid4().hex[:16]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )


def create_app(
    settings: Settings | None = None,
    *,
    backend_transport: httpx.AsyncBaseTransport | None = None,
    provider_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build the gateway; tests may pass `backend_transport` (the sandbox over ASGI, a mock)
    and `provider_transport` (what the senders call instead of Twilio's API)."""
    settings = settings or Settings()
    check_settings(settings)  # a value its reader refuses stops the start (BadSetting)
    logs.configure(json_logs=settings.json_logs, level=settings.log_level, file=settings.log_file)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            open_runtime(
                settings,
                backend_transport=backend_transport,
                provider_transport=provider_transport,
            ) as runtime,
            anyio.create_task_group() as tasks,
        ):
            deps.attach(app, runtime)
            if demo_operators(settings):  # the demo's accounts, before the first sign-in
                await anyio.to_thread.run_sync(runtime.console.operators.ensure_demo)
            stop = anyio.Event()
            if embedded_sender(settings):
                tasks.start_soon(run_embedded_sender, runtime, stop)
            if embedded_alerts(settings):  # issue 15: the change feed, read in-process
                tasks.start_soon(run_embedded_alerts, runtime, stop)
            log.info(
                "gateway starting",
                env=settings.env.value,
                redis=describe_redis(settings.redis_url),
                database=describe_database(settings.database_url),
                backend=logs.bare_url(settings.backend_url),
                channels=sorted(c.value for c in settings.channels),
                sender="in-process" if embedded_sender(settings) else "separate workers",
                alerts="in-process" if embedded_alerts(settings) else "separate consumers",
            )
            try:
                yield
            finally:
                stop.set()  # the worker finishes what it holds, then returns
        log.info("gateway stopped")

    app = FastAPI(
        title="massar-gateway",
        version="0.1.0",
        description="Reach Massar from any phone: SMS, USSD, WhatsApp, Telegram and voice.",
        lifespan=lifespan,
        # Off in production unless GATEWAY_API_DOCS says otherwise (issue #21).
        docs_url="/docs" if settings.docs_on else None,
        redoc_url="/redoc" if settings.docs_on else None,
        openapi_url="/openapi.json" if settings.docs_on else None,
    )
    # Webhooks answered from a table, inside every middleware (gateway/channels/direct.py).
    direct: dict[tuple[str, str], Endpoint] = {}
    app.add_middleware(DirectRoutes, table=direct)
    limits.install(app)  # webhook bodies bounded before any route reads them (a 413)
    app.add_middleware(RequestLogMiddleware)
    webhooks = _webhook_routers(settings)
    for router in webhooks:
        app.include_router(router)
    direct.update(direct_endpoints((r for w in webhooks for r in w.routes), "channels"))
    app.include_router(admin.router)
    # The operators' console: pages, simulator, leaflet (issue #16).
    console.install(app, settings)

    @app.get("/healthz", tags=["ops"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["ops"],
        summary="Readiness: can take traffic (Redis and database answer)",
        description="200 when Redis and the database answer, 503 when either does not: "
        "`checks` holds those two. `info` shows the backend (Massar) and the circuit breaker "
        "for people, and never makes this fail: with Massar down or the breaker open the "
        "gateway still answers from its cache and promises the rest by SMS, so a load "
        "balancer must keep it in rotation. Liveness is `/healthz`.",
        responses={503: {"description": "Redis or the database does not answer"}},
    )
    async def readyz(request: Request) -> JSONResponse:
        state = deps.runtime(request)
        checks: dict[str, dict[str, Any]] = {
            "redis": await ping_redis(state.redis, state.redis_kind),
            "database": await anyio.to_thread.run_sync(ping_database, state.db),
        }
        info: dict[str, dict[str, Any]] = {
            "backend": await _check_backend(state.backend.client),
            "breaker": await _check_breaker(state.backend.breaker),
        }
        ready = all(check["ok"] for check in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unready", "checks": checks, "info": info},
            status_code=200 if ready else 503,
        )

    @app.get(
        "/metrics",
        tags=["ops"],
        summary="Prometheus metrics (no personal data in labels)",
        description="In production only from GATEWAY_METRICS_ALLOWED_IPS or with "
        "`Authorization: Bearer` GATEWAY_METRICS_TOKEN (403 otherwise).",
        responses={403: {"description": "Not an allowed address and no valid token"}},
    )
    async def metrics_text(request: Request) -> Response:
        if not metrics_allowed(request, settings):  # production: its addresses or token
            return Response("forbidden", status_code=403, media_type="text/plain")
        state = deps.runtime(request)
        # Gauges read now: the engines up, Redis' memory, the outbox's backlog, the breaker.
        await refresh(state)
        return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return app


def _webhook_routers(settings: Settings) -> list[APIRouter]:
    """The providers' webhook routers of the channels switched on."""
    routers = list(ussd.routers(settings.channels))  # one per USSD provider switched on
    if Channel.SMS_TWILIO in settings.channels:
        routers.append(twilio_sms.router)
    if Channel.SMS_KANNEL in settings.channels:
        routers.append(kannel_sms.router)
    # Reports of what Kannel sent, whether or not SMS also come in through it.
    if Channel.SMS_KANNEL in settings.channels or settings.sms_sender is SenderName.KANNEL:
        routers.append(kannel_sms.dlr_router)
    if Channel.VOICE_TWILIO in settings.channels:  # the hotline's voice menu (issue #14)
        routers.append(twilio_voice.router)
    # issue #9: WhatsApp (Twilio, Meta) and Telegram
    if Channel.WHATSAPP_TWILIO in settings.channels:
        routers.append(twilio_whatsapp.router)
    if Channel.WHATSAPP_META in settings.channels:
        routers.append(meta_whatsapp.router)
    if Channel.TELEGRAM in settings.channels:
        routers.append(telegram.router)
    return routers


async def _check_breaker(breaker: Breaker) -> dict[str, Any]:
    """An open breaker means the backend is not being called: not ok until it half-opens
    (information: readiness does not depend on it)."""
    try:
        state = await breaker.state()
    except (StoreError, OSError) as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": state is not BreakerState.OPEN, "state": state.name.lower()}


async def _check_backend(backend: MassarClient) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await backend.health(deadline=Deadline.after(READY_CHECK_BUDGET_S))
    except BackendError as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
