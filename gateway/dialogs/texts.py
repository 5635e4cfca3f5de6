"""Every user-facing sentence of the dialogs, as gettext msgids (English, whole sentences).

`N_` marks a message and `Np_` a (singular, plural) pair for `pybabel extract` (both from
`gateway.i18n`); translations live in `gateway/locales/{ar,fr}`. Placeholders are named
(`%(name)s`), never glued.
Screens must fit a USSD screen: 160 GSM-7 characters, or 80 in Arabic, options included.
"""

from __future__ import annotations

from gateway.i18n import N_, Np_  # the markers live with the catalogs; read here as before

# Menus and navigation
MAIN_TITLE = N_("Massar services:")
ABSENCES = N_("Absences")
MARKS = N_("Marks")
ENROLMENT = N_("Enrolment")
HELP = N_("Help")
TALK_TO_PERSON = N_("Talk to a person")
ASK_AGENT = N_("Write your question; an agent will answer here.")
AGENT_WILL_ANSWER = N_("Thank you. An agent will answer you here soon.")
MENU = N_("Menu")
MORE = N_("More")
ADD_CHILD = N_("Add a child")
CHOOSE_CHILD = N_("Which child?")
CHOOSE_SEMESTER = N_("Marks: which semester?")
SEMESTER_N = N_("Semester %(n)s")
ENROLMENT_TITLE = N_("Enrolment:")
PREREGISTRATION_STATUS = N_("Pre-registration")
REREGISTRATION_STATUS = N_("Re-registration")
PICK_AN_OPTION = N_("Please reply with one of the numbers.")
NOT_UNDERSTOOD = N_("Sorry, I did not understand.")
WHICH_ONE = N_("Which one do you want?")
WELCOME = N_("Welcome to Massar.")
SESSION_ENDED = N_("Your previous session has ended.")

# Identity and binding
UNLINKED = N_("This number is not in Massar. Ask the school to record it.")
ASK_CODE = N_("Your child's Massar code (a letter and 9 digits):")
ASK_CHILD_DOB = N_("Child's birth date, as DDMMYYYY:")
NOT_A_CODE = N_("A Massar code is a letter and 9 digits.")
NOT_A_DATE = N_("Write the date as DDMMYYYY, e.g. 25122015.")
NO_MATCH = N_("This does not match the school's records.")
LOCKED = N_("Too many attempts. Try again later or call 0800 00 11 22 (free).")
LOCKED_MINUTES = Np_(
    "Too many attempts. Try again in %(n)s minute or call 0800 00 11 22 (free).",
    "Too many attempts. Try again in %(n)s minutes or call 0800 00 11 22 (free).",
)
LOCKED_HOURS = Np_(
    "Too many attempts. Try again in %(n)s hour or call 0800 00 11 22 (free).",
    "Too many attempts. Try again in %(n)s hours or call 0800 00 11 22 (free).",
)
NOT_REGISTERED = N_(
    "This number is not registered with any school. Ask your child's school to add it,"
    " or call 0800 00 11 22 (free)."
)
BOUND = N_("%(name)s is now linked to this number.")
NOT_AVAILABLE = N_("This information is not available.")
BUSY = N_("Massar is busy. Please try again in a few minutes.")
ANSWER_BY_SMS = N_("Massar is slow. The answer will follow by SMS.")
TOO_MANY = N_("Too many messages. Please wait a minute and try again.")
AS_OF = N_("As of %(when)s:")

# Alerts switched off and on (STOP / START, on any channel)
ALERTS_STOPPED = N_("You will no longer get Massar alerts on this number. Send START to resume.")
ALERTS_STARTED = N_("Massar alerts are on again for this number. Send STOP to stop them.")
ALERTS_OFFER_CHAT = N_("To get Massar alerts in this chat, send START.")
ALERTS_HERE = N_(
    "Massar alerts will now come here. Send STOP to stop them, or START by SMS to get them by SMS."
)

# Which alerts and how often (the alerts menu: ALERTES, or "Alerts" on USSD and voice)
ALERTS = N_("Alerts")
ALERTS_TITLE = N_("Alerts:")
ALERTS_INSTANT = N_("At once")
ALERTS_DAILY = N_("Daily")
ALERTS_WEEKLY = N_("Weekly")
ALERTS_ABSENCES_ONLY = N_("Absences only")
ALERTS_MARKS_ONLY = N_("Marks only")
ALERTS_STOP = N_("Stop alerts")
ALERTS_NOW_INSTANT = N_("Massar alerts: each one as soon as it comes.")
ALERTS_NOW_DAILY = N_("Massar alerts: one summary a day, at %(time)s.")
ALERTS_NOW_WEEKLY = N_("Massar alerts: one summary a week, %(weekday)s at %(time)s.")
ALERTS_ONLY_ABSENCES = N_("Absences only.")
ALERTS_ONLY_MARKS = N_("Marks only.")
ALERTS_HOW_TO_CHANGE = N_("Send ALERTES to change them.")

# Absences
ABSENCES_HEADER = Np_(
    "%(name)s: %(n)s unjustified absence (%(hours)s h) since %(since)s.",
    "%(name)s: %(n)s unjustified absences (%(hours)s h) since %(since)s.",
)
ABSENCE_LINE = N_("%(day)s: %(hours)s h")
LATE_LINE = N_("%(day)s: late")
ABSENCE_LINE_REFUSED = N_("%(day)s: %(hours)s h (excuse refused)")
LATE_COUNT = Np_("%(n)s late arrival.", "%(n)s late arrivals.")
JUSTIFIED_HOURS = N_("Justified: %(hours)s h.")
HOW_TO_JUSTIFY = N_("To justify, contact the school.")

# Marks
MARKS_HEADER = N_("%(name)s, semester %(semester)s:")
MARKS_HEADER_COMPACT = N_("%(name)s, semester %(semester)s, Massar averages:")
SUBJECT_LINE = N_("%(subject)s: %(marks)s = %(average)s")
SUBJECT_AVERAGE_LINE = N_("%(subject)s %(average)s")
ACTIVITIES_MARK = N_("act. %(mark)s")
ABSENT_MARK = N_("abs")
SEMESTER_AVERAGE = N_("Massar average: %(average)s %(mention)s")
MARKS_NOT_PUBLISHED = N_("%(name)s: semester %(semester)s marks are not published yet.")
MENTION_INSUFFISANT = N_("(Insufficient)")
MENTION_PASSABLE = N_("(Fair)")
MENTION_ASSEZ_BIEN = N_("(Quite good)")
MENTION_BIEN = N_("(Good)")
MENTION_TRES_BIEN = N_("(Very good)")

# Enrolment
ASK_APPLICATION = N_("Application number (e.g. PRE-2026-0001234):")
NOT_AN_APPLICATION = N_("An application number looks like PRE-2026-0001234.")
APPLICATION_NOT_FOUND = N_("No application matches this number and birth date.")
APPLICATION_STATUS = N_("%(number)s: %(status)s.")
APPLICATION_STATUS_SINCE = N_("%(number)s: %(status)s since %(day)s.")
REJECTION_REASON = N_("Reason: %(reason)s.")
REQUESTED_SCHOOL = N_("School: %(school)s.")
REREGISTRATION_LINE = N_("%(name)s, %(year)s: %(status)s.")
NO_REREGISTRATION = N_("%(name)s: no re-registration on file.")
STATUS_SUBMITTED = N_("submitted")
STATUS_UNDER_REVIEW = N_("under review")
STATUS_APPROVED = N_("approved by the director")
STATUS_REJECTED = N_("rejected")
STATUS_WAITLISTED = N_("on the waiting list")
STATUS_ENROLLED = N_("enrolled")
STATUS_CANCELLED = N_("cancelled")
STATUS_PENDING = N_("to be confirmed")
STATUS_CONFIRMED = N_("confirmed")
STATUS_NOT_RETURNED = N_("not returned")
STATUS_REQUESTED = N_("transfer requested")
STATUS_RELEASED = N_("released by the former school")
STATUS_ACCEPTED = N_("accepted by the new school")
STATUS_COMPLETED = N_("transfer completed")
REASON_AGE = N_("age requirement not met")
REASON_CATCHMENT = N_("school outside your area")
REASON_CIVIL_STATUS = N_("civil status incomplete")
REASON_DUPLICATE = N_("duplicate application")
REASON_CAPACITY = N_("school full")

# Help
OUT_OF_SCOPE = N_(
    "I can only give absences, marks and enrolment files. For anything else: 0800 00 11 22 (free)."
)
HELP_TEXT = N_("Free hotline: 0800 00 11 22. By SMS: ABS, NOTES, INSCRIPTION, AR, FR.")

# Chat apps (WhatsApp, Telegram): what only a channel with buttons and attachments says
UNSUPPORTED_MESSAGE = N_(
    "I can only read text messages and the buttons I send. Please write your question."
)
SHARE_CONTACT = N_("To reach Massar, please share your phone number with the button below.")
SHARE_CONTACT_BUTTON = N_("Share my number")
OWN_CONTACT_ONLY = N_(
    "Only your own number can be used. Please share it with the button below,"
    " not a forwarded contact."
)
OPTIONS = N_("Options")
PICK_A_BUTTON = N_("Please choose one of the options.")
