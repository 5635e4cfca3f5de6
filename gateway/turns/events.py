"""The budget's margin, the live channels, and which dialog events say what about a turn."""

from __future__ import annotations

from gateway.dialogs.model import ChannelKind

__all__ = [
    "BACKEND_DOWN",
    "FOLLOW_EVENTS",
    "LIVE_CHANNELS",
    "SAVE_MARGIN_S",
    "SHED_EVENTS",
    "UNANSWERED_EVENTS",
]

# Room left after the engine's budget for saving the session and writing the response.
SAVE_MARGIN_S = 0.25
# Channels where the caller waits on the line: a slow answer is sent later by SMS.
LIVE_CHANNELS = frozenset({ChannelKind.USSD, ChannelKind.VOICE})
SHED_EVENTS = frozenset({"backend_unavailable", "backend_timeout", "turn_over_budget"})
# What a follow-up can wait out: the backend answers again later.
FOLLOW_EVENTS = frozenset({"backend_unavailable", "backend_timeout"})
# Massar's API did not answer (down, too slow, or an answer out of contract).
BACKEND_DOWN = frozenset({"backend_unavailable", "backend_timeout", "backend_bad_response"})
# A composed answer still unusable: try again later.
UNANSWERED_EVENTS = SHED_EVENTS | {"backend_bad_response"}
