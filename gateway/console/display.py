"""How console pages show values (issue 22): small Jinja filters, so no page prints a raw
status, kind, channel, breaker state, number or time.

- words an agent reads (a status, a kind, a channel, a breaker state, an audit action, a
  language) go through the catalogs (ar, fr), like every other text of the console;
- numbers, hours and times go through babel, in the page's language, and times in Morocco's
  time zone (Africa/Casablanca);
- numbers, times and phones are isolated left to right (`<bdi dir="ltr">`) so an Arabic page
  never draws them reversed;
- dates typed by agents are asked as JJMMAAAA / يوم شهر سنة, as the dialogs ask for them.

`web.py` registers `FILTERS` where the console's Jinja environment is built. Filters read the
page's language from the template context (`lang`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from gateway.dialogs.masking import mask
from gateway.i18n import N_, translator

__all__ = ["FILTERS", "LABELS"]

LOCAL_TZ = ZoneInfo("Africa/Casablanca")
_LOCALES = {"ar": "ar_MA", "fr": "fr_MA"}

# Every raw value a page may hold, by what it is, with the words shown for it.
LABELS: dict[str, dict[str, str]] = {
    "status": {
        "unjustified": N_("unjustified"),
        "justified": N_("justified"),
        "rejected": N_("excuse refused"),
        "queued": N_("queued"),
        "sent": N_("sent"),
        "delivered": N_("delivered"),
        "read": N_("read"),
        "failed": N_("failed"),
        "undelivered": N_("undelivered"),
        "dead": N_("given up"),
    },
    "kind": {
        "absence": N_("absence"),
        "late": N_("late arrival"),
        "reply": N_("reply"),
        "followup": N_("answer by SMS"),
        "alert": N_("alert"),
    },
    "channel": {
        "ussd": N_("USSD"),
        "sms": N_("SMS"),
        "whatsapp": N_("WhatsApp"),
        "telegram": N_("Telegram"),
        "voice": N_("Voice"),
        "whatsapp-meta": N_("WhatsApp (Meta)"),
    },
    "breaker": {
        "closed": N_("closed (Massar answers)"),
        "open": N_("open (Massar is not called)"),
        "half_open": N_("half-open (trying Massar again)"),
        "unknown": N_("unknown"),
    },
    "backlog": {
        "interactive": N_("replies"),
        "followup": N_("answers by SMS"),
        "bulk": N_("alerts"),
        "delayed": N_("waiting to retry"),
    },
    "action": {
        "clear_lockout": N_("cleared a lockout"),
        "revoke_binding": N_("revoked a binding"),
        "opt_out": N_("opted a number out of alerts"),
        "opt_in": N_("opted a number back in to alerts"),
        "resend_alert": N_("re-sent an alert"),
        "helpdesk_take": N_("took a helpdesk message"),
        "helpdesk_answer": N_("answered a helpdesk message"),
        "lookup": N_("looked a number up"),
        "signin": N_("signed in"),
        "signout": N_("signed out"),
        "signin_failed": N_("failed sign-in"),
        "signin_locked": N_("sign-in refused: too many tries"),
        "signin_slow": N_("sign-in slowed down"),
        "signin_disabled": N_("sign-in refused: operator disabled"),
        "signin_demo_refused": N_("sign-in refused: demo account"),
        "signin_totp_failed": N_("wrong second-factor code"),
        "signin_totp_reused": N_("second-factor code used twice"),
        "signin_totp_locked": N_("second factor refused: too many wrong codes"),
        "signin_totp_unreadable": N_("second factor unreadable: enrol it again"),
        "totp_enrolled": N_("enrolled a second factor"),
        "verify_child": N_("checked a child's code and birth date"),
        "reveal_child": N_("saw a child's data after the check"),
        "forget_number": N_("forgot a number"),
        "simulator_refused": N_("simulator refused a number"),
        "admin_messages": N_("read the messages of a number (admin API)"),
        "audit_suppressed": N_("audit lines held back"),
        "operator_add": N_("added an operator"),
        "operator_disable": N_("disabled an operator"),
        "operator_enable": N_("enabled an operator"),
        "operator_reset_password": N_("reset an operator's password"),
        "operator_reset_totp": N_("reset an operator's second factor"),
    },
    "lang": {"ar": N_("Arabic"), "fr": N_("French")},
}


def _lang(ctx: Context) -> str:
    lang = ctx.get("lang", "ar")
    return lang if lang in _LOCALES else "ar"


def ltr(text: object) -> Markup:
    """Left-to-right inside any page: numbers and phones never drawn reversed."""
    return Markup('<bdi dir="ltr">%s</bdi>') % escape(str(text))


def _label(kind: str) -> Any:
    @pass_context
    def label(ctx: Context, value: object) -> str:
        if value is None or value == "":
            return ""
        raw = getattr(value, "value", value)  # an enum, or its value
        msgid = LABELS[kind].get(str(raw))
        if msgid is None:
            return translator(_lang(ctx)).gettext(LABELS["breaker"]["unknown"])
        return translator(_lang(ctx)).gettext(msgid)

    return label


@pass_context
def number(ctx: Context, value: float | int | None, digits: int = 2) -> Markup | str:
    """14.5 -> '14,5' (both locales: a decimal comma), isolated left to right."""
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return ltr(format_decimal(value, format=pattern, locale=_LOCALES[_lang(ctx)]))


@pass_context
def hours(ctx: Context, value: float | None) -> Markup | str:
    """3.0 -> '3 h' / '3 س'."""
    if value is None:
        return "—"
    # The catalog's pattern escaped, the number (already markup) put in it.
    return escape(translator(_lang(ctx)).gettext(N_("%(n)s h"))) % {"n": number(ctx, value)}


@pass_context
def when(ctx: Context, value: datetime | None, form: str = "short") -> Markup | str:
    """A time in Morocco, as the page's language writes it: '07/12/2026 16:44'."""
    if value is None:
        return "—"
    local = value.astimezone(LOCAL_TZ) if value.tzinfo else value
    pattern = "dd/MM/yyyy HH:mm" if form == "short" else "dd/MM/yyyy HH:mm:ss"
    return ltr(format_datetime(local, pattern, locale=_LOCALES[_lang(ctx)]))


@pass_context
def day(ctx: Context, value: date | datetime | None) -> Markup | str:
    """A day as the page's language writes it: '07/12/2026' (a time is taken in Morocco)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(LOCAL_TZ) if value.tzinfo else value
    return ltr(format_date(value, "dd/MM/yyyy", locale=_LOCALES[_lang(ctx)]))


@pass_context
def ms(ctx: Context, seconds: float | None) -> Markup | str:
    """0.0123 s -> '12 ms'."""
    if seconds is None:
        return "—"
    pattern = escape(translator(_lang(ctx)).gettext(N_("%(n)s ms")))
    return pattern % {"n": number(ctx, seconds * 1000, 0)}


@pass_context
def percent(ctx: Context, share: float | None) -> Markup | str:
    if share is None:
        return "—"
    return ltr(f"{format_decimal(share * 100, format='#,##0', locale=_LOCALES[_lang(ctx)])} %")


FILTERS: dict[str, Any] = {
    "status_label": _label("status"),
    "kind_label": _label("kind"),
    "channel_label": _label("channel"),
    "breaker_label": _label("breaker"),
    "backlog_label": _label("backlog"),
    "action_label": _label("action"),
    "lang_label": _label("lang"),
    "number": number,
    "hours": hours,
    "when": when,
    "day": day,
    "ms": ms,
    "percent": percent,
    "ltr": ltr,
    # a parent's words as any agent may read them: no digits (codes, dates, phones), no names
    "masked": mask,
}
