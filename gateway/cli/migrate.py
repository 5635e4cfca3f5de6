"""`python -m gateway migrate`: bring GATEWAY_DATABASE_URL to the newest schema revision (and
`serve` does it first, once, before its workers start)."""

from __future__ import annotations

import argparse
import sys

from gateway.cli.settings import load_settings

# What the migrations and the stores are written and tested for.
SUPPORTED_DATABASES = ("sqlite:", "sqlite+pysqlite:", "postgresql:", "postgresql+psycopg:")


def upgrade(database_url: str) -> str | None:
    """Bring the database to the newest revision: that revision, or None once said why not."""
    from gateway.state.migrate import MigrationFailed, head_revision
    from gateway.state.migrate import upgrade as upgrade_schema

    if not database_url.startswith(SUPPORTED_DATABASES):
        scheme = database_url.split(":", 1)[0][:24]  # never the rest: it may hold a password
        print(  # noqa: T201
            f"massar-gateway: cannot migrate the database: unsupported URL scheme {scheme!r}"
            " (GATEWAY_DATABASE_URL: sqlite:///PATH or postgresql+psycopg://USER@HOST/NAME)",
            file=sys.stderr,
        )
        return None
    try:
        upgrade_schema(database_url)
    except MigrationFailed as exc:  # the first line of why, as the state layer says it
        print(f"massar-gateway: cannot migrate the database: {exc}", file=sys.stderr)  # noqa: T201
        return None
    return head_revision()


def migrate(args: argparse.Namespace) -> int:
    """Bring GATEWAY_DATABASE_URL to the newest schema revision, once, before any worker starts."""
    settings = load_settings()
    revision = upgrade(settings.database_url)
    if revision is None:
        return 1
    print(f"massar-gateway: database schema at revision {revision} (the newest)")  # noqa: T201
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p_migrate = sub.add_parser(
        "migrate", help="bring the database (GATEWAY_DATABASE_URL) to the newest schema revision"
    )
    p_migrate.set_defaults(func=migrate)
