"""Sorts USSD answers by what they tell the caller: data, "the answer follows by SMS", busy.

`stale` is data too: a cached answer shown with the time it was fetched.

The texts come from the dialogs' own msgids (`gateway.dialogs.texts`) in every catalog, so the
benchmark follows the wording when it changes. A message joins a class by its constant's name
or its English text; with placeholders, its longest fixed fragment is matched.
"""

from __future__ import annotations

import re

from gateway.dialogs import texts
from gateway.i18n import LANGS, translator

# Which constants say what. Checked in this order; a constant in none of them is data.
CLASSES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("sms_later", re.compile(r"(^|_)(BY_SMS|SMS_LATER|FOLLOWS?|SEND_LATER)($|_)")),
    ("refused", re.compile(r"(^|_)(SHED|SHEDDING|OVERLOAD(ED)?|TOO_MANY|SLOW_DOWN)($|_)")),
    ("busy", re.compile(r"^BUSY$")),
    ("stale", re.compile(r"^(AS_OF|STALE.*)$")),  # cached data shown with its date: data
)
SMS_LATER_TEXT = re.compile(r"\bSMS\b.*\b(follow|send|sent|later|soon)", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"%\([a-z_]+\)s")


def _fragment(text: str) -> str:
    parts = [p.strip(" .:\n") for p in _PLACEHOLDER.split(text)]
    return max(parts, key=len)


class Classifier:
    def __init__(self) -> None:
        self.needles: list[tuple[str, str]] = []
        for name, value in vars(texts).items():
            if not name.isupper() or not isinstance(value, str) or name == "HELP_TEXT":
                continue
            kind = next((k for k, pattern in CLASSES if pattern.search(name)), None)
            if kind is None and SMS_LATER_TEXT.search(value):
                kind = "sms_later"
            if kind is None:
                continue
            for lang in LANGS:
                needle = _fragment(translator(lang).gettext(value))
                if len(needle) >= 8:
                    self.needles.append((kind, needle))
            self.needles.append((kind, _fragment(value)))

    def kind(self, status: int, body: bytes) -> str:
        """`data`, `stale`, `sms_later`, `busy`, `refused`, `error` (non-200), `timeout`."""
        if status == 0:
            return "timeout"
        if status != 200:
            return "error"
        text = body.decode("utf-8", "replace")
        for kind, needle in self.needles:
            if needle in text:
                return kind
        return "data"
