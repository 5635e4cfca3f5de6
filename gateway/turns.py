"""Runs one user turn within a budget, in two Redis round trips around the engine's step.

Channels call `TurnRunner.run` after verifying and parsing a request; they render the `Step`.
The first round trip (`SessionStore.open_turn`) replays a remembered answer, counts the rate
limit, takes the user's lock and loads the session with the caller's cached guardian lookup;
the second (`close_turn`) saves the session, remembers the answer and frees the lock. Only
the backend reads the engine asks for beyond that cost more.
The budget is the channel's (USSD: 2 s): every backend call gets what is left of it, and a
turn that runs out still answers:

- the backend is too slow, down, or behind an open breaker on a live channel (USSD, voice):
  "the answer will follow by SMS", and a follow-up waits in the outbox until a sender worker
  can compose it (`compose`: the same step, paged for SMS) — one per phone and question,
  given up after `max_age_s`. Not promised when the turn tried a call the backend counts (a
  verification) or its input may hold a code, a birth date or an application number: those
  never wait in a queue. A menu that follows by SMS hands the conversation over to SMS, so
  the parent can reply to it;
- elsewhere the breaker, shedding or an outage give the "busy" reply (or, from the engine, a
  stale answer with its date);
- too many turns from one phone in a minute: "too many messages, wait a minute";
- Redis itself fails: the "busy" reply, never an HTTP 500.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import anyio
import structlog
from redis.exceptions import RedisError

from backend_client import Deadline
from gateway.dialogs import texts
from gateway.dialogs.conversation import Step, Turn, child_shown
from gateway.dialogs.engine import step
from gateway.dialogs.model import ChannelKind, ChannelProfile, Event, Inbound, Reply, Session
from gateway.dialogs.pages import gsm_fold
from gateway.dialogs.ports import Backend, Bindings, Lockout, Preferences
from gateway.failures import part_down
from gateway.i18n import translator
from gateway.outbox.model import MessageKind, OutChannel, OutMessage, Priority
from gateway.outbox.queue import Outbox
from gateway.resilience.backend import begin_turn, unsafe_to_repeat
from gateway.resilience.cache import Cache
from gateway.resilience.limits import RateLimiter, TurnGate
from gateway.resilience.metrics import Metrics
from gateway.state.langs import LanguageMemo, remembered
from gateway.state.store import (
    SESSION_TTL_S,
    LockTimeout,
    Opened,
    Outcome,
    SessionConflict,
    SessionStore,
)
from gateway.state.unmatched import UnmatchedLog
from gateway.text import ascii_digits, script_of

log = structlog.get_logger("gateway.turns")

Prepare = Callable[[Session | None], tuple[Inbound, Session | None]]
"""Builds the turn's input from the stored session (USSD derives the latest input from it)."""

PHONE_H_CHARS = 12  # as `gateway.logs.phone_hash`

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


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowUpConfig:
    """Where and how a slow live turn's answer is sent later."""

    outbox: Outbox
    backend: Backend  # with longer per-attempt timeouts than a live turn's
    profile: ChannelProfile  # the SMS profile the answer is paged for
    budget_s: float = 30.0  # for composing it (the backend's calls)
    max_age_s: int = 7200  # after this it is given up, nothing sent


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnRunner:
    sessions: SessionStore
    backend: Backend
    bindings: Bindings
    lockout: Lockout
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    rate_limit: RateLimiter | None = None
    metrics: Metrics | None = None
    follow_up: FollowUpConfig | None = None
    gate: TurnGate | None = None
    unmatched: UnmatchedLog | None = None
    # The backend's cache: its guardian entry for the caller is read in the turn's first
    # round trip, so a warm turn makes no read of its own.
    guardian_cache: Cache | None = None
    # Alerts (issue 15): STOP/START and the language chosen with AR/FR, kept per phone.
    preferences: Preferences | None = None
    languages: LanguageMemo | None = None  # AR/FR read in the first round trip (issue #24)

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
        started = time.perf_counter()
        # Every line of this request carries the channel and a keyed hash of the caller.
        structlog.contextvars.bind_contextvars(
            channel=kind.value, phone_h=self.sessions.keys.digest(user)[:PHONE_H_CHARS]
        )
        if self.gate is not None and not self.gate.try_enter():
            log.warning("turn_shed", channel=kind.value, in_flight=self.gate.in_flight)
            self._count_shed(kind)
            return render(notice_step(prepare(None)[0], None, texts.BUSY, "turn_shed"))
        try:
            return await self._run(prepare, profile, user, budget_s, message_id, render, remember_s)
        except RedisError as exc:
            part_down("redis", "turn", exc, channel=kind.value)  # the sessions' store
            self._count_shed(kind)
            return render(notice_step(prepare(None)[0], None, texts.BUSY, "store_unavailable"))
        finally:
            if self.gate is not None:
                self.gate.leave()
            if self.metrics is not None:
                self.metrics.turns.labels(channel=kind.value).inc()
                self.metrics.turn_seconds.labels(channel=kind.value).observe(
                    time.perf_counter() - started
                )

    async def _run(
        self,
        prepare: Prepare,
        profile: ChannelProfile,
        user: str,
        budget_s: float,
        message_id: str,
        render: Callable[[Step], str],
        remember_s: int,
    ) -> str:
        kind = profile.kind
        deadline = Deadline.after(budget_s)
        limiter = self.rate_limit
        cache = self.guardian_cache
        entry_key = cache.key("guardian", [user]) if cache is not None else None
        opened: Opened | None = None
        try:
            with anyio.fail_after(budget_s):
                # One round trip: a remembered answer, the rate limit, the lock, the session.
                opened = await self.sessions.open_turn(
                    kind,
                    user,
                    message_id,
                    wait_s=budget_s / 2,
                    rate_key=limiter.key(user) if limiter is not None else None,
                    rate_limit=limiter.limit if limiter is not None else 0,
                    rate_window_ms=limiter.window_ms if limiter is not None else 60_000,
                    entry_key=entry_key,
                    lang_key=self.languages.key(user) if self.languages is not None else None,
                )
                if opened.outcome is Outcome.REPLAY:
                    return (opened.answer or b"").decode()
                if opened.outcome is Outcome.LIMITED:
                    log.info("turn_rate_limited", channel=kind.value)
                    if self.metrics is not None:
                        self.metrics.rate_limited.labels(channel=kind.value).inc()
                    return render(
                        notice_step(prepare(None)[0], None, texts.TOO_MANY, "rate_limited")
                    )
                if cache is not None and entry_key is not None:
                    cache.prime(entry_key, opened.entry)
                return await self._locked_turn(
                    prepare, profile, user, deadline, opened, message_id, render, remember_s
                )
        except (TimeoutError, LockTimeout):
            log.warning("turn_over_budget", channel=kind.value, budget_s=budget_s)
            self._count_shed(kind)
            loaded = opened.session if opened is not None else None
            return render(busy_step(prepare(None)[0], loaded))

    async def _locked_turn(
        self,
        prepare: Prepare,
        profile: ChannelProfile,
        user: str,
        deadline: Deadline,
        opened: Opened,
        message_id: str,
        render: Callable[[Step], str],
        remember_s: int,
    ) -> str:
        """Step, then save, remember the answer and unlock in one round trip; the answer.

        Whatever stops the turn before that (a timeout, a Redis error) frees the lock.
        """
        closed = False
        try:
            stored = opened.session
            inbound, session = prepare(stored)
            turn = self._turn(
                profile, Deadline(deadline.expires_at - SAVE_MARGIN_S, deadline.clock)
            )
            turn = replace(turn, preferences=remembered(turn, self.languages, user, opened.lang))
            begin_turn()
            result = await step(session, inbound, turn)
            kinds = {event.kind for event in result.events}
            if kinds & BACKEND_DOWN:
                part_down("backend", "turn", channel=profile.kind.value, events=sorted(kinds))
            if kinds & FOLLOW_EVENTS and await self._follow_later(
                profile, inbound, session, message_id
            ):
                result = notice_step(inbound, result.session, texts.ANSWER_BY_SMS, "answer_by_sms")
            elif kinds & SHED_EVENTS:
                self._count_shed(profile.kind)
            rev = stored.rev if stored is not None else 0
            to_save = result.session.with_(rev=rev)
            saved = to_save.with_(rev=rev + 1)
            body = render(Step(session=saved, replies=result.replies, events=result.events))
            try:
                await self.sessions.close_turn(
                    profile.kind,
                    user,
                    message_id,
                    opened,
                    to_save,
                    body.encode(),
                    remember_s=remember_s,
                    ttl_s=SESSION_TTL_S[profile.kind],
                )
            except SessionConflict:
                # Cannot happen while we hold the user's lock, unless the lease ran out: the
                # other writer's state wins and this answer still goes out (it is remembered).
                log.warning("session_conflict", channel=profile.kind.value)
                saved = to_save
            closed = True
        finally:
            if not closed:
                await self.sessions.release_turn(profile.kind, user, opened)
        for event in result.events:
            log.info("dialog_event", kind=event.kind, state=saved.state)
        if self.unmatched is not None:
            await self.unmatched.record(result.events, channel=profile.kind.value, inbound=inbound)
        return body

    def _turn(
        self, profile: ChannelProfile, deadline: Deadline, backend: Backend | None = None
    ) -> Turn:
        return Turn(
            backend=backend or self.backend,
            bindings=self.bindings,
            lockout=self.lockout,
            profile=profile,
            now=self.clock(),
            deadline=deadline,
            preferences=self.preferences,
        )

    # --- answers that follow by SMS -----------------------------------------------------

    async def _follow_later(
        self, profile: ChannelProfile, inbound: Inbound, session: Session | None, message_id: str
    ) -> bool:
        """Queue the answer as a follow-up SMS; False when it cannot be promised."""
        config = self.follow_up
        if (
            config is None
            or profile.kind not in LIVE_CHANNELS
            or unsafe_to_repeat()
            or holds_identifiers(inbound.text)
            or (session is not None and not IDENTIFIER_DATA.isdisjoint(session.data))
        ):
            return False
        msg = OutMessage(
            id=uuid.uuid4().hex,
            # Provider ids can hold what the user typed (the USSD path): only a keyed hash.
            key=followup_key(self.sessions, profile.kind, message_id),
            channel=OutChannel.SMS,
            to=inbound.sender,
            text="",
            kind=MessageKind.FOLLOWUP,
            priority=Priority.FOLLOWUP,
            created_at=self.clock(),
        )
        queued = await config.outbox.enqueue(
            msg,
            job=followup_job(inbound, session),
            guard=question_key(inbound, session),
            guard_ttl_s=config.max_age_s,
        )
        # Not queued: the same question already waits for its answer, which this one shares.
        if self.metrics is not None:
            self.metrics.followups.labels(outcome="queued" if queued else "joined").inc()
        return True

    async def compose(self, msg: OutMessage, job: Mapping[str, Any]) -> OutMessage | None:
        """A follow-up with its text: the same step again, paged for SMS; None while the
        backend still cannot answer. A menu hands the conversation over to SMS: the parent
        replies to it (unless an SMS conversation of theirs is under way)."""
        config = self.follow_up
        if config is None:
            return None
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
        turn = self._turn(config.profile, Deadline.after(config.budget_s), config.backend)
        turn = replace(turn, preferences=remembered(turn, self.languages, msg.to, None))
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

    def _count_shed(self, kind: ChannelKind) -> None:
        if self.metrics is not None:
            self.metrics.shed_turns.labels(channel=kind.value).inc()


_LONG_NUMBER = re.compile(r"\d{6,}")
# What a prompt keeps between a code (or an application number) and the birth date asked
# next: a session holding one never waits in the outbox either.
IDENTIFIER_DATA = frozenset({"code", "number"})


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


def notice_step(inbound: Inbound, session: Session | None, message: str, event: str) -> Step:
    """A closing one-line answer (`message` from the catalogs) in the user's language."""
    lang = (session.lang if session is not None else None) or script_of(inbound.text) or "ar"
    text = translator(lang).gettext(message)
    # Only SMS and USSD fold (to GSM-7 letters); chat apps and a voice keep every accent.
    if lang == "fr" and inbound.channel in (ChannelKind.SMS, ChannelKind.USSD):
        text = gsm_fold(text)
    return Step(
        session=session or Session(),
        replies=(Reply(text=text, end_session=True),),
        events=(Event(kind=event),),
    )


def busy_step(inbound: Inbound, session: Session | None) -> Step:
    """The answer when the turn ran out of time, in the session's language or the input's."""
    return notice_step(inbound, session, texts.BUSY, "turn_over_budget")
