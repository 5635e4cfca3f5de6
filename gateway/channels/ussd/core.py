"""The USSD core every provider shares: one screen per request, keyed by (phone, provider
session id), answered within the USSD budget (`GATEWAY_USSD_BUDGET_S`, 2 s).

A provider module verifies and parses its request into a `UssdHit`: who (`phone`), which of
its sessions (`session_id`), its id for this request (replays get the same screen), what it
says the request is (`op`: a dial, an answer, the network ending the session; None when the
provider does not say, as Africa's Talking) and how to read this screen's input from the
stored session (`read`: AT derives it from its `*`-joined path, SMPP sends it alone). The
core runs the turn and hands back the turn's `Screen` (text, options, end of session: a typed
value, never a string to parse again) for the provider to put on its wire:

    provider request ──parse──> UssdHit ──answer()──> Screen(text, options, end) ──provider──> wire

Sessions are one per phone (`gateway.state.store`); the provider session they belong to is kept as
a hash in the session's channel bookkeeping, so a request from another provider session starts
a new one. Providers that say what a request is also get the end of a session remembered
for its provider session (`gateway.state.ussd`): an answer in a session that ended (ours or
the network's) gets a clean end of session instead of a turn. The turn reads, forgets and
keeps that end in its own two Redis round trips (`gateway.state.ends`), as it does for any
other turn.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any

import structlog
from fastapi import Request
from fastapi.responses import PlainTextResponse, Response

from gateway.channels.common import SignatureError
from gateway.deps import runtime
from gateway.dialogs.conversation import Step
from gateway.dialogs.model import ChannelKind, ChannelProfile, Inbound, Screen, Session
from gateway.dialogs.pages import gsm_fold
from gateway.dialogs.prompts import INPUT_HANDLERS
from gateway.i18n import translator
from gateway.state.ends import SessionEnd
from gateway.state.errors import StoreError
from gateway.state.store import SESSION_TTL_S
from gateway.state.ussd import EndedSessions
from gateway.turns.turn import Prepare

if TYPE_CHECKING:  # a type only: the runtime imports the modules that route to this one
    from gateway.runtime import Runtime

log = structlog.get_logger("gateway.channels.ussd")

# A screen: 160 bytes, i.e. 160 GSM-7 characters kept (182 fit) or 80 in UCS-2 (CHANNELS.md §5).
# A provider whose path carries less passes its own profile to `answer`.
PROFILE = ChannelProfile(
    kind=ChannelKind.USSD, max_chars_gsm7=160, max_chars_ucs2=80, alerts_menu=True
)
MAX_INPUT_CHARS = 200  # a keypad input is short; anything longer is cut before matching
BACK_TO_MENU = "menu"  # the option id of "0. Menu" (`Conversation.back_option`)


class Op(StrEnum):
    """What the provider says a request is."""

    NEW = "new"  # a dial: opens a session
    CONTINUE = "continue"  # the user's answer to our last screen
    ABORT = "abort"  # the network ended the session (no screen goes back)


@dataclass(frozen=True, slots=True, kw_only=True)
class Read:
    """This screen's input, whether it opens a session, and the provider's bookkeeping to keep
    in the session for the next request."""

    text: str
    new: bool
    channel: Mapping[str, str] = field(default_factory=dict)


Reader = Callable[[Session | None], Read]
"""Reads the input from the stored session of *this* provider session (None: none stored)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UssdHit:
    """One USSD request, whatever the provider."""

    phone: str  # E.164
    session_id: str  # the provider's session id
    message_id: str  # the provider's id of this request: a repeat gets the first screen
    read: Reader
    op: Op | None = None  # None: the provider does not say (derived from the session)
    network: str | None = None  # the operator, to pick a screen language
    inbound_id: str | None = None  # the engine's `Inbound.message_id` (default: message_id)


def shown(screen: Screen) -> str:
    """The text with its options as numbered lines, as a USSD screen shows them."""
    return "\n".join([screen.text, *(f"{o.key}. {o.label}" for o in screen.options)])


def con_end(screen: Screen) -> str:
    """`CON …` to wait for input, `END …` to close: the usual aggregator wire (AT)."""
    return ("END " if screen.end else "CON ") + shown(screen)


def refused(request: Request, verify: Callable[[Request, Any], None]) -> Response | None:
    """A 403 with a short reason when `verify` refuses the caller; None when it passes."""
    try:
        verify(request, runtime(request).settings)
    except SignatureError as exc:
        log.info("ussd_refused", reason=exc.reason)
        return PlainTextResponse(exc.reason, status_code=exc.status)
    return None


def digest(session_id: str) -> str:
    """The provider session as the session keeps it (the id itself may carry user input)."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:16]


def screen_of(step: Step, *, end_on_result: bool = False) -> Screen:
    """The step's screen on USSD: the last reply, its options unless it ends.

    With `end_on_result`, a result whose only option is going back to the menu (not a prompt
    waiting for a code or a date) closes the session instead of holding the operator's
    dialog open until the handset times out.
    """
    screen = step.screen()
    ids = [option.id for option in screen.options]
    result = ids == [BACK_TO_MENU] and step.session.state not in INPUT_HANDLERS
    if screen.end or (end_on_result and result):
        return replace(screen, end=True, options=())
    return screen


def prepare_turn(hit: UssdHit, now: datetime) -> Prepare:
    sid = digest(hit.session_id)

    def prepare(stored: Session | None) -> tuple[Inbound, Session | None]:
        own = stored if stored is not None and stored.channel.get("sid") == sid else None
        got = hit.read(own)
        inbound = Inbound(
            channel=ChannelKind.USSD,
            sender=hit.phone,
            text=got.text[:MAX_INPUT_CHARS],
            message_id=hit.inbound_id or hit.message_id,
            session_id=hit.session_id,
            new_session=got.new,
            received_at=now,
            network=hit.network,
        )
        base = own if own is not None and not got.new else Session()
        return inbound, base.with_(channel={"sid": sid, **got.channel})

    return prepare


def notice(lang: str, msgid: str) -> str:
    """A catalog sentence for a screen, in `lang` (French folded to GSM-7 letters)."""
    text = translator(lang).gettext(msgid)
    return gsm_fold(text) if lang == "fr" else text


def session_end(state: Runtime, hit: UssdHit) -> SessionEnd | None:
    """What `hit`'s turn does with its provider session's end: a dial forgets it, an answer
    is checked against it; None when the provider does not say what a request is."""
    if hit.op is None:
        return None
    ended = EndedSessions(state.sessions)
    return ended.end(hit.phone, hit.session_id, hit.message_id, opens=hit.op is Op.NEW)


async def abort(state: Runtime, hit: UssdHit) -> None:
    """The network ended `hit`'s session: remember it; no screen goes back."""
    try:
        await EndedSessions(state.sessions).mark_aborted(hit.phone, hit.session_id, hit.message_id)
    except StoreError as exc:
        log.warning("ussd_end_marks_unavailable", error=type(exc.__cause__ or exc).__name__)
    log.info("ussd_aborted_by_network")


async def answer(
    state: Runtime, hit: UssdHit, *, profile: ChannelProfile = PROFILE, end_on_result: bool = False
) -> Screen:
    """The screen for `hit`. `state` is the app's: its settings, turn runner, session store.
    An answer in a session that ended gets "your session has ended" from the turn."""
    screen: Screen = await state.turns.run(
        prepare_turn(hit, datetime.now(UTC)),
        profile=profile,
        user=hit.phone,
        budget_s=state.settings.ussd_budget_s,
        message_id=hit.message_id,
        remember_s=SESSION_TTL_S[ChannelKind.USSD],
        shown=partial(screen_of, end_on_result=end_on_result),
        end=session_end(state, hit),
    )
    return screen
