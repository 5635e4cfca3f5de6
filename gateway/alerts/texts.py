"""What an alert says, in Arabic or French, sized for SMS.

An absence alert fits one GSM-7 segment in French and two UCS-2 segments in Arabic, with the
child's first name, the day, the hours and the keyword to reply (tests/alerts/test_texts.py
checks the longest realistic names). Alerts held by quiet hours that concern one child are
merged into one message. msgids are whole sentences (gateway/dialogs/texts.py's rules);
translations live in gateway/locales/{ar,fr}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from gateway.dialogs.answer_texts import REASON_TEXTS
from gateway.dialogs.pages import gsm_fold
from gateway.i18n import N_, translator

__all__ = ["STOP_NOTICE", "compose", "digest"]

ABSENCE = N_("Massar: %(name)s was absent on %(day)s, %(start)s-%(end)s, unjustified. Reply ABS.")
ABSENCE_NO_TIME = N_(
    "Massar: %(name)s was absent on %(day)s (%(hours)s h), unjustified. Reply ABS."
)
ABSENCES_MERGED = N_("Massar: %(name)s was absent, unjustified: %(list)s. Reply ABS.")
MARKS = N_("Massar: semester %(semester)s marks published for %(name)s. Reply NOTES.")
APPLICATION_APPROVED = N_(
    "Massar: application %(number)s (%(name)s) approved by the director. "
    "Complete the registration at the school."
)
APPLICATION_REJECTED = N_(
    "Massar: application %(number)s (%(name)s) rejected: %(reason)s. Help: 0800 00 11 22."
)
APPLICATION_WAITLISTED = N_(
    "Massar: application %(number)s (%(name)s) is on the waiting list. The school will call you."
)
APPLICATION_ENROLLED = N_("Massar: %(name)s is enrolled. Reply INSCRIPTION for details.")
STOP_NOTICE = N_("Send STOP to stop these alerts.")

DECISIONS = {
    "approved": APPLICATION_APPROVED,
    "rejected": APPLICATION_REJECTED,
    "waitlisted": APPLICATION_WAITLISTED,
    "enrolled": APPLICATION_ENROLLED,
}


def compose(kind: str, items: Sequence[Mapping[str, Any]], lang: str, *, first: bool) -> str:
    """The text of one alert about one child (`items`: the payloads it merges, in feed
    order); `first` adds how to stop alerts (the first alert a phone ever gets)."""
    t = translator(lang)
    last = items[-1]
    name = str(last.get(f"name_{lang}") or last.get("name_fr") or last.get("name_ar") or "")
    if kind == "absence":
        text = _absences(items, lang, name)
    elif kind == "marks":
        text = t.gettext(MARKS, semester=last.get("semester", ""), name=name)
    else:
        decision = str(last.get("to", ""))
        reason = (
            t.gettext(REASON_TEXTS[str(last["reason"])])
            if last.get("reason") in REASON_TEXTS
            else "-"
        )
        text = t.gettext(
            DECISIONS[decision], number=last.get("number", ""), name=name, reason=reason
        )
    return digest([text], lang, first=first)


def digest(texts: Sequence[str], lang: str, *, first: bool) -> str:
    """Alerts joined into one message, one per line (a guardian's daily digest), with how
    to stop them when `first`."""
    text = "\n".join(texts)
    if first:
        text = f"{text} {translator(lang).gettext(STOP_NOTICE)}"
    return gsm_fold(text) if lang == "fr" else text


def _absences(items: Sequence[Mapping[str, Any]], lang: str, name: str) -> str:
    t = translator(lang)
    if len(items) == 1:
        item = items[0]
        day = t.day(date.fromisoformat(str(item["date"])))
        if item.get("start_time") and item.get("end_time"):
            return t.gettext(
                ABSENCE, name=name, day=day, start=item["start_time"], end=item["end_time"]
            )
        return t.gettext(ABSENCE_NO_TIME, name=name, day=day, hours=t.number(item["hours"]))
    parts = []
    for item in items:
        day = t.day(date.fromisoformat(str(item["date"])))
        when = f"{item['start_time']}-{item['end_time']}" if item.get("start_time") else ""
        parts.append(f"{day} {when}".strip())
    return t.gettext(ABSENCES_MERGED, name=name, list=", ".join(parts))


def is_decision(status: str) -> bool:
    """Whether an application moving to `status` is news for the parent."""
    return status in DECISIONS
