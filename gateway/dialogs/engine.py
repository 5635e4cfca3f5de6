"""The dialog engine: `step(session, inbound, turn) -> Step`, one user input at a time.

Each state has a screen (`SCREENS`: its prompt and options) and, when it reads free input, a
handler (`INPUT_HANDLERS`); picking an option goes through `on_option`. Keyword commands
(`ABS`, `غياب`, `no9at`, an application number, a Massar code) reach the same answers
without the menus. The engine does no I/O of its own: the backend, the bindings and the
lockout counters come in `Turn`, with the clock and the deadline.

Authorisation: a child is named or described only when the backend links it to the sender's
phone *and* the phone has bound it (Massar code + birth date, renewed every 180 days).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

from backend_client.errors import (
    BackendError,
    BackendRejected,
    BackendTimeout,
    BackendUnavailable,
    NotFound,
    NotLinked,
    RateLimited,
    VerificationLocked,
)
from backend_client.models import (
    AbsenceStatus,
    ApplicationKind,
    EnrolmentApplication,
    StudentSummary,
)
from gateway.dialogs import texts
from gateway.dialogs.conversation import (
    ABSENCES_READ,
    Conversation,
    Intent,
    State,
    Step,
    Turn,
)
from gateway.dialogs.inputs import (
    KEYWORD_OF,
    application_command,
    language_hint,
    parse_application_number,
    parse_birth_date,
    parse_massar_code,
    split_pair,
)
from gateway.dialogs.model import Event, Inbound, Lang, Option, Reply, Session
from gateway.dialogs.pages import fits, with_options
from gateway.dialogs.wording import (
    MENTIONS,
    REASON_TEXTS,
    STATUS_TEXTS,
    absence_line,
    school_year_start,
    short_subject,
)
from gateway.text import normalise

# --- the conversation of one turn ------------------------------------------------------

Handler = Callable[[Conversation, str], Awaitable[Reply]]


# --- menus ------------------------------------------------------------------------------------


async def show(conv: Conversation, state: State, *, note: str = "", **data: Any) -> Reply:
    """Enter `state` and render its screen, with an optional note on top."""
    conv.go(state, **data)
    reply = await SCREENS[state](conv)
    if note:
        # On a small screen the note replaces the prompt rather than push the options off.
        text = conv.fold(note) + "\n" + reply.text
        if not fits(conv.turn.profile, with_options(text, reply.options)):
            text = conv.fold(note)
        reply = Reply(text=text, options=reply.options, end_session=reply.end_session)
    return reply


async def home(conv: Conversation, *, note: str = "") -> Reply:
    found = await conv.lookup()
    if found is None or not found.students:
        return await show(conv, State.UNLINKED, note=note)
    conv.data.pop("intent", None)
    conv.data.pop("child", None)
    return await show(conv, State.MAIN, note=note)


def lang_switch_option(conv: Conversation, key: str) -> Option:
    # "Arabe", not "العربية", on French screens: one Arabic letter would turn the whole
    # SMS or USSD screen into UCS-2 and halve what fits on it.
    return Option(key=key, id="lang", label="Français" if conv.lang is Lang.AR else "Arabe")


async def screen_main(conv: Conversation) -> Reply:
    t = conv.t
    options = [
        Option(key="1", id="abs", label=t.gettext(texts.ABSENCES)),
        Option(key="2", id="notes", label=t.gettext(texts.MARKS)),
        Option(key="3", id="enrol", label=t.gettext(texts.ENROLMENT)),
        Option(key="4", id="help", label=t.gettext(texts.HELP)),
        lang_switch_option(conv, "5"),
    ]
    return conv.reply(t.gettext(texts.MAIN_TITLE), options)


async def screen_unlinked(conv: Conversation) -> Reply:
    t = conv.t
    options = [
        Option(key="1", id="app", label=t.gettext(texts.PREREGISTRATION_STATUS)),
        Option(key="2", id="help", label=t.gettext(texts.HELP)),
        lang_switch_option(conv, "3"),
    ]
    return conv.reply(t.gettext(texts.UNLINKED), options)


async def screen_child(conv: Conversation) -> Reply:
    children = await conv.children()
    options = [
        Option(key=str(i), id=f"child:{i}", label=f"{conv.name(s)} ({s.level.code})")
        for i, s in enumerate(children, start=1)
    ]
    if await conv.unbound():
        options.append(
            Option(key=str(len(options) + 1), id="add", label=conv.t.gettext(texts.ADD_CHILD))
        )
    options.append(conv.back_option())
    return conv.reply(conv.t.gettext(texts.CHOOSE_CHILD), options)


async def screen_bind_code(conv: Conversation) -> Reply:
    if await conv.turn.lockout.is_locked(conv.inbound.sender):
        return await locked(conv)
    return conv.reply(conv.t.gettext(texts.ASK_CODE), [conv.back_option()])


async def screen_bind_dob(conv: Conversation) -> Reply:
    return conv.reply(conv.t.gettext(texts.ASK_CHILD_DOB), [conv.back_option()])


async def screen_semester(conv: Conversation) -> Reply:
    t = conv.t
    options = [
        Option(key="1", id="sem:1", label=t.gettext(texts.SEMESTER_N, n=1)),
        Option(key="2", id="sem:2", label=t.gettext(texts.SEMESTER_N, n=2)),
        conv.back_option(),
    ]
    return conv.reply(t.gettext(texts.CHOOSE_SEMESTER), options)


async def screen_enrol(conv: Conversation) -> Reply:
    t = conv.t
    options = [Option(key="1", id="app", label=t.gettext(texts.PREREGISTRATION_STATUS))]
    found = await conv.lookup()
    if found is not None and found.students:
        options.append(Option(key="2", id="rereg", label=t.gettext(texts.REREGISTRATION_STATUS)))
    options.append(conv.back_option())
    return conv.reply(t.gettext(texts.ENROLMENT_TITLE), options)


async def screen_app_number(conv: Conversation) -> Reply:
    return conv.reply(conv.t.gettext(texts.ASK_APPLICATION), [conv.back_option()])


async def screen_app_dob(conv: Conversation) -> Reply:
    return conv.reply(conv.t.gettext(texts.ASK_CHILD_DOB), [conv.back_option()])


async def screen_help(conv: Conversation) -> Reply:
    return conv.reply(conv.t.gettext(texts.HELP_TEXT), [conv.back_option()])


async def screen_absences(conv: Conversation) -> Reply:
    return await answer_absences(conv)


async def screen_grades(conv: Conversation) -> Reply:
    return await answer_grades(conv)


async def screen_result(conv: Conversation) -> Reply:
    """A finished answer, paged; it holds no name, code, date of birth or mark."""
    lines = [str(line) for line in conv.data.get("lines", [])]
    return conv.paged(lines, header="", footer="")


async def screen_rereg(conv: Conversation) -> Reply:
    return await answer_reregistration(conv)


async def screen_start(conv: Conversation) -> Reply:
    return await home(conv)


SCREENS: dict[State, Callable[[Conversation], Awaitable[Reply]]] = {
    State.START: screen_start,
    State.MAIN: screen_main,
    State.UNLINKED: screen_unlinked,
    State.CHILD: screen_child,
    State.BIND_CODE: screen_bind_code,
    State.BIND_DOB: screen_bind_dob,
    State.ABSENCES: screen_absences,
    State.SEMESTER: screen_semester,
    State.GRADES: screen_grades,
    State.ENROL: screen_enrol,
    State.APP_NUMBER: screen_app_number,
    State.APP_DOB: screen_app_dob,
    State.RESULT: screen_result,
    State.REREG: screen_rereg,
    State.HELP: screen_help,
}


# --- answers ------------------------------------------------------------------------------------


async def locked(conv: Conversation) -> Reply:
    conv.events.append(Event(kind="verification_locked"))
    conv.go(State.RESULT, lines=[conv.t.gettext(texts.LOCKED)])
    return conv.reply(conv.t.gettext(texts.LOCKED), end=True)


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
    totals = page.totals
    unjustified = sorted(
        (a for a in page.items if a.status is AbsenceStatus.UNJUSTIFIED),
        key=lambda a: (a.date, a.start_time),
        reverse=True,
    )
    count = len(unjustified)
    header = t.ngettext(
        texts.ABSENCES_HEADER,
        count,
        name=conv.name(child),
        hours=t.number(totals.unjustified_hours),
        since=t.day(since),
    )
    lines = [absence_line(t, a) for a in unjustified]
    footer_parts = [t.gettext(texts.JUSTIFIED_HOURS, hours=t.number(totals.justified_hours))]
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
    header = t.gettext(texts.MARKS_HEADER, name=conv.name(child), semester=semester)
    lines = []
    for subject in grades.subjects:
        marks = " ".join(
            t.gettext(texts.ABSENT_MARK) if a.absent or a.score is None else t.number(a.score)
            for a in subject.assessments
        )
        label = (
            subject.name_ar
            if conv.lang is Lang.AR
            else short_subject(subject.name_fr, subject.code)
        )
        average = "-" if subject.average is None else t.number(subject.average)
        lines.append(t.gettext(texts.SUBJECT_LINE, subject=label, marks=marks, average=average))
    footer = ""
    if grades.semester_average is not None:
        mention = t.gettext(MENTIONS[grades.mention.value]) if grades.mention else ""
        footer = t.gettext(
            texts.SEMESTER_AVERAGE, average=t.number(grades.semester_average), mention=mention
        ).strip()
    return conv.paged(lines, header=header, footer=footer)


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
    except (RateLimited, VerificationLocked):
        return await locked(conv)
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
    """Check a Massar code and birth date against the backend; bind the child on a match."""
    t, turn, phone = conv.t, conv.turn, conv.inbound.sender
    if await turn.lockout.is_locked(phone, code):
        return await locked(conv)
    try:
        result = await turn.backend.verify_student(code, birth_date, phone, deadline=turn.deadline)
    except (VerificationLocked, RateLimited):
        return await locked(conv)
    found = await conv.lookup()
    linked = {s.id: s for s in found.students} if found else {}
    if result.match and result.student_id in linked:
        await turn.bindings.bind(phone, result.student_id, turn.now)
        conv._bound = None
        conv.events.append(Event(kind="child_bound"))
        child = linked[result.student_id]
        if "intent" in conv.data:
            return await open_intent(conv, child, auto=True)
        return await home(conv, note=t.gettext(texts.BOUND, name=conv.name(child)))
    conv.events.append(Event(kind="verification_failed"))
    if await turn.lockout.record_failure(phone, code):
        return await locked(conv)
    return await show(conv, State.BIND_CODE, note=t.gettext(texts.NO_MATCH))


# --- handlers: one per state that takes input -----------------------------------------------


def chosen(options: Sequence[Option], norm: str, option_id: str | None) -> str | None:
    """The id of the option the user picked, by key ("2") or by button id."""
    for opt in options:
        if option_id == opt.id or norm == opt.key:
            return opt.id
    return None


# Screens whose content is paged with "9"; every screen but these two offers "0. Menu".
PAGED_STATES = frozenset({State.ABSENCES, State.GRADES, State.RESULT, State.REREG})
NO_BACK_STATES = frozenset({State.MAIN, State.UNLINKED})


async def handle_menu(conv: Conversation, norm: str) -> Reply:
    """Any menu state: pick an option by key or id, else show the same menu with a hint.

    "0" and "9" are answered without drawing the current screen first: drawing a content
    screen reads the backend, and its options are known anyway.
    """
    key = conv.inbound.option_id
    if (norm == "0" or key == "menu") and conv.state not in NO_BACK_STATES:
        return await home(conv)
    if (norm == "9" or key == "more") and conv.state in PAGED_STATES:
        wanted = int(conv.data.get("page", 0)) + 1
        conv.data["page"] = wanted
        reply = await SCREENS[conv.state](conv)
        if conv.data["page"] == wanted:
            return reply
    screen = await SCREENS[conv.state](conv)
    pick = chosen(screen.options, norm, conv.inbound.option_id)
    if pick is None:
        return await show(conv, conv.state, note=conv.t.gettext(texts.PICK_AN_OPTION), **conv.data)
    return await on_option(conv, pick)


async def on_option(conv: Conversation, pick: str) -> Reply:
    if pick == "menu":
        return await home(conv)
    if pick == "more":
        conv.data["page"] = int(conv.data.get("page", 0)) + 1
        return await SCREENS[conv.state](conv)
    if pick == "lang":
        conv.set_lang(Lang.FR if conv.lang is Lang.AR else Lang.AR, chosen=True)
        return await show(conv, conv.state, **conv.data)
    if pick in ("abs", "notes", "rereg"):
        return await want(conv, Intent(pick))
    if pick == "enrol":
        return await show(conv, State.ENROL)
    if pick == "help":
        return await show(conv, State.HELP)
    if pick == "app":
        return await show(conv, State.APP_NUMBER)
    if pick == "add":
        return await show(conv, State.BIND_CODE)
    if pick.startswith("child:"):
        children = await conv.children()
        index = int(pick.split(":", 1)[1]) - 1
        return await open_intent(conv, children[index])
    if pick.startswith("sem:"):
        return await show(conv, State.GRADES, semester=int(pick.split(":", 1)[1]))
    raise ValueError(f"unhandled option {pick!r}")  # a menu offered an id with no handler


async def handle_bind_code(conv: Conversation, norm: str) -> Reply:
    code = parse_massar_code(norm)
    pair = split_pair(norm)
    if code is None and pair is not None:  # code and birth date in one message
        code, birth_date = parse_massar_code(pair[0]), parse_birth_date(pair[1])
        if code is not None and birth_date is not None:
            return await verify(conv, code, birth_date)
        code = None
    if code is None:
        return await show(conv, State.BIND_CODE, note=conv.t.gettext(texts.NOT_A_CODE))
    return await show(conv, State.BIND_DOB, code=code)


async def handle_bind_dob(conv: Conversation, norm: str) -> Reply:
    birth_date = parse_birth_date(norm)
    code = conv.data.get("code")
    if code is None:
        return await show(conv, State.BIND_CODE)
    if birth_date is None:
        return await show(conv, State.BIND_DOB, note=conv.t.gettext(texts.NOT_A_DATE), code=code)
    conv.data.pop("code", None)
    return await verify(conv, code, birth_date)


async def handle_app_number(conv: Conversation, norm: str) -> Reply:
    number = parse_application_number(norm)
    if number is None:
        return await show(conv, State.APP_NUMBER, note=conv.t.gettext(texts.NOT_AN_APPLICATION))
    return await show(conv, State.APP_DOB, number=number)


async def handle_app_dob(conv: Conversation, norm: str) -> Reply:
    number = conv.data.get("number")
    if number is None:
        return await show(conv, State.APP_NUMBER)
    birth_date = parse_birth_date(norm)
    if birth_date is None:
        return await show(conv, State.APP_DOB, note=conv.t.gettext(texts.NOT_A_DATE), number=number)
    return await answer_application(conv, number, birth_date)


INPUT_HANDLERS: dict[State, Handler] = {
    State.BIND_CODE: handle_bind_code,
    State.BIND_DOB: handle_bind_dob,
    State.APP_NUMBER: handle_app_number,
    State.APP_DOB: handle_app_dob,
}


async def keyword_command(conv: Conversation, norm: str) -> Reply | None:
    """Commands that work from any state (what SMS users type instead of menus)."""
    word = KEYWORD_OF.get(norm)
    if word == "abs":
        return await want(conv, Intent.ABSENCES)
    if word == "notes":
        conv.data["intent"] = Intent.GRADES.value
        children = await conv.children()
        if len(children) == 1 and not await conv.unbound():
            return await open_intent(conv, children[0], auto=True)
        return await want(conv, Intent.GRADES)
    if word == "enrol":
        return await show(conv, State.ENROL)
    if word == "help":
        return await show(conv, State.HELP)
    if word == "menu":
        return await home(conv)
    if word in ("lang_ar", "lang_fr"):
        conv.set_lang(Lang.AR if word == "lang_ar" else Lang.FR, chosen=True)
        return await home(conv)
    if conv.state in (State.APP_NUMBER, State.APP_DOB):
        return None  # the prompt reads it
    pair = split_pair(norm)
    number = application_command(norm, pair)
    if number is not None:
        birth_date = parse_birth_date(pair[1]) if pair else None
        if birth_date is not None:
            return await answer_application(conv, number, birth_date)
        return await show(conv, State.APP_DOB, number=number)
    if conv.state in INPUT_HANDLERS:
        return None  # codes and dates typed at a prompt belong to that prompt
    code = parse_massar_code(norm) if not norm.isdigit() else None
    if code is None and pair is not None and not pair[0].isdigit():
        code = parse_massar_code(pair[0])
    found = await conv.lookup()
    if code is not None and found is not None and found.students:
        birth_date = parse_birth_date(pair[1]) if pair else None
        if birth_date is not None:
            return await verify(conv, code, birth_date)
        return await show(conv, State.BIND_DOB, code=code)
    return None


# --- the step ---------------------------------------------------------------------------------


def initial_lang(session: Session | None, text: str) -> Lang:
    """A chosen language, else the input's, else the session's; the guardian's preference
    replaces the Arabic default once the lookup is done (`_dispatch`)."""
    if session is not None and session.lang_chosen and session.lang is not None:
        return session.lang
    script = language_hint(text)
    if script is not None:
        return Lang(script)
    if session is not None and session.lang is not None:
        return session.lang
    return Lang.AR


# A stored state an older release used and this one does not know restarts the conversation.
KNOWN_STATES = frozenset(state.value for state in State)


async def step(session: Session | None, inbound: Inbound, turn: Turn) -> Step:
    """Answer one input. `session` is None when none is stored (new or expired)."""
    raw = inbound.text if inbound.option_id is None else ""
    norm = normalise(raw)
    fresh = session is None or inbound.new_session
    current = Session() if session is None else session
    conv = Conversation(
        inbound=inbound,
        turn=turn,
        state=State.START if fresh or current.state not in KNOWN_STATES else State(current.state),
        lang=initial_lang(session, raw),
        lang_chosen=current.lang_chosen,
        data=dict(current.data) if not fresh else {},
        base=current,
    )
    try:
        reply = await _dispatch(conv, norm, fresh=fresh, expired=session is None)
    except BackendUnavailable as exc:
        # A timeout may be answered later by SMS (the turn runner decides); the rest is "busy".
        slow = isinstance(exc, BackendTimeout)
        conv.events.append(Event(kind="backend_timeout" if slow else "backend_unavailable"))
        reply = conv.reply(conv.t.gettext(texts.BUSY), end=True)
    except NotLinked:
        conv.events.append(Event(kind="not_linked"))
        reply = await home(conv, note=conv.t.gettext(texts.NOT_AVAILABLE))
    except BackendRejected:
        # The backend refused a request the engine built (a 4xx it did not expect): the user
        # gets an answer and the menu, never a crash; the event shows in the logs.
        conv.events.append(Event(kind="backend_rejected"))
        conv.go(State.RESULT, lines=[conv.t.gettext(texts.NOT_AVAILABLE)])
        reply = conv.reply(conv.t.gettext(texts.NOT_AVAILABLE), [conv.back_option()])
    except BackendError:
        # An answer that breaks the contract (`BadResponse`): as good as no answer.
        conv.events.append(Event(kind="backend_bad_response"))
        reply = conv.reply(conv.t.gettext(texts.BUSY), end=True)
    return Step(session=conv.session(), replies=(reply,), events=tuple(conv.events))


async def _dispatch(conv: Conversation, norm: str, *, fresh: bool, expired: bool) -> Reply:
    found = await conv.lookup()
    hinted = language_hint(conv.inbound.text) is not None
    if fresh and found is not None and not conv.lang_chosen and not hinted:
        conv.set_lang(Lang(found.guardian.preferred_lang.value), chosen=False)
    command = await keyword_command(conv, norm) if norm else None
    if command is not None:
        return command
    if conv.state is State.START:
        is_choice = norm.isdigit() and len(norm) <= 2
        note = conv.t.gettext(texts.SESSION_ENDED) if expired and is_choice else ""
        if norm and not is_choice and not conv.inbound.new_session:
            note = conv.t.gettext(texts.NOT_UNDERSTOOD)
        return await home(conv, note=note)
    handler = INPUT_HANDLERS.get(conv.state)
    if handler is not None:
        if norm == "0" or conv.inbound.option_id == "menu":
            return await home(conv)
        return await handler(conv, norm)
    return await handle_menu(conv, norm)
