"""The outbox's priorities: each has a stream of its own, named by its value
(`OutboxKeys.stream`: `…:q:0`, `…:q:1`, `…:q:2`), so the values are part of the keys."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["Priority"]


class Priority(IntEnum):
    """Lower goes first: an interactive reply never waits behind a batch of alerts."""

    INTERACTIVE = 0
    FOLLOWUP = 1
    BULK = 2
