"""Runs one user turn within a budget, in two Redis round trips around the engine's step.

Channels call `TurnRunner.run` after verifying and parsing a request; it gives them the
`Screen` the turn shows (a typed value: the engine's last reply, with the session's language
and child), which each renders on its own wire. The first round trip
(`SessionStore.open_turn`) replays a remembered answer, counts the rate limit, takes the
user's lock and loads the session with the caller's cached guardian lookup; the second
(`close_turn`) saves the session, remembers the answer (the screen, encoded once by the state
layer: `gateway.state.screens`) and frees the lock. A USSD provider session's end
(`gateway.state.ends`) rides on the same two. Only the backend reads the engine asks for
beyond that cost more.
The budget is the channel's (USSD: 2 s): every backend call gets what is left of it, and a
turn that runs out still answers:

- the backend is too slow, down, or behind an open breaker on a live channel (USSD, voice):
  "the answer will follow by SMS", and a follow-up waits in the outbox until a sender worker
  can compose it (`gateway.turns.composer`: the same step, paged for SMS) — one per phone
  and question, given up after `max_age_s`. Not promised when the turn tried a call the
  backend counts (a verification) or its input may hold a code, a birth date or an
  application number: those never wait in a queue. A menu that follows by SMS hands the
  conversation over to SMS, so the parent can reply to it;
- elsewhere the breaker, shedding or an outage give the "busy" reply (or, from the engine, a
  stale answer with its date);
- too many turns from one phone in a minute: "too many messages, wait a minute";
- Redis itself fails: the "busy" reply, never an HTTP 500;
- an answer in a provider session that ended: "your session has ended", no turn.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import structlog

from backend_client import Deadline
from gateway.dialogs import texts
from gateway.dialogs.conversation import Step
from gateway.dialogs.engine import step
from gateway.dialogs.model import ChannelKind, ChannelProfile, Inbound, Lang, Screen, Session
from gateway.failures import part_down
from gateway.resilience.backend import begin_turn
from gateway.resilience.limits import TurnGate
from gateway.state.ends import SessionEnd, end_lang
from gateway.state.errors import StoreUnavailable
from gateway.state.langs import remembered
from gateway.state.screens import decode_screen, encode_screen
from gateway.state.store import SESSION_TTL_S, LockTimeout, Opened, Outcome, SessionConflict
from gateway.text import script_of
from gateway.turns.events import BACKEND_DOWN, FOLLOW_EVENTS, SAVE_MARGIN_S, SHED_EVENTS
from gateway.turns.followups import FollowUps
from gateway.turns.notices import busy_step, notice_step
from gateway.turns.ports import DialogPorts, Observers, TurnState, dialog_turn

__all__ = ["PHONE_H_CHARS", "Prepare", "Shown", "TurnRunner"]

log = structlog.get_logger("gateway.turns")

Prepare = Callable[[Session | None], tuple[Inbound, Session | None]]
"""Builds the turn's input from the stored session (USSD derives the latest input from it)."""

Shown = Callable[[Step], Screen]
"""The screen a channel shows for a step (`Step.screen`, or the channel's own choice: USSD
closes a finished answer, a call says its note first)."""

PHONE_H_CHARS = 12  # as `gateway.logs.phone_hash`


@dataclass(frozen=True, slots=True, kw_only=True)
class _Terms:
    """How the channel wants the turn answered."""

    budget_s: float
    remember_s: int
    shown: Shown
    end: SessionEnd | None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Ask:
    """One request's turn, as `TurnRunner.run` was given it."""

    prepare: Prepare
    profile: ChannelProfile
    user: str
    message_id: str
    terms: _Terms

    def notice(self, session: Session | None, message: str, event: str) -> Screen:
        return self.terms.shown(notice_step(self.prepare(None)[0], session, message, event))


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnRunner:
    """One user's turn: the state it opens and closes, the ports its step reads, who watches
    it, the gate that sheds it, and the follow-up it may promise (`gateway.turns.ports`)."""

    state: TurnState
    dialog: DialogPorts
    observers: Observers = field(default_factory=Observers)
    gate: TurnGate | None = None
    follow_ups: FollowUps | None = None

    async def run(
        self,
        prepare: Prepare,
        *,
        profile: ChannelProfile,
        user: str,
        budget_s: float,
        message_id: str,
        remember_s: int,
        shown: Shown = Step.screen,
        end: SessionEnd | None = None,
    ) -> Screen:
        """One turn for `user` on `profile.kind` within `budget_s` seconds: what it shows.

        `message_id` is the provider's id of the input: a repeat of it, even one that arrives
        while the first is still being answered, gets the first screen and changes nothing.
        `shown` picks the screen from the engine's step; `end` is the provider session's end
        (USSD through Kannel): an answer after it gets a clean end instead of a turn, and a
        screen that ends the session keeps it.
        """
        terms = _Terms(budget_s=budget_s, remember_s=remember_s, shown=shown, end=end)
        ask = _Ask(prepare=prepare, profile=profile, user=user, message_id=message_id, terms=terms)
        # Every line of this request carries the channel and a keyed hash of the caller.
        structlog.contextvars.bind_contextvars(
            channel=profile.kind.value,
            phone_h=self.state.sessions.keys.digest(user)[:PHONE_H_CHARS],
        )
        screen, kept = await self._gated(ask)
        if end is not None and screen.end and not kept:
            # A screen that did not go through `close_turn` (a replay, a refusal, busy).
            try:
                await self.state.sessions.keep_end(end, script_of(screen.text))
            except StoreUnavailable as exc:
                log.warning("end_marks_unavailable", error=type(exc).__name__)
        return screen

    async def _gated(self, ask: _Ask) -> tuple[Screen, bool]:
        """The screen, and whether the provider session's end was kept (or must not be)."""
        kind = ask.profile.kind
        started = time.perf_counter()
        if self.gate is not None and not self.gate.try_enter():
            log.warning("turn_shed", channel=kind.value, in_flight=self.gate.in_flight)
            self._count_shed(kind)
            return ask.notice(None, texts.BUSY, "turn_shed"), False
        try:
            return await self._run(ask)
        except StoreUnavailable as exc:
            if exc.part != "redis":
                raise  # the database: the channel answers for it (a 503 its provider retries)
            part_down("redis", "turn", exc, channel=kind.value)  # the sessions' store
            self._count_shed(kind)
            return ask.notice(None, texts.BUSY, "store_unavailable"), False
        finally:
            if self.gate is not None:
                self.gate.leave()
            if (metrics := self.observers.metrics) is not None:
                metrics.turns.labels(channel=kind.value).inc()
                metrics.turn_seconds.labels(channel=kind.value).observe(
                    time.perf_counter() - started
                )

    async def _run(self, ask: _Ask) -> tuple[Screen, bool]:
        kind = ask.profile.kind
        deadline = Deadline.after(ask.terms.budget_s)
        limiter = self.state.rate_limit
        cache = self.state.guardian_cache
        languages = self.state.languages
        entry_key = cache.key("guardian", [ask.user]) if cache is not None else None
        opened: Opened | None = None
        try:
            # asyncio's own timeout: anyio's `fail_after` cost 4.9 % of a USSD turn's CPU
            # (a cancel scope and a look-up of the async library, every turn).
            async with asyncio.timeout(ask.terms.budget_s):
                # One round trip: an ended session, a remembered answer, the rate limit, the
                # lock, the session.
                opened = await self.state.sessions.open_turn(
                    kind,
                    ask.user,
                    ask.message_id,
                    wait_s=ask.terms.budget_s / 2,
                    rate_key=limiter.key(ask.user) if limiter is not None else None,
                    rate_limit=limiter.limit if limiter is not None else 0,
                    rate_window_ms=limiter.window_ms if limiter is not None else 60_000,
                    entry_key=entry_key,
                    lang_key=languages.key(ask.user) if languages is not None else None,
                    end=ask.terms.end,
                )
                if opened.outcome is Outcome.ENDED:
                    log.info("ussd_answer_after_end")  # only USSD providers keep ends
                    said_in = Session(lang=Lang(end_lang(opened.end)))
                    return ask.notice(said_in, texts.SESSION_ENDED, "answer_after_end"), True
                if opened.outcome is Outcome.REPLAY:
                    replayed = decode_screen(opened.answer or b"")
                    if replayed is None:  # a voice call's TwiML, from the release before
                        log.warning("remembered_answer_unreadable", channel=kind.value)
                        call_lang = ask.prepare(None)[1]  # a call: in the call's language
                        return ask.notice(call_lang, texts.BUSY, "answer_unreadable"), False
                    return replayed, False
                if opened.outcome is Outcome.LIMITED:
                    log.info("turn_rate_limited", channel=kind.value)
                    if (metrics := self.observers.metrics) is not None:
                        metrics.rate_limited.labels(channel=kind.value).inc()
                    return ask.notice(None, texts.TOO_MANY, "rate_limited"), False
                if cache is not None and entry_key is not None:
                    cache.prime(entry_key, opened.entry)
                return await self._locked_turn(ask, deadline, opened), True
        except (TimeoutError, LockTimeout):
            log.warning("turn_over_budget", channel=kind.value, budget_s=ask.terms.budget_s)
            self._count_shed(kind)
            loaded = opened.session if opened is not None else None
            return ask.terms.shown(busy_step(ask.prepare(None)[0], loaded)), False

    async def _locked_turn(self, ask: _Ask, deadline: Deadline, opened: Opened) -> Screen:
        """Step, then save, remember the screen and unlock in one round trip; the screen.

        Whatever stops the turn before that (a timeout, a Redis error) frees the lock.
        """
        profile, user, terms = ask.profile, ask.user, ask.terms
        closed = False
        try:
            stored = opened.session
            inbound, session = ask.prepare(stored)
            turn = dialog_turn(
                self.dialog, profile, Deadline(deadline.expires_at - SAVE_MARGIN_S, deadline.clock)
            )
            memo = self.state.languages
            turn = replace(turn, preferences=remembered(turn.preferences, memo, user, opened.lang))
            begin_turn()
            result = await step(session, inbound, turn)
            kinds = {event.kind for event in result.events}
            if kinds & BACKEND_DOWN:
                part_down("backend", "turn", channel=profile.kind.value, events=sorted(kinds))
            if kinds & FOLLOW_EVENTS and await self._follow_later(
                profile, inbound, session, ask.message_id
            ):
                result = notice_step(inbound, result.session, texts.ANSWER_BY_SMS, "answer_by_sms")
            elif kinds & SHED_EVENTS:
                self._count_shed(profile.kind)
            rev = stored.rev if stored is not None else 0
            to_save = result.session.with_(rev=rev)
            saved = to_save.with_(rev=rev + 1)
            screen = terms.shown(Step(session=saved, replies=result.replies, events=result.events))
            try:
                await self.state.sessions.close_turn(
                    profile.kind,
                    user,
                    ask.message_id,
                    opened,
                    to_save,
                    encode_screen(screen),
                    remember_s=terms.remember_s,
                    ttl_s=SESSION_TTL_S[profile.kind],
                    end=(terms.end, script_of(screen.text)) if terms.end and screen.end else None,
                )
            except SessionConflict:
                # Cannot happen while we hold the user's lock, unless the lease ran out: the
                # other writer's state wins and this answer still goes out (it is remembered).
                log.warning("session_conflict", channel=profile.kind.value)
                saved = to_save
            closed = True
        finally:
            if not closed:
                await self.state.sessions.release_turn(profile.kind, user, opened)
        for event in result.events:
            log.info("dialog_event", kind=event.kind, state=saved.state)
        if (unmatched := self.observers.unmatched) is not None:
            await unmatched.record(result.events, channel=profile.kind.value, inbound=inbound)
        return screen

    def _count_shed(self, kind: ChannelKind) -> None:
        if (metrics := self.observers.metrics) is not None:
            metrics.shed_turns.labels(channel=kind.value).inc()

    async def _follow_later(
        self, profile: ChannelProfile, inbound: Inbound, session: Session | None, message_id: str
    ) -> bool:
        """Queue the answer as a follow-up SMS; False when it cannot be promised."""
        if self.follow_ups is None:
            return False
        return await self.follow_ups.promise(profile, inbound, session, message_id)
