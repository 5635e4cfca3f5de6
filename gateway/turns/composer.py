"""The follow-up composer: a slow live turn's answer, written when a sender worker sends it.

The sender worker calls `compose` with the queued follow-up and its job (the input and the
session it answered): the same step runs again with the patient backend, paged for SMS.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import anyio

from backend_client import Deadline
from gateway.dialogs.conversation import child_shown
from gateway.dialogs.engine import step
from gateway.dialogs.model import ChannelKind, ChannelProfile, Inbound, Session
from gateway.dialogs.ports import Backend
from gateway.outbox.model import OutMessage
from gateway.outbox.queue import Outbox
from gateway.resilience.backend import begin_turn
from gateway.state.langs import LanguageMemo, remembered
from gateway.state.store import SessionConflict, SessionStore
from gateway.turns.events import SAVE_MARGIN_S, UNANSWERED_EVENTS
from gateway.turns.ports import DialogPorts, dialog_turn

__all__ = ["FollowUpComposer", "FollowUpConfig"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowUpConfig:
    """Where and how a slow live turn's answer is sent later."""

    outbox: Outbox
    backend: Backend  # with longer per-attempt timeouts than a live turn's
    profile: ChannelProfile  # the SMS profile the answer is paged for
    budget_s: float = 30.0  # for composing it (the backend's calls)
    max_age_s: int = 7200  # after this it is given up, nothing sent


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowUpComposer:
    """The outbox worker's `Composer` of follow-ups."""

    config: FollowUpConfig
    dialog: DialogPorts
    sessions: SessionStore
    languages: LanguageMemo | None = None

    async def compose(self, msg: OutMessage, job: Mapping[str, Any]) -> OutMessage | None:
        """A follow-up with its text: the same step again, paged for SMS; None while the
        backend still cannot answer. A menu hands the conversation over to SMS: the parent
        replies to it (unless an SMS conversation of theirs is under way)."""
        config = self.config
        inbound = Inbound(
            channel=ChannelKind(job["ch"]),
            sender=msg.to,
            text=str(job.get("text", "")),
            option_id=job.get("opt"),
            message_id=msg.key,
            received_at=datetime.fromtimestamp(float(job["at"]), UTC),
            network=job.get("net"),
            new_session=bool(job.get("new", False)),
        )
        stored = job.get("session")
        session = Session.model_validate_json(stored) if stored else None
        begin_turn()
        turn = dialog_turn(
            self.dialog, config.profile, Deadline.after(config.budget_s), config.backend
        )
        turn = replace(turn, preferences=remembered(turn.preferences, self.languages, msg.to, None))
        try:
            with anyio.fail_after(config.budget_s + SAVE_MARGIN_S):
                result = await step(session, inbound, turn)
        except TimeoutError:
            return None
        if {event.kind for event in result.events} & UNANSWERED_EVENTS:
            return None
        last = result.replies[-1]
        if last.options and not last.end_session:
            await self._hand_over_to_sms(msg.to, result.session)
        text = "\n".join(reply.text for reply in result.replies)
        options = () if last.end_session else last.options
        return replace(msg, text=text, options=options, student=child_shown(result.session))

    async def _hand_over_to_sms(self, phone: str, session: Session) -> None:
        # rev 0 writes only where no SMS session exists: one under way keeps its own state.
        with contextlib.suppress(SessionConflict):
            await self.sessions.save(ChannelKind.SMS, phone, session.with_(rev=0, channel={}))
