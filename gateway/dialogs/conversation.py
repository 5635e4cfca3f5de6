"""One turn's working state: the `Conversation` the screens and handlers share, and the
values that come in (`Turn`) and go out (`Step`) of the engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from backend_client import Deadline
from backend_client.errors import NotFound, NotLinked
from backend_client.models import GuardianLookup, Meta, StudentSummary
from gateway.dialogs import texts
from gateway.dialogs.inputs import code_fits_mask
from gateway.dialogs.model import (
    Awaits,
    ChannelProfile,
    Event,
    Inbound,
    Lang,
    Option,
    Reply,
    Screen,
    Session,
)
from gateway.dialogs.pages import gsm_fold, paginate, render_options
from gateway.dialogs.ports import Backend, Bindings, Lockout, Preferences
from gateway.i18n import Translator, translator
from gateway.spoken import spoken_translator

BINDING_VALIDITY = timedelta(days=180)
LOCAL_TZ = ZoneInfo("Africa/Casablanca")
ABSENCES_READ = 200  # one backend page; the totals cover the whole year whatever the page


class State(StrEnum):
    START = "start"
    MAIN = "main"
    UNLINKED = "unlinked"
    CHILD = "child"
    BIND_CODE = "bind_code"
    BIND_DOB = "bind_dob"
    ABSENCES = "absences"
    SEMESTER = "semester"
    GRADES = "grades"
    ENROL = "enrol"
    APP_NUMBER = "app_number"
    APP_DOB = "app_dob"
    RESULT = "result"  # an answer with only "back to the menu" left
    REREG = "rereg"
    HELP = "help"
    CLARIFY = "clarify"  # a message asked for two things: which one?
    ASK_AGENT = "ask_agent"  # the next message goes to a person (the helpdesk queue)
    ALERTS = "alerts"  # which alerts, and how often


# Screens that show one child's data: the child's opaque id is in the session's `child`.
CHILD_SCREENS = frozenset({State.ABSENCES, State.SEMESTER, State.GRADES, State.REREG})


def child_shown(session: Session) -> str | None:
    """The child (opaque id) whose data the session's screen shows, else None. A message
    holding that screen is tagged with it, so the console shows its text only after an
    agent's check of that child (issue #21)."""
    child = session.data.get("child")
    if session.state in CHILD_SCREENS and isinstance(child, str):
        return child
    return None


class Intent(StrEnum):
    ABSENCES = "abs"
    GRADES = "notes"
    REREGISTRATION = "rereg"
    ALERTS = "alerts"  # the alerts menu, once the caller proved a child (voice)


@dataclass(frozen=True, slots=True, kw_only=True)
class Turn:
    """Everything one step may use besides the session and the input."""

    backend: Backend
    bindings: Bindings
    lockout: Lockout
    profile: ChannelProfile
    now: datetime
    deadline: Deadline
    preferences: Preferences | None = None  # alerts STOP/START, the language chosen


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    session: Session
    replies: tuple[Reply, ...]
    events: tuple[Event, ...] = ()

    def screen(self) -> Screen:
        """What the step shows: its last reply, in the session's language, about its child."""
        reply = self.replies[-1]
        return Screen(
            text=reply.text,
            options=reply.options,
            end=reply.end_session,
            awaits=reply.awaits,
            lang=self.session.lang,
            child=child_shown(self.session),
        )


@dataclass(slots=True)
class Conversation:
    """Mutable state of one step; `session()` freezes it back."""

    inbound: Inbound
    turn: Turn
    state: State
    lang: Lang
    lang_chosen: bool
    data: dict[str, Any]
    base: Session
    t: Translator = field(init=False)
    events: list[Event] = field(default_factory=list)
    _lookup: GuardianLookup | None = None
    _lookup_done: bool = False
    _meta: Meta | None = None
    _bound: dict[str, datetime] | None = None

    def __post_init__(self) -> None:
        self.t = self._translator(self.lang)

    def _translator(self, lang: Lang) -> Translator:
        return spoken_translator(lang) if self.turn.profile.spoken else translator(lang)

    # --- session -----------------------------------------------------------------------

    def session(self) -> Session:
        return self.base.with_(
            state=self.state, lang=self.lang, lang_chosen=self.lang_chosen, data=self.data
        )

    def set_lang(self, lang: Lang, *, chosen: bool) -> None:
        self.lang, self.lang_chosen = lang, chosen or self.lang_chosen
        self.t = self._translator(lang)

    # --- identity ------------------------------------------------------------------------

    async def lookup(self) -> GuardianLookup | None:
        if not self.inbound.sender:  # a withheld caller ID: a guardian nobody knows
            self._lookup_done = True
        if not self._lookup_done:
            try:
                self._lookup = await self.turn.backend.lookup_guardian(
                    self.inbound.sender, deadline=self.turn.deadline
                )
            except NotFound:
                self._lookup = None
            self._lookup_done = True
        return self._lookup

    def known_names(self) -> list[str]:
        """First names the backend gave for this phone, both scripts (to mask them); no
        lookup of its own: empty when none was made this turn."""
        found = self._lookup
        if found is None:
            return []
        names = [found.guardian.first_name_fr, found.guardian.first_name_ar]
        for s in found.students:
            names += [s.first_name_fr, s.first_name_ar]
        return names

    async def meta(self) -> Meta:
        """The backend's school year, semester and date (asked once per turn)."""
        if self._meta is None:
            self._meta = await self.turn.backend.meta(deadline=self.turn.deadline)
        return self._meta

    async def children(self) -> list[StudentSummary]:
        """Linked by the backend and bound by this phone within the last 180 days."""
        found = await self.lookup()
        if found is None:
            return []
        bound = await self.bound()
        return [s for s in found.students if s.id in bound]

    async def unbound(self) -> list[StudentSummary]:
        found = await self.lookup()
        if found is None:
            return []
        bound = await self.bound()
        return [s for s in found.students if s.id not in bound]

    async def bound(self) -> dict[str, datetime]:
        if self._bound is None and not self.turn.profile.caller_id_trusted:
            # The sender id proves nothing (a caller ID): only what this session checked.
            self._bound = {str(sid): self.turn.now for sid in self.data.get("verified", [])}
        if self._bound is None:
            since = await self.turn.bindings.bound_since(self.inbound.sender)
            cutoff = self.turn.now - BINDING_VALIDITY
            self._bound = {sid: at for sid, at in since.items() if at >= cutoff}
        return self._bound

    async def child(self, sid: str | None) -> StudentSummary | None:
        """The child `sid` only if it is linked *and* bound: the one authorisation check."""
        if sid is None:
            return None
        return next((s for s in await self.children() if s.id == sid), None)

    async def holds_code(self, code: str) -> tuple[bool, bool]:
        """(holder, maybe): whether Massar links this phone to the child of `code` (a child
        of its lookup whose masked code fits), and whether it could be (a mask this cannot
        read). Neither: the backend's check can only fail, so it is not asked."""
        found = await self.lookup()
        fits = [code_fits_mask(code, s.massar_code_masked) for s in found.students] if found else []
        return any(f is True for f in fits), any(f is None for f in fits)

    def call_id(self) -> str | None:
        """The voice call whose failures count, where the sender id is only a claim (a
        caller ID); None where the operator vouches for the number."""
        if self.turn.profile.caller_id_trusted:
            return None
        return self.inbound.session_id or self.inbound.message_id

    async def guardian_id(self) -> str:
        found = await self.lookup()
        if found is None:  # callers reach here only through `child()`, which needs a guardian
            raise NotLinked(status=403, code="not-linked")
        return found.guardian.id

    # --- replies -------------------------------------------------------------------------

    def name(self, student: StudentSummary) -> str:
        return student.first_name_ar if self.lang is Lang.AR else student.first_name_fr

    def child_label(self, student: StudentSummary) -> str:
        """How a child is named in a list: "Youssef (2AP)"; the first name alone in speech."""
        if self.turn.profile.spoken:
            return self.name(student)
        return f"{self.name(student)} ({student.level.code})"

    def label(self, ar: str, fr: str) -> str:
        return ar if self.lang is Lang.AR else fr

    def fold(self, text: str) -> str:
        folds = self.lang is Lang.FR and self.turn.profile.gsm_letters
        return gsm_fold(text) if folds else text

    def reply(
        self,
        text: str,
        options: Sequence[Option] = (),
        *,
        end: bool = False,
        awaits: Awaits | None = None,
    ) -> Reply:
        return Reply(
            text=self.fold(text),
            options=tuple(Option(key=o.key, id=o.id, label=self.fold(o.label)) for o in options),
            end_session=end,
            awaits=awaits,
        )

    def back_option(self) -> Option:
        return Option(key="0", id="menu", label=self.t.gettext(texts.MENU))

    def paged(self, lines: list[str], *, header: str, footer: str) -> Reply:
        """One page of `lines`; "9" shows the next page, "0" goes back to the menu."""
        page = int(self.data.get("page", 0))
        more = Option(key="9", id="more", label=self.t.gettext(texts.MORE))
        back = self.back_option()
        # Buttons are drawn outside the text: only numbered options take room on the page.
        numbered = self.turn.profile.numbered_options
        reserve = render_options([more, back]) if numbered else ""
        header = self.as_of(header)
        pages = paginate(
            [self.fold(x) for x in lines],
            profile=self.turn.profile,
            reserve=reserve,
            header=self.fold(header),
            footer=self.fold(footer),
            reserve_last=render_options([back]) if numbered else "",
        )
        page = min(page, len(pages) - 1)
        self.data["page"] = page
        options = [more, back] if page + 1 < len(pages) else [back]
        return self.reply(pages[page], options)

    def as_of(self, header: str) -> str:
        """`header` preceded by "As of 14/06 10:05:" when an answer came from a stale cache."""
        stale = self.turn.backend.stale_since()
        if stale is None:
            return header
        local = stale.astimezone(LOCAL_TZ)
        when = f"{self.t.day(local.date())} {self.t.time(local)}"
        note = self.t.gettext(texts.AS_OF, when=when)
        return f"{note}\n{header}" if header else note

    def go(self, state: State, **data: Any) -> None:
        """Enter `state` with fresh state data (the intent, the child and the children
        verified in this session survive)."""
        kept = ("intent", "child", "verified")
        keep: dict[str, Any] = {k: self.data[k] for k in kept if k in self.data}
        self.state, self.data = state, {**keep, **data}
