"""A turn's answer as Redis keeps it: the `Screen` it showed, so a repeat of the request gets
it again (`SessionStore.close_turn` stores the bytes, `open_turn` hands them back).

This is the only place a screen is written as bytes: the turn encodes it once when it closes
and decodes it only for a repeat; channels get the typed value either way. Compact JSON with
the defaults left out; the version `v` tells it from what older releases remembered:

    {"v":1,"t":"…","o":[["1","abs","Absences"],…],"e":1,"a":"code","l":"fr","c":"stu_…"}

Answers the release before this one remembered (for as long as they live: 180 s on USSD,
an hour on SMS, a day on chat apps) are read too, so a repeat that arrives across a deploy is
still answered: the USSD core's `[end, text, [[key, label], …]]`, the chat apps' and Kannel
SMS's `{"text", "options", "child"}`, and Twilio's TwiML `<Response><Message>`. A voice
call's TwiML cannot be read back: `decode_screen` gives None and the turn answers "busy".
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.sax.saxutils import unescape

from gateway.dialogs.model import Awaits, Lang, Option, Screen

__all__ = ["decode_screen", "encode_screen"]

VERSION = 1
# Twilio's `MessagingResponse` with one message, as the release before remembered it.
_TWIML_MESSAGE = re.compile(
    r'<\?xml version="1\.0" encoding="UTF-8"\?><Response><Message>([^<]*)</Message></Response>'
)


def encode_screen(screen: Screen) -> bytes:
    doc: dict[str, Any] = {"v": VERSION, "t": screen.text}
    if screen.options:
        doc["o"] = [[o.key, o.id, o.label] for o in screen.options]
    if screen.end:
        doc["e"] = 1
    if screen.awaits is not None:
        doc["a"] = screen.awaits.value
    if screen.lang is not None:
        doc["l"] = screen.lang.value
    if screen.child is not None:
        doc["c"] = screen.child
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def decode_screen(raw: bytes) -> Screen | None:
    """The screen `encode_screen` (or an older release) wrote; None when it cannot be read."""
    text = raw.decode("utf-8", errors="replace")
    if text.startswith("<"):
        message = _TWIML_MESSAGE.fullmatch(text)
        return Screen(text=unescape(message.group(1))) if message is not None else None
    try:
        doc = json.loads(text)
        if isinstance(doc, list):  # the USSD core's, before: [end, text, [[key, label], …]]
            end, shown, pairs = doc
            options = tuple(Option(key=str(k), id=str(k), label=str(v)) for k, v in pairs)
            return Screen(text=str(shown), options=options, end=bool(end))
        if "v" not in doc:  # the chat apps' and Kannel SMS's, before
            options = tuple(Option(key=k, id=i, label=label) for k, i, label in doc["options"])
            child = doc.get("child")
            return Screen(text=str(doc["text"]), options=options, child=_str(child))
        return Screen(
            text=str(doc["t"]),
            options=tuple(Option(key=k, id=i, label=label) for k, i, label in doc.get("o", ())),
            end=bool(doc.get("e", 0)),
            awaits=Awaits(doc["a"]) if "a" in doc else None,
            lang=Lang(doc["l"]) if "l" in doc else None,
            child=_str(doc.get("c")),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _str(value: object) -> str | None:
    return str(value) if value is not None else None
