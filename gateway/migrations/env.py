"""Alembic's environment for the gateway's schema: `gateway.state.schema.metadata`.

`gateway/state/migrate.py` hands over an open connection (`config.attributes["connection"]`); the
`alembic` command line of developers (alembic.ini at the repository root) opens one on
`sqlalchemy.url` when set, else on GATEWAY_DATABASE_URL. Online only: revisions inspect the
database they migrate (0001 and 0002 adopt tables made before migrations existed).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from gateway.state.migrate import MIGRATION_LOCK_KEY
from gateway.state.schema import metadata


def run_migrations(connection: sa.Connection) -> None:
    """Bring the database on `connection` to the revision asked for."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot alter most of a table: batch mode copies it into the new shape.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Taken before Alembic reads the current revision and held until the transaction
            # ends: a second `upgrade` waits for the first, then finds nothing left to do.
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        context.run_migrations()


def main() -> None:
    if context.is_offline_mode():
        raise SystemExit(
            "offline (--sql) migrations are not supported: revisions inspect the database"
        )
    given = context.config.attributes.get("connection")
    if given is not None:
        run_migrations(given)
        return
    from gateway.settings import Settings
    from gateway.state.connections import open_database

    url = context.config.get_main_option("sqlalchemy.url") or Settings().database_url
    engine = open_database(url)
    try:
        with engine.connect() as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


main()
