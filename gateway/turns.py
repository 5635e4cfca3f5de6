"""Runs one user turn: lock the user, load the session, step the engine, save, within a budget.

Channels call `TurnRunner.run` after verifying and parsing a request; they render the `Step`.
The budget is the channel's (USSD: 2 s): every backend call gets what is left of it, and a
turn that runs out still answers, with the engine's "busy" reply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio
import structlog

from backend_client import Deadline
from gateway.dialogs import texts
from gateway.dialogs.conversation import Step, Turn
from gateway.dialogs.engine import step
from gateway.dialogs.model import ChannelProfile, Event, Inbound, Reply, Session
from gateway.dialogs.ports import Backend, Bindings, Lockout
from gateway.i18n import translator
from gateway.store import SESSION_TTL_S, LockTimeout, SessionConflict, SessionStore
from gateway.text import script_of

log = structlog.get_logger("gateway.turns")

Prepare = Callable[[Session | None], tuple[Inbound, Session | None]]
"""Builds the turn's input from the stored session (USSD derives the latest input from it)."""

# Room left after the engine's budget for saving the session and writing the response.
SAVE_MARGIN_S = 0.25


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnRunner:
    sessions: SessionStore
    backend: Backend
    bindings: Bindings
    lockout: Lockout
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    async def run(
        self,
        prepare: Prepare,
        *,
        profile: ChannelProfile,
        user: str,
        budget_s: float,
        message_id: str,
        render: Callable[[Step], str],
        remember_s: int,
    ) -> str:
        """One turn for `user` on `profile.kind`, rendered, within `budget_s` seconds.

        `message_id` is the provider's id of the input: a repeat of it, even one that arrives
        while the first is still being answered, gets the first answer and changes nothing.
        """
        kind = profile.kind
        seen = await self.sessions.remembered(kind, user, message_id)
        if seen is not None:
            return seen.decode()
        deadline = Deadline.after(budget_s)
        loaded: list[Session] = []
        try:
            with anyio.fail_after(budget_s):
                async with self.sessions.lock(kind, user, wait_s=budget_s / 2):
                    seen = await self.sessions.remembered(kind, user, message_id)
                    if seen is not None:
                        return seen.decode()
                    result = await self._locked_turn(prepare, profile, user, deadline, loaded)
                    body = render(result)
                    await self.sessions.remember(
                        kind, user, message_id, body.encode(), ttl_s=remember_s
                    )
                    return body
        except (TimeoutError, LockTimeout):
            log.warning("turn_over_budget", channel=kind.value, budget_s=budget_s)
            return render(busy_step(prepare(None)[0], loaded[0] if loaded else None))

    async def _locked_turn(
        self,
        prepare: Prepare,
        profile: ChannelProfile,
        user: str,
        deadline: Deadline,
        loaded: list[Session],
    ) -> Step:
        stored = await self.sessions.load(profile.kind, user)
        if stored is not None:
            loaded.append(stored)
        inbound, session = prepare(stored)
        engine_deadline = Deadline(deadline.expires_at - SAVE_MARGIN_S, deadline.clock)
        turn = Turn(
            backend=self.backend,
            bindings=self.bindings,
            lockout=self.lockout,
            profile=profile,
            now=self.clock(),
            deadline=engine_deadline,
        )
        result = await step(session, inbound, turn)
        rev = stored.rev if stored is not None else 0
        to_save = result.session.with_(rev=rev)
        try:
            saved = await self.sessions.save(
                profile.kind, user, to_save, ttl_s=SESSION_TTL_S[profile.kind]
            )
        except SessionConflict:
            # Cannot happen while we hold the user's lock, unless the lease ran out: the other
            # writer's state wins and this answer still goes out.
            log.warning("session_conflict", channel=profile.kind.value)
            saved = to_save
        for event in result.events:
            log.info("dialog_event", kind=event.kind, state=saved.state)
        return Step(session=saved, replies=result.replies, events=result.events)


def busy_step(inbound: Inbound, session: Session | None) -> Step:
    """The answer when the turn ran out of time, in the session's language or the input's."""
    lang = (session.lang if session is not None else None) or script_of(inbound.text) or "ar"
    text = translator(lang).gettext(texts.BUSY)
    return Step(
        session=session or Session(),
        replies=(Reply(text=text, end_session=True),),
        events=(Event(kind="turn_over_budget"),),
    )
