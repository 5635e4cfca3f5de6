"""The operators' console at `/console`: sign-in, phone lookup, supervisor actions, the channel
simulator, the dashboard, the helpdesk queue and the printable leaflet (issue #16), with
need-to-know access to children's data and hardened sign-in (issue #21).

Pages are rendered on the server (Jinja2, texts from the gateway's catalogs), with no script
and one style sheet served by the gateway itself, so it works on a network with no internet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles

from gateway.console import (
    actions,
    dashboard,
    helpdesk,
    leaflet,
    lookup,
    signin,
    simulator,
    team,
)
from gateway.console.guard import ConsoleGuard
from gateway.console.web import ConsoleDenied, denied
from gateway.settings import Env, Settings
from gateway.state.console.audit import AuditLog
from gateway.state.console.operators import OperatorStore
from gateway.state.console.sessions import CheckCounter, ConsoleSessions, SigninGate

__all__ = ["demo_operators", "ensure_services", "install"]

STATIC = Path(__file__).parent / "static"


TOTP_FAILURES = 10
TOTP_WINDOW_S = 900  # as the refusal says: "wait 15 minutes"


def demo_operators(settings: Settings) -> bool:
    """Whether the demo accounts are made (unset: in development only)."""
    if settings.console_demo_operators is not None:
        return settings.console_demo_operators and settings.env is not Env.PRODUCTION
    return settings.env is Env.DEVELOPMENT


def ensure_services(request: Request) -> None:
    """The console's parts, built once per app from the runtime the lifespan opened."""
    state = request.app.state
    if getattr(state, "console_operators", None) is not None:
        return
    settings: Settings = state.settings
    secret = settings.identity_key.get_secret_value().encode()
    state.console_audit = AuditLog(
        state.db,
        state.redis,
        anonymous_per_minute=settings.console_audit_anonymous_per_minute,
        key_secret=secret,
    )
    state.console_sessions = ConsoleSessions(
        state.redis,
        key_secret=secret,
        idle_s=settings.console_idle_timeout_s,
        max_s=settings.console_session_max_s,
    )
    state.console_signin_gate = SigninGate(
        state.redis,
        key_secret=secret,
        limit=settings.console_signin_failures,
        address_limit=settings.console_signin_address_failures,
        lock_s=settings.console_signin_lock_s,
        slow_after=settings.console_signin_name_slow_after,
        interval_s=settings.console_signin_name_interval_s,
    )
    state.console_checks = CheckCounter(
        state.redis,
        key_secret=secret,
        limit=settings.console_check_failures,
        window_s=settings.console_check_lock_s,
    )
    # A name whose password is proven may be locked: 10 wrong codes in 15 minutes stop its second
    # factor (the (name, address) gate alone would let an attacker with the password guess
    # from many addresses).
    state.console_totp_checks = CheckCounter(
        state.redis, key_secret=secret, limit=TOTP_FAILURES, window_s=TOTP_WINDOW_S, what="totp"
    )
    operators = OperatorStore(state.db, key_secret=secret)
    if demo_operators(settings):
        operators.ensure_demo()
    state.console_operators = operators


def install(app: FastAPI) -> None:
    """Mount the console's pages and its static files on `app`, behind its guard (the
    networks it answers, the security headers of every response)."""
    pages = APIRouter(dependencies=[Depends(ensure_services)])
    for module in (signin, lookup, actions, team, simulator, dashboard, helpdesk, leaflet):
        pages.include_router(module.router)
    app.include_router(pages)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    app.add_exception_handler(ConsoleDenied, denied)  # type: ignore[arg-type]
    app.add_middleware(ConsoleGuard)
