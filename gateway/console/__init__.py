"""The operators' console at `/console`: sign-in, phone lookup, supervisor actions, the channel
simulator, the dashboard, the helpdesk queue and the printable leaflet (issue #16).

Pages are rendered on the server (Jinja2, texts from the gateway's catalogs), with no script
and one style sheet served by the gateway itself, so it works on a network with no internet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles

from gateway.console import actions, dashboard, helpdesk, leaflet, lookup, signin, simulator
from gateway.console.audit import AuditLog
from gateway.console.operators import OperatorStore, SigninLock
from gateway.console.web import ConsoleDenied, denied

__all__ = ["install"]

STATIC = Path(__file__).parent / "static"


def ensure_services(request: Request) -> None:
    """The console's parts, built once per app from the runtime the lifespan opened."""
    state = request.app.state
    if getattr(state, "console_operators", None) is not None:
        return
    settings = state.settings
    state.console_audit = AuditLog(state.db)
    state.console_signin_lock = SigninLock(
        state.redis,
        key_secret=settings.identity_key.get_secret_value().encode(),
        limit=settings.console_signin_failures,
        lock_s=settings.console_signin_lock_s,
    )
    state.console_operators = OperatorStore(state.db)


def install(app: FastAPI) -> None:
    """Mount the console's pages and its static files on `app`."""
    pages = APIRouter(dependencies=[Depends(ensure_services)])
    for module in (signin, lookup, actions, simulator, dashboard, helpdesk, leaflet):
        pages.include_router(module.router)
    app.include_router(pages)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    app.add_exception_handler(ConsoleDenied, denied)  # type: ignore[arg-type]
