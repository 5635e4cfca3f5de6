"""Which part failed, and what to check: one log line an operator can act on (issue 22).

Parents still get the polite "Massar is busy" reply; the operators' log names the part
(Redis, the database, Massar's API, Kannel) and the setting to look at, never a traceback:

    part_down part=redis check="GATEWAY_REDIS_URL: is Redis running and reachable?" ...
"""

from __future__ import annotations

from typing import Any

import structlog

from backend_client.errors import BackendError
from gateway.state.errors import StoreUnavailable

__all__ = ["CHECKS", "part_down", "part_of"]

log = structlog.get_logger("gateway.failures")

CHECKS = {
    "redis": "GATEWAY_REDIS_URL: is Redis running and reachable from this host?",
    "database": "GATEWAY_DATABASE_URL: is the database up, and migrated"
    " (python -m gateway migrate)?",
    "backend": "GATEWAY_BACKEND_URL: does Massar's API (or the sandbox) answer GET /health?",
    "kannel": "GATEWAY_KANNEL_SENDSMS_URL: are Kannel's bearerbox and smsbox running?",
}


def part_of(exc: BaseException) -> str | None:
    """The part an exception comes from, when it says: a store's `StoreUnavailable` names
    its engine ("redis" or "database")."""
    if isinstance(exc, StoreUnavailable):
        return exc.part
    if isinstance(exc, BackendError):
        return "backend"
    return None


def part_down(part: str, what: str, exc: BaseException | None = None, **context: Any) -> None:
    """One warning line: which `part` failed while doing `what`, and what to check."""
    error = type(exc).__name__ if exc is not None else None
    log.warning("part_down", part=part, during=what, check=CHECKS[part], error=error, **context)
