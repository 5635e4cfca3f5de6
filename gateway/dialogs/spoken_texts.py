"""Spoken variants of the screen texts that do not read well aloud, as gettext msgids.

A screen says "14,5 = 15" or "18/05: 2 h"; a voice says "average fifteen out of twenty" and
"Monday the eighteenth of May, two hours". `SpokenTranslator` (`gateway/spoken.py`) uses the
variant of a message when there is one. A `Counted` variant is a plural chosen by one named
value (the hours), for messages the screen writes without a plural ("2 h").
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.dialogs import texts
from gateway.i18n import N_, Np_


@dataclass(frozen=True, slots=True)
class Counted:
    forms: tuple[str, str]
    by: str  # the value whose number picks the plural form


ASK_CODE = N_("Type the nine digits of your child's Massar code, without the letter.")
ASK_CHILD_DOB = N_(
    "Type the child's birth date: two digits for the day, two for the month, four for the year."
)
NOT_A_CODE = N_("A Massar code has nine digits after its letter.")
NOT_A_DATE = N_("Please type the birth date as eight digits: the day, the month, then the year.")
ABSENCES_HEADER = Np_(
    "%(name)s has %(n)s unjustified absence since %(since)s.",
    "%(name)s has %(n)s unjustified absences since %(since)s.",
)
ABSENCE_LINE = Np_(
    "%(day)s, %(hours)s hour of absence.",
    "%(day)s, %(hours)s hours of absence.",
)
LATE_LINE = N_("%(day)s, late.")
LATE_COUNT = Np_("And %(n)s late arrival.", "And %(n)s late arrivals.")
ABSENCE_LINE_REFUSED = Np_(
    "%(day)s, %(hours)s hour of absence, excuse refused.",
    "%(day)s, %(hours)s hours of absence, excuse refused.",
)
JUSTIFIED_HOURS = Np_(
    "Justified absences, %(hours)s hour in all.",
    "Justified absences, %(hours)s hours in all.",
)
MARKS_HEADER = N_("Marks of %(name)s, semester %(semester)s.")
SUBJECT_LINE = N_("%(subject)s, marks %(marks)s, average %(average)s out of %(scale)s.")
ABSENT_MARK = N_("absent")
ACTIVITIES_MARK = N_("activities, %(mark)s")
SEMESTER_AVERAGE = N_("Average of the semester, %(average)s. %(mention)s")
ASK_APPLICATION = N_(
    "Type the eleven digits of the application number: the year, then the seven other digits."
)
NOT_AN_APPLICATION = N_("An application number has eleven digits after the letters P R E.")
APPLICATION_STATUS = N_("Application %(number)s, %(status)s.")
APPLICATION_STATUS_SINCE = N_("Application %(number)s, %(status)s since %(day)s.")
REREGISTRATION_LINE = N_("%(name)s, school year %(year)s, %(status)s.")
HELP_TEXT = N_(
    "This line gives your children's absences and marks, and where an enrolment stands. "
    "To speak to an agent, press zero at any time."
)
PICK_AN_OPTION = N_("Please press one of the keys offered.")
MENU = N_("the main menu")
MORE = N_("the rest")
AS_OF = N_("As of %(when)s.")
MAIN_TITLE = N_("Massar services.")
ENROLMENT_TITLE = N_("Enrolment.")
CHOOSE_SEMESTER = N_("Marks, which semester?")
MENTION_INSUFFISANT = N_("Insufficient.")
MENTION_PASSABLE = N_("Fair.")
MENTION_ASSEZ_BIEN = N_("Quite good.")
MENTION_BIEN = N_("Good.")
MENTION_TRES_BIEN = N_("Very good.")
TOO_MANY = N_("Too many calls. Please wait a minute and call again.")
# The caller is on the hotline already: "press zero" instead of its number.
LOCKED = N_("Too many attempts. Please try again later, or press zero to speak to an agent.")
LOCKED_MINUTES = Np_(
    "Too many attempts. Please try again in %(n)s minute, or press zero to speak to an agent.",
    "Too many attempts. Please try again in %(n)s minutes, or press zero to speak to an agent.",
)
LOCKED_HOURS = Np_(
    "Too many attempts. Please try again in %(n)s hour, or press zero to speak to an agent.",
    "Too many attempts. Please try again in %(n)s hours, or press zero to speak to an agent.",
)
NOT_REGISTERED = N_(
    "This number is not registered with any school. Ask your child's school to add it,"
    " or press zero to speak to an agent."
)
OUT_OF_SCOPE = N_(
    "This line gives only absences, marks and enrolment files."
    " For anything else, press zero to speak to an agent."
)

VARIANTS: dict[str | tuple[str, str], str | tuple[str, str] | Counted] = {
    texts.ASK_CODE: ASK_CODE,
    texts.ASK_CHILD_DOB: ASK_CHILD_DOB,
    texts.NOT_A_CODE: NOT_A_CODE,
    texts.NOT_A_DATE: NOT_A_DATE,
    texts.ABSENCES_HEADER: ABSENCES_HEADER,
    texts.ABSENCE_LINE: Counted(ABSENCE_LINE, by="hours"),
    texts.LATE_LINE: LATE_LINE,
    texts.LATE_COUNT: LATE_COUNT,
    texts.ABSENCE_LINE_REFUSED: Counted(ABSENCE_LINE_REFUSED, by="hours"),
    texts.JUSTIFIED_HOURS: Counted(JUSTIFIED_HOURS, by="hours"),
    texts.MARKS_HEADER: MARKS_HEADER,
    texts.SUBJECT_LINE: SUBJECT_LINE,
    texts.ABSENT_MARK: ABSENT_MARK,
    texts.ACTIVITIES_MARK: ACTIVITIES_MARK,
    texts.SEMESTER_AVERAGE: SEMESTER_AVERAGE,
    texts.ASK_APPLICATION: ASK_APPLICATION,
    texts.NOT_AN_APPLICATION: NOT_AN_APPLICATION,
    texts.APPLICATION_STATUS: APPLICATION_STATUS,
    texts.APPLICATION_STATUS_SINCE: APPLICATION_STATUS_SINCE,
    texts.REREGISTRATION_LINE: REREGISTRATION_LINE,
    texts.HELP_TEXT: HELP_TEXT,
    texts.PICK_AN_OPTION: PICK_AN_OPTION,
    texts.MENU: MENU,
    texts.MORE: MORE,
    texts.AS_OF: AS_OF,
    texts.MAIN_TITLE: MAIN_TITLE,
    texts.ENROLMENT_TITLE: ENROLMENT_TITLE,
    texts.CHOOSE_SEMESTER: CHOOSE_SEMESTER,
    texts.MENTION_INSUFFISANT: MENTION_INSUFFISANT,
    texts.MENTION_PASSABLE: MENTION_PASSABLE,
    texts.MENTION_ASSEZ_BIEN: MENTION_ASSEZ_BIEN,
    texts.MENTION_BIEN: MENTION_BIEN,
    texts.MENTION_TRES_BIEN: MENTION_TRES_BIEN,
    texts.TOO_MANY: TOO_MANY,
    texts.LOCKED: LOCKED,
    texts.LOCKED_MINUTES: LOCKED_MINUTES,
    texts.LOCKED_HOURS: LOCKED_HOURS,
    texts.NOT_REGISTERED: NOT_REGISTERED,
    texts.OUT_OF_SCOPE: OUT_OF_SCOPE,
}
