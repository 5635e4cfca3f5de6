"""Gateway databases as `python -m gateway migrate` leaves them, for tests that build the app.

A worker only checks the schema revision (`ensure_at_head`) and refuses an unmigrated
database, so every test that starts the app on a fresh database migrates it first, the way
`serve` does in its parent process.
"""

from __future__ import annotations

from gateway.migrate import upgrade
from gateway.settings import Settings


def migrated(settings: Settings) -> Settings:
    """`settings`, once its database is at the newest revision."""
    upgrade(settings.database_url)
    return settings
