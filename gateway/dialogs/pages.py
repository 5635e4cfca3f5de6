"""Fitting content into a channel's reply budget: pages, option lines, GSM-7 folding."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.dialogs.model import ChannelProfile, Option
from gateway.text import is_gsm7, screen_length

# Letters French uses that GSM-7 lacks, folded to their nearest GSM-7 letter so one accent does
# not turn a 160-character SMS into a 70-character one (CHANNELS.md §8). Only these: é, è, à,
# ù, É and Ç are GSM 03.38 letters and stay; chat apps and voice fold nothing.
_GSM_FOLD = str.maketrans(
    {
        "ç": "c",
        "â": "a",
        "ê": "e",
        "î": "i",
        "ô": "o",
        "û": "u",
        "ë": "e",
        "ï": "i",
        "À": "A",
        "Â": "A",
        "È": "E",
        "Ê": "E",
        "Î": "I",
        "Ô": "O",
        "Ù": "U",
        "Û": "U",
        "œ": "oe",
        "Œ": "OE",
        "’": "'",
        "«": '"',
        "»": '"',
        "\u00a0": " ",
        "\u202f": " ",
        "…": "...",
    }
)


def gsm_fold(text: str) -> str:
    """French text in GSM-7 letters where a close one exists (Arabic is left alone)."""
    return text.translate(_GSM_FOLD)


def render_options(options: Sequence[Option]) -> str:
    """Options as numbered lines: "1. Absences\n0. Back" (what SMS, USSD and voice show)."""
    return "\n".join(f"{opt.key}. {opt.label}" for opt in options)


def with_options(text: str, options: Sequence[Option]) -> str:
    """The whole screen as numbered-option channels show it."""
    return f"{text}\n{render_options(options)}" if options else text


def budget_for(profile: ChannelProfile, text: str) -> int:
    return profile.max_chars_gsm7 if is_gsm7(text) else profile.max_chars_ucs2


def fits(profile: ChannelProfile, text: str) -> bool:
    return screen_length(text) <= budget_for(profile, text)


def shorten(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters at a word boundary, marking the cut with '..'."""
    if screen_length(text) <= limit:
        return text
    words = text.split(" ")
    out = ""
    for word in words:
        candidate = f"{out} {word}" if out else word
        if screen_length(candidate + "..") > limit:
            break
        out = candidate
    return (out or text[: max(1, limit - 2)]) + ".."


def paginate(
    lines: Sequence[str],
    *,
    profile: ChannelProfile,
    reserve: str,
    header: str = "",
    footer: str = "",
    reserve_last: str | None = None,
) -> list[str]:
    """Group `lines` into pages that fit the budget once `reserve` (option lines) is added.

    The header opens the first page and the footer closes the last; a line is never split
    unless it alone is longer than a page, and then it is cut at a word. `reserve_last` is
    what the last page shows instead ("0. Menu" without "9. More"): the footer may use the
    room that leaves.
    """
    pages: list[str] = []
    current: list[str] = [header] if header else []

    def text_of(parts: list[str]) -> str:
        return "\n".join(p for p in parts if p)

    def room(parts: list[str]) -> bool:
        body = text_of(parts)
        return fits(profile, f"{body}\n{reserve}" if reserve else body)

    for line in lines:
        if room([*current, line]):
            current.append(line)
            continue
        if any(current):
            pages.append(text_of(current))
        current = [line]
        if not room(current):
            limit = budget_for(profile, line + reserve) - screen_length(reserve) - 1
            current = [shorten(line, max(10, limit))]
    if footer:
        last = reserve if reserve_last is None else reserve_last
        body = text_of([*current, footer])
        if fits(profile, f"{body}\n{last}" if last else body):
            current.append(footer)
        else:
            pages.append(text_of(current))
            current = [footer]
    if any(current) or not pages:
        pages.append(text_of(current))
    return pages
