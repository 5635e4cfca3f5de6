"""`python -m gateway serve`: migrate the database once, check the shared engines, then run the
gateway under uvicorn."""

from __future__ import annotations

import argparse

from gateway.cli.migrate import upgrade
from gateway.cli.settings import load_settings
from gateway.cli.start import announce, engines_ok, require_shared_redis


def serve(args: argparse.Namespace) -> int:
    import anyio
    import structlog
    import uvicorn

    from gateway import logs
    from gateway.embedded import embedded_alerts, embedded_sender

    settings = load_settings()
    if args.workers > 1:  # each worker would have a stand-in of its own (sessions, outbox)
        require_shared_redis(settings, f"gateway serve --workers {args.workers}")
    # Here, once, before uvicorn starts its workers: a worker only checks the revision, so
    # workers starting together no longer race to create the same tables.
    revision = upgrade(settings.database_url)
    if revision is None:
        return 1
    logs.configure(json_logs=settings.json_logs, level=settings.log_level, file=settings.log_file)
    structlog.get_logger("gateway").info("database migrated", revision=revision)
    if not anyio.run(engines_ok, settings):
        return 1
    host, port = args.host or settings.host, args.port or settings.port
    processes = f"{args.workers} process" + ("es" if args.workers > 1 else "")
    announce(
        "serve",
        settings,
        serves=f"http://{host}:{port} ({processes})",
        sends="yes, in-process" if embedded_sender(settings) else "no: run `gateway worker`",
        alerts="yes, in-process" if embedded_alerts(settings) else "no: run `gateway alerts`",
    )
    uvicorn.run(
        "gateway.app:create_app",
        factory=True,
        host=host,
        port=port,
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
