"""What an alert says, in Arabic or French, sized for SMS.

An absence alert says the day and hours, then the child's running total since September (the
event's own figures, `gateway.dialogs.absences.running_total`, the same as the answer to ABS)
and the keyword to reply: "Massar: Youssef absent(e) le lundi 28/12, 08:30-10:30, non
justifiée. 5 absences non justifiées (9 h) depuis septembre. Répondez ABS." It fits one GSM-7
segment in French (GSM-7 letters only, a plain hyphen) and two UCS-2 segments in Arabic, the
first alert's how-to-stop included (tests/alerts/test_texts.py checks every kind × language
with the longest realistic names and figures). Alerts held by quiet hours that concern one
child are merged into one message, which keeps the latest total. msgids are whole sentences
(gateway/dialogs/texts.py's rules); translations live in gateway/locales/{ar,fr}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from babel.dates import format_date

from gateway.dialogs.answer_texts import REASON_TEXTS
from gateway.dialogs.pages import gsm_fold
from gateway.i18n import N_, Np_, Translator, translator

__all__ = ["STOP_NOTICE", "compose", "digest"]

ABSENCE = N_("Massar: %(name)s was absent on %(day)s, %(start)s-%(end)s, unjustified.")
ABSENCE_NO_TIME = N_("Massar: %(name)s was absent on %(day)s (%(hours)s h), unjustified.")
ABSENCES_MERGED = N_("Massar: %(name)s was absent, unjustified: %(list)s.")
EXCUSE_REFUSED = N_(
    "Massar: the excuse for the absence of %(name)s on %(day)s was refused: it stays unjustified."
)
REFUSED_ITEM = N_("%(day)s (excuse refused)")
RUNNING_TOTAL = Np_(
    "%(n)s unjustified absence (%(hours)s h) since September.",
    "%(n)s unjustified absences (%(hours)s h) since September.",
)
REPLY_ABS = N_("Reply ABS.")
MARKS = N_("Massar: semester %(semester)s marks published for %(name)s. Reply NOTES.")
YEAR_RESULT = N_("Massar: %(year)s year result of %(name)s: %(decision)s. Reply NOTES.")
YEAR_DECISIONS = {
    "promoted": N_("moves up to the next level"),
    "repeat": N_("repeats the year"),
    "excluded": N_("excluded from the school"),
    "oriented": N_("oriented to a new stream"),
}
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
        text = _absences(items, t, name)
    elif kind == "marks":
        text = t.gettext(MARKS, semester=last.get("semester", ""), name=name)
    elif kind == "result":
        decision = t.gettext(YEAR_DECISIONS[str(last["decision"])])
        text = t.gettext(
            YEAR_RESULT, year=last.get("school_year", ""), name=name, decision=decision
        )
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


def _absences(items: Sequence[Mapping[str, Any]], t: Translator, name: str) -> str:
    """New unjustified absences, or an excuse refused, then the child's running total (the
    latest the items carry) and the keyword to reply."""
    if len(items) == 1:
        item = items[0]
        day = weekday(t, date.fromisoformat(str(item["date"])))
        if item.get("refused"):  # a past day: its date says it
            short = t.day(date.fromisoformat(str(item["date"])))
            text = t.gettext(EXCUSE_REFUSED, name=name, day=short)
        elif item.get("start_time") and item.get("end_time"):
            text = t.gettext(
                ABSENCE, name=name, day=day, start=item["start_time"], end=item["end_time"]
            )
        else:
            text = t.gettext(ABSENCE_NO_TIME, name=name, day=day, hours=t.number(item["hours"]))
    else:
        parts = []
        for item in items:
            day = t.day(date.fromisoformat(str(item["date"])))
            if item.get("refused"):
                parts.append(t.gettext(REFUSED_ITEM, day=day))
                continue
            when = f"{item['start_time']}-{item['end_time']}" if item.get("start_time") else ""
            parts.append(f"{day} {when}".strip())
        text = t.gettext(ABSENCES_MERGED, name=name, list=", ".join(parts))
    return " ".join(
        part for part in (text, running_total_text(t, items), t.gettext(REPLY_ABS)) if part
    )


def running_total_text(t: Translator, items: Sequence[Mapping[str, Any]]) -> str:
    """ "5 unjustified absences (9 h) since September.", from the latest item that carries a
    total (a backend that sends none: "", the alert says the day only)."""
    total = next((i["total"] for i in reversed(items) if i.get("total")), None)
    if total is None:
        return ""
    return t.ngettext(RUNNING_TOTAL, int(total["count"]), hours=t.number(total["hours"]))


def weekday(t: Translator, day: date) -> str:
    """'lundi 28/12' / 'الاثنين 28/12': the day of the week, then the date."""
    return f"{format_date(day, 'EEEE', locale=t.locale)} {t.day(day)}"


def is_year_decision(decision: str) -> bool:
    """Whether a year result with `decision` is news (a pending one is not yet)."""
    return decision in YEAR_DECISIONS


def is_decision(status: str) -> bool:
    """Whether an application moving to `status` is news for the parent."""
    return status in DECISIONS
