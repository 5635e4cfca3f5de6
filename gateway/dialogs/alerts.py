"""The alerts menu: which alerts a phone gets, and how often (issue #26 item 4).

`ALERTES` / `تنبيهات` / `tanbihat` typed on any channel, or "Alerts" in the USSD and voice
main menus, opens it:

```
alerts ──1 at once / 2 daily / 3 weekly──> result: "Massar alerts: one summary a week, …"
       ──4 absences only / 5 marks only──> result (the rhythm stays as it was)
       ──6 stop─────────────────────────> result: as STOP
```
A rhythm (at once, daily, weekly) brings back every kind of alert; "absences only" and
"marks only" keep the rhythm and narrow the kinds, so "weekly, absences only" is 3 then 4.
Any choice but stop turns alerts back on. The choice is the phone's (the `Preferences`
port), confirmed in the conversation's language: the parent's, never the keyword's.

Where the sender id proves nothing (a caller ID on the hotline), the caller first proves a
child of the phone (Massar code and birth date) in this very call, as for any data: anyone
can show a caller ID, and a forged one must not stop a family's alerts.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from babel.dates import format_date

from gateway.dialogs import texts
from gateway.dialogs.conversation import Conversation, Intent, State
from gateway.dialogs.model import Event, Lang, Option, Reply
from gateway.dialogs.navigation import show
from gateway.dialogs.pages import fits, with_options
from gateway.preferences import AlertsSetting

__all__ = ["CHOICES", "choose", "open_alerts", "screen_alerts"]

PREFIX = "alert:"
# option id -> (key, label); the key is what a keypad types.
CHOICES = {
    "instant": ("1", texts.ALERTS_INSTANT),
    "daily": ("2", texts.ALERTS_DAILY),
    "weekly": ("3", texts.ALERTS_WEEKLY),
    "absence": ("4", texts.ALERTS_ABSENCES_ONLY),
    "marks": ("5", texts.ALERTS_MARKS_ONLY),
    "stop": ("6", texts.ALERTS_STOP),
}
RHYTHMS = ("instant", "daily", "weekly")
ONLY = {"absence": texts.ALERTS_ONLY_ABSENCES, "marks": texts.ALERTS_ONLY_MARKS}
_MONDAY = date(2026, 1, 5)  # any Monday: weekday names are read off the days after it


async def open_alerts(conv: Conversation) -> Reply:
    """The alerts menu; on a channel whose sender id proves nothing, a child of the phone
    checked in this session first (the check then opens the menu: `Intent.ALERTS`)."""
    if not conv.turn.profile.caller_id_trusted and not conv.data.get("verified"):
        found = await conv.lookup()
        if found is None or not found.students:
            return await show(conv, State.RESULT, lines=[conv.t.gettext(texts.NOT_REGISTERED)])
        conv.data["intent"] = Intent.ALERTS.value
        return await show(conv, State.BIND_CODE)
    return await show(conv, State.ALERTS)


async def screen_alerts(conv: Conversation) -> Reply:
    options = [
        Option(key=key, id=f"{PREFIX}{choice}", label=conv.t.gettext(label))
        for choice, (key, label) in CHOICES.items()
    ]
    return conv.reply(conv.t.gettext(texts.ALERTS_TITLE), [*options, conv.back_option()])


async def choose(conv: Conversation, pick: str) -> Reply:
    """Store the option `pick` (`alert:weekly`…) for the sender's phone and confirm it."""
    choice = pick.removeprefix(PREFIX)
    prefs, phone, now = conv.turn.preferences, conv.inbound.sender, conv.turn.now
    if choice not in CHOICES or prefs is None:
        return await show(conv, State.ALERTS)
    if not conv.turn.profile.caller_id_trusted and not conv.data.get("verified"):
        return await open_alerts(conv)  # never reached by the menu; a forged option id
    if choice == "stop":
        await prefs.opt_out(phone, now)
        conv.events.append(Event(kind="alerts_stopped"))
        return await confirmed(conv, conv.t.gettext(texts.ALERTS_STOPPED))
    if choice in RHYTHMS:
        setting = await prefs.choose_alerts(phone, rhythm=choice, at=now)
    else:
        setting = await prefs.choose_alerts(phone, kinds=frozenset({choice}), at=now)
    conv.events.append(Event(kind="alerts_chosen", data={"choice": choice}))
    return await confirmed(conv, confirmation(conv, setting))


async def confirmed(conv: Conversation, text: str) -> Reply:
    """The confirmation with "0. Menu" where both fit one screen; else alone, ending the
    session (an Arabic USSD screen), never cut."""
    if fits_with_menu(conv, text):
        return await show(conv, State.RESULT, lines=[text])
    conv.go(State.START)
    return conv.reply(text, end=True)


def fits_with_menu(conv: Conversation, text: str) -> bool:
    drawn = conv.fold(text)
    if conv.turn.profile.numbered_options:
        drawn = with_options(drawn, [conv.back_option()])
    return fits(conv.turn.profile, drawn)


def confirmation(conv: Conversation, setting: AlertsSetting) -> str:
    """What the phone will get now, in the conversation's language; how to change it when
    the channel's screen has room (USSD in Arabic has little)."""
    t, times = conv.t, setting.times
    if setting.rhythm == "weekly":
        day = _MONDAY + timedelta(days=times.weekday)
        weekday = format_date(day, "EEEE", locale="ar_MA" if conv.lang is Lang.AR else "fr_MA")
        at = t.time(datetime.combine(day, times.weekly))
        parts = [t.gettext(texts.ALERTS_NOW_WEEKLY, weekday=weekday, time=at)]
    elif setting.rhythm == "daily":
        at = t.time(datetime.combine(_MONDAY, times.daily))
        parts = [t.gettext(texts.ALERTS_NOW_DAILY, time=at)]
    else:
        parts = [t.gettext(texts.ALERTS_NOW_INSTANT)]
    only = [kind for kind in ("absence", "marks") if setting.kinds == frozenset({kind})]
    parts += [t.gettext(ONLY[kind]) for kind in only]
    text = " ".join(parts)
    if conv.turn.profile.spoken:
        return text  # a call has its menu; a message says the keyword
    longer = f"{text} {t.gettext(texts.ALERTS_HOW_TO_CHANGE)}"
    return longer if fits_with_menu(conv, longer) else text
