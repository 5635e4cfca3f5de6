"""The state layer's errors: what a caller of a store may catch instead of a driver's.

`StoreError` is the root. `StoreUnavailable` means the Redis or the database did not answer
(connection refused, timed out, failed over): the store raises it `from` the driver's error
(`redis.RedisError`, `sqlalchemy.exc.SQLAlchemyError`), so a caller above this layer needs
neither driver to tell a storage failure from its own. `SessionConflict` and `LockTimeout`
(`gateway.state.store`) are the turn's own refusals, also under `StoreError`.
"""

from __future__ import annotations

__all__ = ["StoreError", "StoreUnavailable"]


class StoreError(Exception):
    """Something about the shared state stopped a write or a wait."""


class StoreUnavailable(StoreError):
    """The Redis or the database behind a store did not answer."""
