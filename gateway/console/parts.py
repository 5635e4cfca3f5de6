"""What the console's pages work with, as one typed bundle (`Runtime.console`), built once when
the runtime opens (`gateway.runtime.open_runtime`): no console route builds or starts anything.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.console.operators import OperatorStore
from gateway.settings import Env, Settings
from gateway.state.console.audit import AuditLog
from gateway.state.console.sessions import CheckCounter, ConsoleSessions, SigninGate

if TYPE_CHECKING:
    from gateway.console.simulator import Handset

__all__ = ["SAMPLES_KEPT", "TOTP_FAILURES", "TOTP_WINDOW_S", "ConsoleParts", "demo_operators"]

# A name whose password is proven may be locked: 10 wrong codes in 15 minutes stop its second
# factor (the (name, address) gate alone would let an attacker with the password guess from
# many addresses).
TOTP_FAILURES = 10
TOTP_WINDOW_S = 900  # as the refusal says: "wait 15 minutes"
SAMPLES_KEPT = 60  # the dashboard's views remembered for its turns per minute


def _samples() -> deque[tuple[float, dict[str, float]]]:
    return deque(maxlen=SAMPLES_KEPT)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleParts:
    """The console's stores, and what this process keeps in memory for its pages."""

    audit: AuditLog
    sessions: ConsoleSessions
    signin_gate: SigninGate
    checks: CheckCounter  # an operator's failed checks of a child
    totp_checks: CheckCounter  # a supervisor's wrong second-factor codes
    operators: OperatorStore
    # The simulator's handsets by (browser, channel, phone), least recently used first.
    handsets: OrderedDict[tuple[str, str, str], Handset] = field(default_factory=OrderedDict)
    # The dashboard's views: (monotonic time, turns per channel).
    samples: deque[tuple[float, dict[str, float]]] = field(default_factory=_samples)


def demo_operators(settings: Settings) -> bool:
    """Whether the demo accounts are made (unset: in development only)."""
    if settings.console_demo_operators is not None:
        return settings.console_demo_operators and settings.env is not Env.PRODUCTION
    return settings.env is Env.DEVELOPMENT
