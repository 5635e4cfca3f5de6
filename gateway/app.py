"""The app factory: the only place that builds the gateway's pieces from its settings."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

import anyio.to_thread
import httpx
import sqlalchemy as sa
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend_client import Deadline, MassarClient
from backend_client.errors import BackendError
from gateway import logs
from gateway.bindings import SqlBindings
from gateway.channels import at_ussd, twilio_sms
from gateway.delivery import DeliveryLog
from gateway.lockout import RedisLockout
from gateway.migrate import ensure_at_head
from gateway.resilience import (
    BackendSlots,
    Breaker,
    BreakerConfig,
    BreakerState,
    Cache,
    FollowUps,
    Metrics,
    RateLimiter,
    ResilientBackend,
    SingleFlight,
    StreamOutbound,
    TurnGate,
)
from gateway.resilience.metrics import CONTENT_TYPE_LATEST
from gateway.settings import Channel, Settings
from gateway.store import Keys, SessionStore, open_database, open_redis, warm_up
from gateway.turns import FollowUpConfig, TurnRunner

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
) -> FastAPI:
    """Build the gateway; tests may pass `backend_transport` (the sandbox over ASGI, a mock)."""
    settings = settings or Settings()
    logs.configure(json_logs=settings.json_logs, level=settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = open_database(settings.database_url)
        try:
            # `python -m gateway migrate` (or `serve`) made the tables; a worker never does.
            await anyio.to_thread.run_sync(ensure_at_head, engine)
        except BaseException:
            engine.dispose()
            raise
        redis, redis_kind = open_redis(settings.redis_url)
        try:
            await warm_up(redis)
        except RedisError as exc:  # /readyz reports it; turns answer "busy" until it is back
            log.warning("redis_warm_up_failed", error=type(exc).__name__)
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.backend_timeout_s),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            transport=backend_transport,
        )
        backend = MassarClient(
            settings.backend_url, settings.backend_token.get_secret_value(), http=http
        )
        key = settings.identity_key.get_secret_value().encode()
        sessions = SessionStore(redis, key_secret=key)
        bindings = SqlBindings(engine, key_secret=key)
        metrics = Metrics()
        breaker = Breaker(
            redis,
            # One breaker per deployment and backend, shared by all of its workers.
            name=Keys(key).digest(settings.backend_url, label="breaker\0")[:12],
            config=BreakerConfig(
                failures=settings.breaker_failures,
                window_s=settings.breaker_window_s,
                cooldown_s=settings.breaker_cooldown_s,
                probes=settings.breaker_probes,
            ),
            on_state=metrics.breaker_state.set,
        )
        resilient = ResilientBackend(
            backend,
            cache=Cache(
                redis, key_secret=key, ttls=settings.cache_ttls, stale_s=settings.cache_stale_s
            ),
            singleflight=SingleFlight(
                redis,
                lease_s=settings.singleflight_lease_s,
                on_join=metrics.singleflight_joins.inc,
            ),
            breaker=breaker,
            slots=BackendSlots(settings.backend_max_concurrency),
            metrics=metrics,
        )
        followups = FollowUps(limit=settings.followup_max_pending)
        app.state.settings = settings
        app.state.redis = redis
        app.state.redis_kind = redis_kind
        app.state.db = engine
        app.state.backend = backend
        app.state.sessions = sessions
        app.state.deliveries = DeliveryLog(redis)
        app.state.metrics = metrics
        app.state.breaker = breaker
        app.state.resilient_backend = resilient
        app.state.followups = followups
        app.state.outbound = StreamOutbound(redis, key_secret=key)
        app.state.turns = TurnRunner(
            sessions=sessions,
            backend=resilient,
            bindings=bindings,
            lockout=RedisLockout(redis, key_secret=key),
            rate_limit=RateLimiter(
                redis, key_secret=key, limit=settings.rate_limit_per_minute, window_s=60.0
            ),
            metrics=metrics,
            gate=TurnGate(settings.max_turns_in_flight),
            follow_up=FollowUpConfig(
                followups=followups,
                outbound=app.state.outbound,
                profile=twilio_sms.SMS_PROFILE,
                budget_s=settings.followup_budget_s,
            ),
        )
        log.info(
            "gateway starting",
            env=settings.env.value,
            redis=redis_kind,
            database=engine.url.get_backend_name(),
            backend=settings.backend_url,
            channels=sorted(c.value for c in settings.channels),
        )
        try:
            yield
        finally:
            # Answers promised by SMS are finished (or cut) before the clients close.
            await followups.drain(timeout_s=settings.followup_budget_s)
            await http.aclose()
            await redis.aclose()
            engine.dispose()
            log.info("gateway stopped")

    app = FastAPI(
        title="massar-gateway",
        version="0.1.0",
        description="Reach Massar from any phone: SMS, USSD, WhatsApp, Telegram and voice.",
        lifespan=lifespan,
    )
    app.add_middleware(RequestLogMiddleware)
    if Channel.USSD_AFRICASTALKING in settings.channels:
        app.include_router(at_ussd.router)
    if Channel.SMS_TWILIO in settings.channels:
        app.include_router(twilio_sms.router)

    @app.get("/healthz", tags=["ops"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], summary="Readiness: Redis, database and backend answer")
    async def readyz(request: Request) -> JSONResponse:
        state = request.app.state
        checks: dict[str, dict[str, Any]] = {
            "redis": await _check_redis(state.redis, state.redis_kind),
            "database": await anyio.to_thread.run_sync(_check_database, state.db),
            "backend": await _check_backend(state.backend),
            "breaker": await _check_breaker(state.breaker),
        }
        ready = all(check["ok"] for check in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics (no personal data in labels)")
    async def metrics_text(request: Request) -> Response:
        state = request.app.state
        with contextlib.suppress(RedisError, OSError):
            await state.breaker.state()  # refreshes the gauge from the shared state
        return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return app


async def _check_breaker(breaker: Breaker) -> dict[str, Any]:
    """An open breaker means the backend is not being called: not ok until it half-opens."""
    try:
        state = await breaker.state()
    except (RedisError, OSError) as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": state is not BreakerState.OPEN, "state": state.name.lower()}


async def _check_redis(redis: Any, kind: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        ok = bool(await redis.ping())
    except (RedisError, OSError) as exc:
        return {"ok": False, "kind": kind, "error": type(exc).__name__}
    return {"ok": ok, "kind": kind, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


def _check_database(engine: sa.Engine) -> dict[str, Any]:
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.SQLAlchemyError as exc:
        return {"ok": False, "kind": engine.url.get_backend_name(), "error": type(exc).__name__}
    return {"ok": True, "kind": engine.url.get_backend_name()}


async def _check_backend(backend: MassarClient) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await backend.health(deadline=Deadline.after(READY_CHECK_BUDGET_S))
    except BackendError as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
