"""`create_app(settings)`: the only place that builds things (engine, clock, chaos, stats)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from sandbox import db, problems
from sandbox.api import admin, admin_people, enrolment, feed, guardians, public
from sandbox.chaos import Chaos, ChaosMiddleware
from sandbox.clock import SandboxClock
from sandbox.middleware import CallStats, RequestContextMiddleware
from sandbox.schemas import Health
from sandbox.settings import SandboxSettings

DESCRIPTION = """A stand-in for Massar (which has no public API): synthetic data, fault injection.

Every `/api/v1` call needs `Authorization: Bearer <token>`; student and enrolment reads also need
`X-On-Behalf-Of: gdn_…`. Errors are RFC 9457 `application/problem+json`. `/_sandbox/*` are admin
endpoints (separate token, absent in production)."""


def create_app(settings: SandboxSettings | None = None) -> FastAPI:
    settings = settings or SandboxSettings()
    clock = SandboxClock(settings.now)
    chaos = Chaos(settings, clock.now)
    stats = CallStats()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = db.make_engine(settings.database_url, schema=settings.db_schema)
        app.state.engine = engine
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="Massar sandbox",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None if settings.production else "/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.chaos = chaos
    app.state.stats = stats
    app.state.generate_calls = 0
    problems.install(app)

    @app.get(
        "/health", response_model=Health, tags=["health"], summary="Liveness (no auth, no chaos)"
    )
    @app.get(
        "/api/v1/health",
        response_model=Health,
        tags=["health"],
        summary="Liveness (no auth, no chaos)",
    )
    def health() -> Health:
        return Health(status="ok")

    for part in (guardians, public, enrolment, feed):  # the contract's order (DOMAIN §8)
        app.include_router(part.router)
    if settings.admin_enabled:
        app.include_router(admin.router)
        app.include_router(admin_people.router)
    app.add_middleware(ChaosMiddleware, chaos=chaos, settings=settings)
    app.add_middleware(RequestContextMiddleware, stats=stats)
    return app
