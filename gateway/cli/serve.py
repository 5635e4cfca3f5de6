"""`python -m gateway serve`: migrate the database once, then run the gateway under uvicorn."""

from __future__ import annotations

import argparse

from gateway.cli.migrate import upgrade
from gateway.cli.settings import load_settings


def serve(args: argparse.Namespace) -> int:
    import structlog
    import uvicorn

    from gateway import logs

    settings = load_settings()
    # Here, once, before uvicorn starts its workers: a worker only checks the revision, so
    # workers starting together no longer race to create the same tables.
    revision = upgrade(settings.database_url)
    if revision is None:
        return 1
    logs.configure(json_logs=settings.json_logs, level=settings.log_level)
    structlog.get_logger("gateway").info("database migrated", revision=revision)
    uvicorn.run(
        "gateway.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        log_config=None,
        access_log=False,  # the app writes one canonical line per request instead
        proxy_headers=True,
    )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p_serve = sub.add_parser("serve", help="run the gateway (settings from GATEWAY_* variables)")
    p_serve.add_argument("--host", default=None, help="default: GATEWAY_HOST or 127.0.0.1")
    p_serve.add_argument("--port", type=int, default=None, help="default: GATEWAY_PORT or 8000")
    p_serve.add_argument("--workers", type=int, default=1, help="server processes (default: 1)")
    p_serve.set_defaults(func=serve)
