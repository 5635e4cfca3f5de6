"""The one-line answers a turn gives instead of the engine's: busy, too many, by SMS later."""

from __future__ import annotations

from gateway.dialogs import texts
from gateway.dialogs.conversation import Step
from gateway.dialogs.model import ChannelKind, Event, Inbound, Reply, Session
from gateway.dialogs.pages import gsm_fold
from gateway.i18n import translator
from gateway.text import script_of

__all__ = ["busy_step", "notice_step"]


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
