"""WhatsApp message templates of alerts: what an alert becomes outside the 24-hour window.

Past 24 hours after a parent's last WhatsApp message, only a template the provider approved
beforehand may be sent (CHANNELS.md §2, §3). There is one template per alert kind, in Arabic
and French, with real text around its parameters (a template whose only content is a
variable is refused by Meta's review), in two levels of detail:

- `minimal`, the default (DOMAIN.md §6, `notify_detail=minimal`: WhatsApp is a foreign
  provider): no name, no day, no mark; only that there is news and the keyword that shows it.
  The details go out in answer to the parent, inside the window their reply opens.
- `full`, for a guardian who chose it (`AlertPreference.detail`): the child's first name and
  what changed, as parameters.

A daily digest (several children or kinds) has one minimal template only: a parameter may
not hold a line break. `python -m gateway whatsapp templates` prints every template as the
JSON of Meta's template-creation API (`definitions`); the senders refer to them by `name`,
language and parameters (`outbox.model.TemplateCall`), and Twilio's Content SIDs are set per
`TemplateCall.key` (`absence.fr`, `absence_full.ar`…: GATEWAY_TWILIO_WHATSAPP_CONTENT_SIDS).
Bodies are msgids (English) translated in gateway/locales; `{{1}}` is Meta's and Twilio's
placeholder, never Python's.
Docs: https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates,
https://www.twilio.com/docs/content/create-templates-with-the-content-template-builder
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from gateway.dialogs.answer_texts import STATUS_TEXTS
from gateway.i18n import LANGS, N_, translator
from gateway.outbox.model import TEMPLATE_PREFIX, TemplateCall
from gateway.text import script_of

__all__ = [
    "DETAILS",
    "TEMPLATES",
    "Template",
    "definitions",
    "render",
    "resend_template",
    "template_call",
]

DETAILS: Final = ("minimal", "full")
_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")


@dataclass(frozen=True, slots=True)
class Template:
    kind: str  # an alert kind, or "digest"
    detail: str  # "minimal" | "full"
    body: str  # msgid; {{1}}, {{2}}… are the parameters
    examples: tuple[str, ...] = ()  # msgids or literal examples, one per parameter

    @property
    def name(self) -> str:
        suffix = "_full" if self.detail == "full" else ""
        return f"{TEMPLATE_PREFIX}{self.kind}{suffix}"

    @property
    def params(self) -> int:
        return len(set(_PLACEHOLDER.findall(self.body)))

    def text(self, lang: str) -> str:
        return translator(lang).gettext(self.body)


ABSENCE_MINIMAL = N_(
    "Massar: there is new information about your child's absences. Reply ABS to read it."
)
MARKS_MINIMAL = N_("Massar: new marks were published for your child. Reply NOTES to read them.")
ENROLMENT_MINIMAL = N_(
    "Massar: there is news about your child's application. Reply INSCRIPTION to read it."
)
DIGEST_MINIMAL = N_("Massar: there is new information about your children. Reply MENU to see it.")
ABSENCE_FULL = N_("Massar: {{1}} was absent, unjustified: {{2}}. Reply ABS for the details.")
MARKS_FULL = N_("Massar: semester {{1}} marks were published for {{2}}. Reply NOTES to read them.")
ENROLMENT_FULL = N_("Massar: application {{1}} for {{2}}: {{3}}. Reply INSCRIPTION for details.")

NAME, DECISION = "<name>", "<decision>"  # examples drawn per language (`_example`)
EXAMPLE_NAMES: Final = {"fr": "Youssef", "ar": "يوسف"}

TEMPLATES: Final = {
    (t.kind, t.detail): t
    for t in (
        Template("absence", "minimal", ABSENCE_MINIMAL),
        Template("marks", "minimal", MARKS_MINIMAL),
        Template("enrolment", "minimal", ENROLMENT_MINIMAL),
        Template("digest", "minimal", DIGEST_MINIMAL),
        Template("absence", "full", ABSENCE_FULL, (NAME, "07/12 08:30-10:30")),
        Template("marks", "full", MARKS_FULL, ("1", NAME)),
        Template("enrolment", "full", ENROLMENT_FULL, ("PRE-2026-0001234", NAME, DECISION)),
    )
}


BY_NAME: Final = {t.name: t for t in TEMPLATES.values()}


def render(call: TemplateCall) -> str:
    """What the parent reads when `call` is sent: its text with the parameters in place
    (the sink records it so, for the simulator and tests)."""
    template = BY_NAME.get(call.name)
    if template is None:
        return call.label
    params = call.params

    def fill(found: re.Match[str]) -> str:
        index = int(found.group(1)) - 1
        return params[index] if index < len(params) else found.group(0)

    return _PLACEHOLDER.sub(fill, template.text(call.lang))


def _template(kind: str, detail: str) -> Template:
    """The template of `kind` in `detail`; a kind without its own (one added later) goes as
    the digest's, which says only that there is news."""
    found = TEMPLATES.get((kind, detail)) or TEMPLATES.get((kind, "minimal"))
    return found if found is not None else TEMPLATES[("digest", "minimal")]


def resend_template(label: str | None, text: str) -> TemplateCall:
    """The template of an alert an operator sends again (the console), from its record: the
    minimal one of the template it went out as (its parameters are not kept), or the
    digest's when it went as text; in the language of that template, or of `text`."""
    name, _, lang = (label or "").rpartition(".")
    template = BY_NAME.get(name)
    kind = template.kind if template is not None else "digest"
    if lang not in LANGS:
        lang = "fr" if script_of(text) == "fr" else "ar"
    return TemplateCall(name=_template(kind, "minimal").name, lang=lang)


def template_call(
    kind: str, items: Sequence[Mapping[str, Any]], lang: str, *, detail: str = "minimal"
) -> TemplateCall:
    """The template an alert about one child becomes (`items`: its payloads, as
    `texts.compose` takes them; `kind` "digest" for a daily digest), in `lang`."""
    template = _template(kind, detail)
    if template.detail == "minimal" or template.kind != kind:
        return TemplateCall(name=template.name, lang=lang)
    last = items[-1]
    name = str(last.get(f"name_{lang}") or last.get("name_fr") or last.get("name_ar") or "-")
    t = translator(lang)
    if kind == "absence":
        params: tuple[str, ...] = (name, _when(items, lang))
    elif kind == "marks":
        params = (str(last.get("semester") or "-"), name)
    else:
        status = STATUS_TEXTS.get(str(last.get("to")))
        decision = t.gettext(status) if status is not None else "-"
        params = (str(last.get("number") or "-"), name, decision)
    return TemplateCall(name=template.name, lang=lang, params=tuple(map(_param, params)))


def _when(items: Sequence[Mapping[str, Any]], lang: str) -> str:
    """The days and hours of one child's absences: `07/12 08:30-10:30, 08/12 (2 h)`."""
    t = translator(lang)
    parts = []
    for item in items:
        day = t.day(date.fromisoformat(str(item["date"])))
        if item.get("start_time") and item.get("end_time"):
            parts.append(f"{day} {item['start_time']}-{item['end_time']}")
        elif item.get("hours") is not None:
            parts.append(f"{day} ({t.number(item['hours'])} h)")
        else:
            parts.append(day)
    return ", ".join(parts)


def _param(value: str) -> str:
    """Meta refuses a parameter with a line break, a tab or more than 4 spaces in a row."""
    return " ".join(value.split()) or "-"


def definitions() -> list[dict[str, Any]]:
    """Every template × language as the body of Meta's template-creation API
    (`POST /<WABA id>/message_templates`)."""
    out: list[dict[str, Any]] = []
    for template in TEMPLATES.values():
        for lang in LANGS:
            body: dict[str, Any] = {"type": "BODY", "text": template.text(lang)}
            if template.params:
                examples = [_example(template, i, lang) for i in range(template.params)]
                body["example"] = {"body_text": [examples]}
            out.append(
                {
                    "name": template.name,
                    "language": lang,
                    "category": "UTILITY",
                    "components": [body],
                }
            )
    return out


def _example(template: Template, index: int, lang: str) -> str:
    example = template.examples[index]
    if example == NAME:
        return EXAMPLE_NAMES[lang]
    if example == DECISION:
        return translator(lang).gettext(STATUS_TEXTS["approved"])
    return example
