"""`python -m gateway`: run the gateway, migrate its database, or run the whole demo (sandbox
backend + gateway)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

import httpx
import pydantic

from gateway.settings import Settings

STOP_GRACE_S = 10.0
# What the migrations and the stores are written and tested for.
SUPPORTED_DATABASES = ("sqlite:", "sqlite+pysqlite:", "postgresql:", "postgresql+psycopg:")


def _load_settings() -> Settings:
    try:
        return Settings()
    except pydantic.ValidationError as exc:
        for error in exc.errors():
            print(f"massar-gateway: {error['msg']}", file=sys.stderr)  # noqa: T201
        raise SystemExit(2) from None


def _upgrade(database_url: str) -> str | None:
    """Bring the database to the newest revision: that revision, or None once said why not."""
    import sqlalchemy as sa
    from alembic.util import CommandError

    from gateway.migrate import head_revision, upgrade

    if not database_url.startswith(SUPPORTED_DATABASES):
        scheme = database_url.split(":", 1)[0][:24]  # never the rest: it may hold a password
        print(  # noqa: T201
            f"massar-gateway: cannot migrate the database: unsupported URL scheme {scheme!r}"
            " (GATEWAY_DATABASE_URL: sqlite:///PATH or postgresql+psycopg://USER@HOST/NAME)",
            file=sys.stderr,
        )
        return None
    try:
        upgrade(database_url)
    except (sa.exc.SQLAlchemyError, CommandError, OSError, ImportError) as exc:
        print(f"massar-gateway: cannot migrate the database: {_reason(exc)}", file=sys.stderr)  # noqa: T201
        return None
    return head_revision()


def _reason(exc: Exception) -> str:
    """The first line of what went wrong, from the driver when it spoke (no SQL, no URL)."""
    import sqlalchemy as sa

    cause: BaseException = exc
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        cause = exc.orig
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0]}" if lines else type(cause).__name__


def migrate(args: argparse.Namespace) -> int:
    """Bring GATEWAY_DATABASE_URL to the newest schema revision, once, before any worker starts."""
    settings = _load_settings()
    revision = _upgrade(settings.database_url)
    if revision is None:
        return 1
    print(f"massar-gateway: database schema at revision {revision} (the newest)")  # noqa: T201
    return 0


def serve(args: argparse.Namespace) -> int:
    import structlog
    import uvicorn

    from gateway import logs

    settings = _load_settings()
    # Here, once, before uvicorn starts its workers: a worker only checks the revision, so
    # workers starting together no longer race to create the same tables.
    revision = _upgrade(settings.database_url)
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


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def demo(args: argparse.Namespace) -> int:
    """Start the sandbox backend, then the gateway pointed at it; Ctrl-C stops both."""
    sandbox_port = int(os.environ.get("SANDBOX_PORT", "8100"))
    gateway_port = int(os.environ.get("GATEWAY_PORT", "8000"))
    env = dict(os.environ)
    env.setdefault("GATEWAY_BACKEND_URL", f"http://127.0.0.1:{sandbox_port}/api/v1")
    env.setdefault("GATEWAY_PUBLIC_URL", f"http://127.0.0.1:{gateway_port}")
    procs: list[subprocess.Popen[bytes]] = []

    def stop_all(*_: object) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                proc.kill()

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        sandbox = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "sandbox",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(sandbox_port),
            ],
            env=env,
        )
        procs.append(sandbox)
        if not _wait_healthy(f"http://127.0.0.1:{sandbox_port}/api/v1/health", sandbox, 600):
            print("massar-gateway: the sandbox backend did not start", file=sys.stderr)  # noqa: T201
            stop_all()
            return 1
        gateway = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gateway", "serve", "--port", str(gateway_port)], env=env
        )
        procs.append(gateway)
        while all(proc.poll() is None for proc in procs):
            time.sleep(0.5)
        return next(proc.returncode for proc in procs if proc.returncode is not None) or 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all()


def simulate(args: argparse.Namespace) -> int:
    import anyio

    from gateway.phones import to_e164
    from gateway.simulate import converse

    phone = to_e164(args.phone)
    if phone is None:
        print(f"massar-gateway: {args.phone!r} is not a phone number", file=sys.stderr)  # noqa: T201
        return 2
    settings = _load_settings()
    anyio.run(lambda: converse(args.channel, phone, url=args.url, settings=settings))
    return 0


def worker(args: argparse.Namespace) -> int:
    import anyio

    from gateway.migrate import SchemaOutdated
    from gateway.outbox.cli import run_worker

    settings = _load_settings()
    try:
        anyio.run(
            lambda: run_worker(settings, consumer=args.consumer, metrics_port=args.metrics_port)
        )
    except SchemaOutdated as exc:
        print(f"massar-gateway: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


def alerts(args: argparse.Namespace) -> int:
    """Issue 15: read the backend's change feed and queue alerts (one active among many)."""
    import anyio

    from gateway.alerts.cli import run_alerts
    from gateway.migrate import SchemaOutdated

    settings = _load_settings()
    try:
        anyio.run(lambda: run_alerts(settings))
    except SchemaOutdated as exc:
        print(f"massar-gateway: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


def secret(args: argparse.Namespace) -> int:
    """Print a fresh secret (256 random bits, URL-safe) for a setting the deployment chooses."""
    from gateway.settings.secrets import new_secret

    print(new_secret())  # noqa: T201
    return 0


def describe(parser: argparse.ArgumentParser) -> None:
    """Give every subcommand's `--help` its one-line help as description (else it is empty)."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for choice in action._choices_actions:
            child = action.choices[choice.dest]
            if not child.description:
                child.description = choice.help
            describe(child)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("massar-gateway")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway", description=__doc__)
    parser.add_argument("--version", action="version", version=f"massar-gateway {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_serve = sub.add_parser("serve", help="run the gateway (settings from GATEWAY_* variables)")
    p_serve.add_argument("--host", default=None, help="default: GATEWAY_HOST or 127.0.0.1")
    p_serve.add_argument("--port", type=int, default=None, help="default: GATEWAY_PORT or 8000")
    p_serve.add_argument("--workers", type=int, default=1, help="server processes (default: 1)")
    p_serve.set_defaults(func=serve)

    p_migrate = sub.add_parser(
        "migrate", help="bring the database (GATEWAY_DATABASE_URL) to the newest schema revision"
    )
    p_migrate.set_defaults(func=migrate)

    p_secret = sub.add_parser(
        "secret",
        help="print a fresh secret for GATEWAY_ADMIN_TOKEN, GATEWAY_IDENTITY_KEY, the tokens "
        "in Kannel's and the aggregators' URLs, Telegram's webhook secret…",
    )
    p_secret.set_defaults(func=secret)

    p_demo = sub.add_parser("demo", help="run the sandbox backend and the gateway together")
    p_demo.set_defaults(func=demo)

    p_worker = sub.add_parser(
        "worker", help="send what the outbox holds (SMS follow-ups, replies, alerts)"
    )
    p_worker.add_argument(
        "--consumer", default=None, help="this worker's name (default: host and process id)"
    )
    p_worker.add_argument(
        "--metrics-port", type=int, default=None, help="serve Prometheus metrics on this port"
    )
    p_worker.set_defaults(func=worker)

    from gateway.simulate.phones import PHONES

    p_sim = sub.add_parser("simulate", help="talk to the gateway as a user of one channel")
    p_sim.add_argument(
        "--channel", choices=sorted(PHONES), default="ussd", help="the handset (default: ussd)"
    )
    p_sim.add_argument(
        "--phone", default="+212600000001", help="the phone it calls from (default: a demo one)"
    )
    p_sim.add_argument(
        "--url", default=None, help="a running gateway (default: an in-process one with a sandbox)"
    )
    p_sim.set_defaults(func=simulate)

    from gateway.intents_cli import register

    register(sub)  # unmatched, understand

    from gateway.channels.voice.cli import register as register_voice

    register_voice(sub)  # voice prompts
    p_alerts = sub.add_parser(
        "alerts", help="turn the backend's change feed into alerts for guardians (issue 15)"
    )
    p_alerts.set_defaults(func=alerts)
    from gateway.telegram_cli import register as register_telegram

    register_telegram(sub)  # telegram set-webhook (issue #9)
    from gateway.console.operators import register as register_operators

    register_operators(sub)  # operators add (the console's accounts, issue #16)

    describe(parser)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result
