"""The operators' console at `/console`: sign-in, phone lookup, supervisor actions, the channel
simulator, the dashboard, the helpdesk queue and the printable leaflet (issue #16), with
need-to-know access to children's data and hardened sign-in (issue #21).

Pages are rendered on the server (Jinja2, texts from the gateway's catalogs), with no script
and one style sheet served by the gateway itself, so it works on a network with no internet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
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
from gateway.settings import Settings

__all__ = ["install"]

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI, settings: Settings) -> None:
    """Mount the console's pages and its static files on `app`, behind its guard (the
    networks it answers, the security headers of every response). Its parts were built with
    the runtime (`Runtime.console`)."""
    for module in (signin, lookup, actions, team, simulator, dashboard, helpdesk, leaflet):
        app.include_router(module.router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    app.add_exception_handler(ConsoleDenied, denied)  # type: ignore[arg-type]
    app.add_middleware(ConsoleGuard, settings=settings)
