"""The end of a provider's session, kept beside the user's conversation so that an answer
arriving after it gets a clean end instead of a turn (USSD providers that say what a request
is: `gateway.state.ussd.EndedSessions` names the key).

A turn handles it inside its own two round trips (`SessionStore.open_turn`, `close_turn`):
the first forgets an earlier end when the request opens the provider session, or answers
`Outcome.ENDED` when the session ended on another request; the second keeps the end when the
turn's answer ends the session. The value is JSON, as it always was:

    {"m": "<digest of the request that ended it>", "l": "ar" | "fr" | null}

Its repeat (same digest) is not refused: it gets its remembered answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["SessionEnd", "end_doc", "end_lang"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionEnd:
    """One request's view of its provider session's end."""

    key: str  # where the end is kept: a key of the user's hash tag
    mark: str  # this request's digest: kept as the end's `m`, compared with it
    opens: bool  # the request opens the provider session: an earlier end is forgotten
    ttl_s: int  # how long an end is kept (as long as such a session lives)


def end_doc(end: SessionEnd, lang: str | None) -> str:
    """The value that keeps `end`, said in `lang`."""
    return json.dumps({"m": end.mark, "l": lang})


def end_lang(raw: bytes | str | None) -> str:
    """The language a kept end was said in ("ar" when it does not say or cannot be read)."""
    try:
        doc = json.loads(raw) if raw is not None else None
    except ValueError:
        return "ar"
    lang = doc.get("l") if isinstance(doc, dict) else None
    return lang if lang in ("ar", "fr") else "ar"
