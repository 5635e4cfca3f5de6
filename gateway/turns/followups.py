"""Answers that follow by SMS: the promise a slow live turn makes, and what it queues.

A USSD or voice turn whose backend is too slow or down promises "the answer will follow by
SMS" and queues a follow-up (no text yet: its job holds the input and the session) that a
sender worker composes later (`gateway.turns.composer`). One per phone and question (a
guard), given up after `max_age_s`. Never promised when the turn tried a call the backend
counts (a verification) or its input may hold a code, a birth date or an application number:
those never wait in a queue.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from gateway.dialogs.model import ChannelKind, ChannelProfile, Inbound, Session
from gateway.outbox.model import MessageKind, OutChannel, outbound
from gateway.resilience.backend import unsafe_to_repeat
from gateway.resilience.metrics import Metrics
from gateway.state.store import SessionStore
from gateway.text import ascii_digits
from gateway.turns.composer import FollowUpComposer, FollowUpConfig
from gateway.turns.events import LIVE_CHANNELS

__all__ = [
    "IDENTIFIER_DATA",
    "FollowUps",
    "followup_job",
    "followup_key",
    "holds_identifiers",
    "question_key",
]

_LONG_NUMBER = re.compile(r"\d{6,}")
# What a prompt keeps between a code (or an application number) and the birth date asked
# next: a session holding one never waits in the outbox either.
IDENTIFIER_DATA = frozenset({"code", "number"})


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowUps:
    """Both halves of a follow-up: the turn's promise (`promise`) and the worker's
    composing of it (`composer`, handed to the sender worker)."""

    config: FollowUpConfig
    sessions: SessionStore  # its keyed hash names the follow-up
    composer: FollowUpComposer
    metrics: Metrics | None = None

    async def promise(
        self, profile: ChannelProfile, inbound: Inbound, session: Session | None, message_id: str
    ) -> bool:
        """Queue the answer as a follow-up SMS; False when it cannot be promised."""
        if (
            profile.kind not in LIVE_CHANNELS
            or unsafe_to_repeat()
            or holds_identifiers(inbound.text)
            or (session is not None and not IDENTIFIER_DATA.isdisjoint(session.data))
        ):
            return False
        msg = outbound(
            MessageKind.FOLLOWUP,
            # Provider ids can hold what the user typed (the USSD path): only a keyed hash.
            key=followup_key(self.sessions, profile.kind, message_id),
            channel=OutChannel.SMS,
            to=inbound.sender,
            text="",
            now=self.composer.dialog.clock(),
        )
        queued = await self.config.outbox.enqueue(
            msg,
            job=followup_job(inbound, session),
            guard=question_key(inbound, session),
            guard_ttl_s=self.config.max_age_s,
        )
        # Not queued: the same question already waits for its answer, which this one shares.
        if self.metrics is not None:
            self.metrics.followups.labels(outcome="queued" if queued else "joined").inc()
        return True


def holds_identifiers(text: str) -> bool:
    """Whether `text` may hold a Massar code, a birth date or an application number: six
    digits or more once separators are gone. Such input never waits in the outbox."""
    return bool(_LONG_NUMBER.search(re.sub(r"\W", "", ascii_digits(text))))


def followup_key(sessions: SessionStore, kind: ChannelKind, message_id: str) -> str:
    """The idempotency key of the SMS that answers `message_id` later."""
    return f"followup:{kind.value}:{sessions.keys.digest(message_id, label='followup')}"


def followup_job(inbound: Inbound, session: Session | None) -> dict[str, Any]:
    """What composing a follow-up needs: the input and the session it answered (opaque ids)."""
    return {
        "ch": inbound.channel.value,
        "text": inbound.text,
        "opt": inbound.option_id,  # a button's id (a voice caller's "repeat")
        "net": inbound.network,
        "at": inbound.received_at.timestamp(),
        "new": inbound.new_session,  # a dial opens a session: the language is found again
        "session": session.model_dump_json(exclude_defaults=True) if session else None,
    }


def question_key(inbound: Inbound, session: Session | None) -> str:
    """One pending follow-up per phone and question: who, where in the menus, what input
    (two dials while Massar is slow are one question: one menu by SMS, not two)."""
    # A new dial asks for the menu, whatever state the last session ended in.
    fresh = session is None or inbound.new_session
    where = ["start", {}] if session is None or fresh else [session.state, session.data]
    return json.dumps([inbound.sender, *where, inbound.text.strip()], sort_keys=True)
