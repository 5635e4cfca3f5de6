"""What a turn works with, in three small bundles along its seams.

```
TurnRunner ── TurnState    the first and last round trips: sessions, rate limit, the cached
          │                guardian entry, the remembered language (Redis)
          ├── DialogPorts  what the engine's step reads: the backend, bindings, lockout,
          │                preferences, and the clock
          ├── Observers    metrics and the log of what nobody understood
          ├── TurnGate     shedding when too many turns are in flight
          └── FollowUps    the answer that follows by SMS (gateway.turns.followups)
```
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from backend_client import Deadline
from gateway.dialogs.conversation import Turn
from gateway.dialogs.model import ChannelProfile
from gateway.dialogs.ports import Backend, Bindings, Lockout, Preferences
from gateway.resilience.cache import Cache
from gateway.resilience.metrics import Metrics
from gateway.state.langs import LanguageMemo
from gateway.state.resilience.limits import RateLimiter
from gateway.state.store import SessionStore
from gateway.state.unmatched import UnmatchedLog

__all__ = ["DialogPorts", "Observers", "TurnState", "dialog_turn"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnState:
    """The state a turn opens and closes in its two round trips."""

    sessions: SessionStore
    rate_limit: RateLimiter | None = None
    # The backend's cache: its guardian entry for the caller is read in the turn's first
    # round trip, so a warm turn makes no read of its own.
    guardian_cache: Cache | None = None
    languages: LanguageMemo | None = None  # AR/FR read in the first round trip (issue #24)


@dataclass(frozen=True, slots=True, kw_only=True)
class DialogPorts:
    """What the engine's step is given besides the session and the input."""

    backend: Backend
    bindings: Bindings
    lockout: Lockout
    # Alerts (issue 15): STOP/START and the language chosen with AR/FR, kept per phone.
    preferences: Preferences | None = None
    clock: Callable[[], datetime] = field(default=_utc_now)


@dataclass(frozen=True, slots=True, kw_only=True)
class Observers:
    """What watches turns without changing them."""

    metrics: Metrics | None = None
    unmatched: UnmatchedLog | None = None


def dialog_turn(
    ports: DialogPorts,
    profile: ChannelProfile,
    deadline: Deadline,
    backend: Backend | None = None,
) -> Turn:
    """The engine's `Turn` for one step (`backend`: another one, e.g. a follow-up's)."""
    return Turn(
        backend=backend or ports.backend,
        bindings=ports.bindings,
        lockout=ports.lockout,
        profile=profile,
        now=ports.clock(),
        deadline=deadline,
        preferences=ports.preferences,
    )
