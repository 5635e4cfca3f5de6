"""The weekly summary (issue #26 item 2): one message per child a week, for the phones whose
guardian chose "weekly" in the alerts menu, at `GATEWAY_ALERTS_WEEKLY_AT` (local time).

```
absence / marks alert for a weekly phone ──plan──> held, batch "weekly", until the slot
the slot (quiet hours respected) ──release_due──> per phone and child, from the backend now:
    this week's unjustified absences, the total since September (the ABS answer's call and
    its one rule: `gateway.dialogs.absences.absence_figures`), the marks published this week
    ──> "Massar: Youssef, week to 22/05: 2 unjustified absences (19/05, 20/05). Since
        01/09: 5 in all (9 h). Semester 2 marks published. Reply ABS or NOTES."
```
A child with no news this week (nothing held, or every absence held was justified since and
no marks) gets nothing. The message's idempotency key is the child, the ISO week of its slot,
the phone and the channel: a release done twice (a consumer killed after queueing) sends it
once. "Absences only" and "marks only" shape what it says. Enrolment decisions are not held
for a week: they go as they come (a parent may have days to act on them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

import structlog

from backend_client import Deadline
from backend_client.errors import BackendRejected, BadResponse, NotFound, NotLinked
from backend_client.models import AbsenceRecord, AbsencesPage, GuardianContact, Meta
from backend_client.models.grades import Grades
from gateway.alerts.plan import (
    WEEKLY_KINDS,
    alert_key,
    language,
    message,
    route,
    whatsapp_template,
)
from gateway.alerts.quiet import LOCAL_TZ
from gateway.alerts.texts import digest
from gateway.dialogs.absences import AbsenceFigures, absence_figures
from gateway.dialogs.answer_texts import school_year_start
from gateway.dialogs.conversation import ABSENCES_READ
from gateway.i18n import N_, Np_, translator
from gateway.outbox.model import OutMessage
from gateway.state.alerts.preferences import AlertPreference
from gateway.state.alerts.store import Held

__all__ = ["FRIDAY_18", "Summaries", "Weekly", "weekly_messages"]

log = structlog.get_logger("gateway.alerts")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CALL_BUDGET_S = 10.0  # per backend call: the summaries wait for a slow backend, not for ever

WEEK_HEAD = N_("Massar: %(name)s, week to %(day)s:")
WEEK_ABSENCES = Np_(
    "%(n)s unjustified absence (%(days)s).", "%(n)s unjustified absences (%(days)s)."
)
WEEK_NO_ABSENCE = N_("No unjustified absence.")
WEEK_TOTAL = Np_(
    "Since %(since)s: %(n)s in all (%(hours)s h).", "Since %(since)s: %(n)s in all (%(hours)s h)."
)
WEEK_MARKS = N_("Semester %(semester)s marks published.")
REPLY_ABS = N_("Reply ABS.")
REPLY_NOTES = N_("Reply NOTES.")
REPLY_BOTH = N_("Reply ABS or NOTES.")


@dataclass(frozen=True, slots=True)
class Weekly:
    """A day of the week and a local time: `fri 18:00` (`GATEWAY_ALERTS_WEEKLY_AT`)."""

    weekday: int  # 0 is Monday
    at: time

    @classmethod
    def parse(cls, text: str) -> Weekly:
        day, _, hour = text.strip().lower().partition(" ")
        try:
            at = time.fromisoformat(hour.strip())
        except ValueError:
            at = None
        if day[:3] not in WEEKDAYS or at is None:
            raise ValueError("the weekly summary's time looks like fri 18:00 (mon … sun, HH:MM)")
        return cls(WEEKDAYS.index(day[:3]), at)

    def next_after(self, now: datetime) -> datetime:
        """The next such moment after `now` (an aware datetime, Africa/Casablanca)."""
        local = now.astimezone(LOCAL_TZ)
        day = local.date() + timedelta(days=(self.weekday - local.weekday()) % 7)
        if datetime.combine(day, self.at, LOCAL_TZ) <= local:
            day += timedelta(days=7)  # this week's slot has passed
        return datetime.combine(day, self.at, LOCAL_TZ)


FRIDAY_18 = Weekly(4, time(18, 0))  # the default (`GATEWAY_ALERTS_WEEKLY_AT`)


class Summaries(Protocol):
    """The backend reads a summary makes (`backend_client.MassarClient`)."""

    async def meta(self, *, deadline: Deadline | float | None = None) -> Meta: ...

    async def absences(
        self,
        sid: str,
        *,
        on_behalf_of: str,
        date_from: date | None = None,
        date_to: date | None = None,
        limit: int | None = None,
        deadline: Deadline | float | None = None,
    ) -> AbsencesPage: ...

    async def grades(
        self,
        sid: str,
        school_year: str,
        semester: int,
        *,
        on_behalf_of: str,
        deadline: Deadline | float | None = None,
    ) -> Grades: ...


@dataclass(frozen=True, slots=True)
class Week:
    """One child's week, as the backend says it at send time."""

    name_fr: str
    name_ar: str
    absent: tuple[AbsenceRecord, ...] | None  # None: the phone chose marks only
    figures: AbsenceFigures | None
    semesters: tuple[int, ...] | None  # marks published this week; None: absences only
    today: date
    since: date

    @property
    def news(self) -> bool:
        return bool(self.absent) or bool(self.semesters)


async def read_week(
    backend: Summaries, rows: Sequence[Held], pref: AlertPreference, meta: Meta, now: datetime
) -> Week | None:
    """What the backend says of one child's week now; None when the guardian may no longer
    see the child or the backend refuses the read (the rest of the summaries still go)."""
    first = rows[0]
    sid, gid = first.alert.student_id, first.guardian_id
    if sid is None:
        return None
    moment = meta.now or now  # the backend's clock, as the ABS answer reads it
    today = moment.astimezone(LOCAL_TZ).date()
    since = school_year_start(meta.school_year)
    absent: tuple[AbsenceRecord, ...] | None = None
    figures: AbsenceFigures | None = None
    semesters: tuple[int, ...] | None = None
    try:
        if "absence" in pref.kinds:
            page = await backend.absences(
                sid,
                on_behalf_of=gid,
                date_from=since,
                date_to=today,
                limit=ABSENCES_READ,
                deadline=CALL_BUDGET_S,
            )
            figures = absence_figures(page)  # the one rule, as the ABS answer reads it
            week_ago = moment - timedelta(days=7)
            absent = tuple(
                sorted(
                    (
                        a
                        for a in figures.unjustified
                        if a.date > today - timedelta(days=7) or a.recorded_at > week_ago
                    ),
                    key=lambda a: (a.date, a.start_time),
                )
            )
        if "marks" in pref.kinds:
            semesters = await _published(backend, rows, gid)
    except (NotFound, NotLinked):
        return None  # the school unlinked the guardian, or the child left
    except (BackendRejected, BadResponse) as exc:
        log.warning("alerts_weekly_read_refused", error=type(exc).__name__)
        return None
    payload = rows[-1].alert.payload
    return Week(
        name_fr=str(payload.get("name_fr") or payload.get("name_ar") or ""),
        name_ar=str(payload.get("name_ar") or payload.get("name_fr") or ""),
        absent=absent,
        figures=figures,
        semesters=semesters,
        today=today,
        since=since,
    )


async def _published(backend: Summaries, rows: Sequence[Held], gid: str) -> tuple[int, ...]:
    """The semesters whose marks were published this week (held alerts), still published."""
    wanted = {
        (str(r.alert.payload.get("school_year")), int(r.alert.payload.get("semester") or 0))
        for r in rows
        if r.alert.kind == "marks"
    }
    sid = rows[0].alert.student_id or ""
    found: list[int] = []
    for year, semester in sorted(wanted):
        if semester not in (1, 2):
            continue
        try:
            await backend.grades(sid, year, semester, on_behalf_of=gid, deadline=CALL_BUDGET_S)
        except NotFound:
            continue  # withdrawn since: not news
        found.append(semester)
    return tuple(sorted(set(found)))


def summary_text(week: Week, lang: str, *, first: bool) -> str:
    """The summary in `lang` (French folded to GSM-7: one SMS where it fits)."""
    t = translator(lang)
    name = week.name_ar if lang == "ar" else week.name_fr
    parts = [t.gettext(WEEK_HEAD, name=name, day=t.day(week.today))]
    if week.absent is not None and week.figures is not None:
        if week.absent:
            days = list(dict.fromkeys(t.day(a.date) for a in week.absent))
            separator = "، " if lang == "ar" else ", "
            parts.append(t.ngettext(WEEK_ABSENCES, len(week.absent), days=separator.join(days)))
        else:
            parts.append(t.gettext(WEEK_NO_ABSENCE))
        figures = week.figures
        parts.append(
            t.ngettext(
                WEEK_TOTAL,
                figures.unjustified_count,
                since=t.day(week.since),
                hours=t.number(figures.unjustified_hours),
            )
        )
    for semester in week.semesters or ():
        parts.append(t.gettext(WEEK_MARKS, semester=semester))
    says_absences, says_marks = week.absent is not None, bool(week.semesters)
    reply = REPLY_BOTH if says_absences and says_marks else REPLY_NOTES if says_marks else REPLY_ABS
    parts.append(t.gettext(reply))
    return digest([" ".join(parts)], lang, first=first)


def week_key(student: str, slot: datetime) -> str:
    """What one summary is about: the child and the ISO week of its slot."""
    year, week, _ = slot.astimezone(LOCAL_TZ).isocalendar()
    return f"weekly:{student}:{year}-W{week:02d}"


async def weekly_messages(
    backend: Summaries,
    due: Sequence[Held],
    contacts: Mapping[str, GuardianContact],
    phones: Mapping[str, str],
    prefs: Mapping[str, AlertPreference],
    *,
    now: datetime,
    welcomed: list[str],
) -> list[OutMessage]:
    """The summaries of the held alerts `due` (batch "weekly"): one per phone and child with
    news this week; phones that get their first alert are added to `welcomed`."""
    groups: dict[tuple[str, str | None], list[Held]] = {}
    for held in due:  # in feed order; one phone may be named under two key generations
        phone, contact = phones.get(held.phone_h), contacts.get(held.guardian_id)
        if phone is None or contact is None or not contact.may_be_told_about(held.alert.student_id):
            continue  # the school removed this phone, or forbids notices (may_notify) meanwhile
        groups.setdefault((phone, held.alert.student_id), []).append(held)
    meta: Meta | None = None
    out: list[OutMessage] = []
    for (phone, student), rows in groups.items():
        contact = contacts.get(rows[0].guardian_id)
        if contact is None or student is None:
            continue  # nothing to say about no child
        pref = prefs.get(phone, AlertPreference())
        if not any(pref.wants(kind) for kind in WEEKLY_KINDS):
            continue  # stopped, or chose only what this child had no news of
        meta = meta or await backend.meta(deadline=CALL_BUDGET_S)
        week = await read_week(backend, rows, pref, meta, now)
        if week is None or not week.news:
            continue  # a week with nothing to report sends nothing
        first = not pref.welcomed and phone not in welcomed
        if first:
            welcomed.append(phone)
        channel, to = route(phone, pref)
        key = alert_key(week_key(student, rows[0].release_at), phone, channel)
        lang = language(contact, pref)
        text = summary_text(week, lang, first=first)
        # Outside WhatsApp's window a summary goes as the digest's template (news, reply ABS).
        tpl = whatsapp_template(channel, "digest", [], lang, pref)
        out.append(
            message(
                key=key, channel=channel, to=to, text=text, now=now, student=student, template=tpl
            )
        )
    return out
