"""Answers that read the backend: absences, marks, applications, re-registration, and the
verification that binds a child to a phone; `want` opens a request for the right child."""

from __future__ import annotations

import math
from datetime import date

from backend_client.errors import NotFound, RateLimited, VerificationLocked
from backend_client.models import (
    ApplicationKind,
    AssessmentKind,
    EnrolmentApplication,
    StudentSummary,
    SubjectGrades,
)
from gateway.dialogs import texts
from gateway.dialogs.absences import absence_figures
from gateway.dialogs.answer_texts import (
    MENTIONS,
    REASON_TEXTS,
    STATUS_TEXTS,
    absence_line,
    school_year_start,
)
from gateway.dialogs.conversation import ABSENCES_READ, Conversation, Intent, State
from gateway.dialogs.model import Event, Lang, Reply
from gateway.dialogs.navigation import home, show
from gateway.dialogs.subjects import short_name

USSD_UCS2_CHARS = 80  # a USSD screen in Arabic (CHANNELS.md §5): room for averages only


async def locked(
    conv: Conversation,
    code: str | None = None,
    *,
    holder: bool = False,
    retry_after: float | None = None,
) -> Reply:
    """The refusal of a locked phone or code: how long to wait, and the hotline."""
    conv.events.append(Event(kind="verification_locked"))
    text = locked_text(conv, await wait_s(conv, code, holder, retry_after))
    conv.go(State.RESULT, lines=[text])
    return conv.reply(text, end=True)


async def wait_s(
    conv: Conversation, code: str | None, holder: bool, retry_after: float | None
) -> float | None:
    """Seconds until the lock ends: the gateway's own counters, else the backend's hint."""
    until = await conv.turn.lockout.locked_until(
        conv.inbound.sender, code, call=conv.call_id(), holder=holder
    )
    if until is not None:
        return until - conv.turn.now.timestamp()
    return retry_after


def locked_text(conv: Conversation, seconds: float | None) -> str:
    t = conv.t
    if seconds is None or seconds <= 0:
        return t.gettext(texts.LOCKED)
    minutes = max(1, round(seconds / 60))  # the turn began a moment before the count
    if minutes <= 90:
        return t.ngettext(texts.LOCKED_MINUTES, minutes)
    return t.ngettext(texts.LOCKED_HOURS, math.ceil(minutes / 60))


async def want(conv: Conversation, intent: Intent) -> Reply:
    """Open `intent` for the only child, or ask which child, or bind one first."""
    conv.data["intent"] = intent.value
    children = await conv.children()
    if not children:
        found = await conv.lookup()
        if found is None or not found.students:
            return await home(conv)
        return await show(conv, State.BIND_CODE)
    if len(children) == 1 and not await conv.unbound():
        return await open_intent(conv, children[0])
    return await show(conv, State.CHILD)


async def open_intent(conv: Conversation, child: StudentSummary, *, auto: bool = False) -> Reply:
    intent = Intent(conv.data.get("intent", Intent.ABSENCES.value))
    if intent is Intent.ALERTS:  # a caller who proved a child: the alerts menu (alerts.py)
        return await show(conv, State.ALERTS)
    conv.data["child"] = child.id
    if intent is Intent.ABSENCES:
        return await show(conv, State.ABSENCES)
    if intent is Intent.GRADES:
        if auto:
            return await show(conv, State.GRADES, semester=0)
        return await show(conv, State.SEMESTER)
    return await show(conv, State.REREG)


async def answer_absences(conv: Conversation) -> Reply:
    child = await conv.child(conv.data.get("child"))
    if child is None:
        return await home(conv)
    t, turn = conv.t, conv.turn
    meta = await conv.meta()
    today = (meta.now or turn.now).date()
    since = school_year_start(meta.school_year)
    page = await turn.backend.absences(
        child.id,
        on_behalf_of=await conv.guardian_id(),
        date_from=since,
        date_to=today,
        limit=ABSENCES_READ,
        deadline=turn.deadline,
    )
    figures = absence_figures(page)  # the one rule (DOMAIN.md §4): rejected excuses count
    count = figures.unjustified_count
    header = t.ngettext(
        texts.ABSENCES_HEADER,
        count,
        name=conv.name(child),
        hours=t.number(figures.unjustified_hours),
        since=t.day(since),
    )
    lines = [absence_line(t, a) for a in figures.unjustified]
    footer_parts = [t.gettext(texts.JUSTIFIED_HOURS, hours=t.number(figures.justified_hours))]
    if figures.late_count:
        footer_parts.append(t.ngettext(texts.LATE_COUNT, figures.late_count))
    if count:
        footer_parts.append(t.gettext(texts.HOW_TO_JUSTIFY))
    return conv.paged(lines, header=header, footer=" ".join(footer_parts))


async def answer_grades(conv: Conversation) -> Reply:
    child = await conv.child(conv.data.get("child"))
    if child is None:
        return await home(conv)
    t, turn = conv.t, conv.turn
    meta = await conv.meta()
    semester = int(conv.data.get("semester", 0)) or meta.semester
    gid = await conv.guardian_id()
    try:
        grades = await turn.backend.grades(
            child.id, meta.school_year, semester, on_behalf_of=gid, deadline=turn.deadline
        )
    except NotFound:
        if conv.data.get("semester", 0) == 0 and semester == 2:
            conv.data["semester"] = 1  # the current semester is not out yet: show the last one
            return await answer_grades(conv)
        text = t.gettext(texts.MARKS_NOT_PUBLISHED, name=conv.name(child), semester=semester)
        return conv.reply(text, [conv.back_option()])
    conv.data["semester"] = semester
    # A USSD screen (80 Arabic characters) holds Massar's subject averages only; channels
    # with room show the tests, the activities mark labelled, and Massar's average.
    compact = conv.turn.profile.max_chars_ucs2 <= USSD_UCS2_CHARS
    heading = texts.MARKS_HEADER_COMPACT if compact else texts.MARKS_HEADER
    header = t.gettext(heading, name=conv.name(child), semester=semester)
    lines = [subject_line(conv, subject, compact=compact) for subject in grades.subjects]
    footer = ""
    if grades.semester_average is not None:
        mention = t.gettext(MENTIONS[grades.mention.value]) if grades.mention else ""
        footer = t.gettext(
            texts.SEMESTER_AVERAGE, average=t.number(grades.semester_average), mention=mention
        ).strip()
    return conv.paged(lines, header=header, footer=footer)


def subject_line(conv: Conversation, subject: SubjectGrades, *, compact: bool) -> str:
    """One subject: its name, then Massar's average (never recomputed, DOMAIN.md §2); with
    room, the tests first and the activities mark labelled as such."""
    t = conv.t
    average = "-" if subject.average is None else t.number(subject.average)
    label = subject.name_ar if conv.lang is Lang.AR else subject.name_fr
    if not conv.turn.profile.spoken and (compact or conv.lang is Lang.FR):  # a voice says it whole
        label = short_name(subject.code, conv.lang.value, label)
    if compact:
        return t.gettext(texts.SUBJECT_AVERAGE_LINE, subject=label, average=average)
    tests, activities = [], []
    for a in subject.assessments:
        mark = t.gettext(texts.ABSENT_MARK) if a.absent or a.score is None else t.number(a.score)
        if a.kind is AssessmentKind.ACTIVITES:
            activities.append(t.gettext(texts.ACTIVITIES_MARK, mark=mark))
        else:
            tests.append(mark)
    scale = max((a.max_score for a in subject.assessments), default=20)
    return t.gettext(
        texts.SUBJECT_LINE,
        subject=label,
        marks=t.join(tests + activities),
        average=average,
        scale=t.number(scale),  # the spoken variant says "out of twenty"
    )


def application_lines(conv: Conversation, app: EnrolmentApplication) -> list[str]:
    """Status, date, reason and school of an application: one sentence a line."""
    t = conv.t
    since = app.history[-1].at.date() if app.history else None
    status = t.gettext(STATUS_TEXTS[app.status.value])
    if since is not None:
        lines = [
            t.gettext(
                texts.APPLICATION_STATUS_SINCE, number=app.number, status=status, day=t.day(since)
            )
        ]
    else:
        lines = [t.gettext(texts.APPLICATION_STATUS, number=app.number, status=status)]
    if app.rejection_reason is not None:
        reason = t.gettext(REASON_TEXTS[app.rejection_reason.value])
        lines.append(t.gettext(texts.REJECTION_REASON, reason=reason))
    if app.requested_school is not None:
        school = conv.label(app.requested_school.name_ar, app.requested_school.name_fr)
        lines.append(t.gettext(texts.REQUESTED_SCHOOL, school=school))
    return lines


async def answer_application(conv: Conversation, number: str, birth_date: date) -> Reply:
    t, turn = conv.t, conv.turn
    try:
        app = await turn.backend.lookup_application(number, birth_date, deadline=turn.deadline)
    except NotFound:
        return await show(conv, State.APP_NUMBER, note=t.gettext(texts.APPLICATION_NOT_FOUND))
    except (RateLimited, VerificationLocked) as exc:
        return await locked(conv, retry_after=exc.retry_after)
    return await show(conv, State.RESULT, lines=application_lines(conv, app))


async def answer_reregistration(conv: Conversation) -> Reply:
    child = await conv.child(conv.data.get("child"))
    if child is None:
        return await home(conv)
    t, turn = conv.t, conv.turn
    apps = await turn.backend.student_applications(
        child.id, on_behalf_of=await conv.guardian_id(), deadline=turn.deadline
    )
    rereg = [a for a in apps if a.kind is ApplicationKind.REREGISTRATION]
    if not rereg:
        text = t.gettext(texts.NO_REREGISTRATION, name=conv.name(child))
    else:
        latest = max(rereg, key=lambda a: a.school_year)
        text = t.gettext(
            texts.REREGISTRATION_LINE,
            name=conv.name(child),
            year=latest.school_year,
            status=t.gettext(STATUS_TEXTS[latest.status.value]),
        )
    return conv.paged([text], header="", footer="")


async def verify(conv: Conversation, code: str, birth_date: date) -> Reply:
    """Check a Massar code and birth date against the backend; bind the child on a match.

    A phone Massar links to no child whose masked code fits `code` cannot pass the backend's
    check (it needs that link): it gets the same mismatch without the backend being asked,
    so strangers never move the backend's counters. A locked code does not stop a phone
    linked to its child; a voice call counts against the call, not the number (`Lockout`).
    """
    t, turn, phone = conv.t, conv.turn, conv.inbound.sender
    holder, maybe = await conv.holds_code(code)
    call = conv.call_id()
    if await turn.lockout.is_locked(phone, code, call=call, holder=holder):
        return await locked(conv, code, holder=holder)
    if holder or maybe:
        try:
            result = await turn.backend.verify_student(
                code, birth_date, phone, deadline=turn.deadline
            )
        except (VerificationLocked, RateLimited) as exc:
            return await locked(conv, code, holder=holder, retry_after=exc.retry_after)
        found = await conv.lookup()
        linked = {s.id: s for s in found.students} if found else {}
        if result.match and result.student_id in linked:
            await turn.bindings.bind(phone, result.student_id, turn.now)
            # Where the caller ID proves nothing, only the children checked in this session count.
            verified = [str(x) for x in conv.data.get("verified", [])]
            conv.data["verified"] = sorted({*verified, result.student_id})
            conv._bound = None
            conv.events.append(Event(kind="child_bound"))
            child = linked[result.student_id]
            if "intent" in conv.data:
                return await open_intent(conv, child, auto=True)
            return await home(conv, note=t.gettext(texts.BOUND, name=conv.name(child)))
    conv.events.append(Event(kind="verification_failed"))
    if await turn.lockout.record_failure(phone, code, call=call, holder=holder):
        return await locked(conv, code, holder=holder)
    return await show(conv, State.BIND_CODE, note=t.gettext(texts.NO_MATCH))
