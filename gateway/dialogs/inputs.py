"""Reading what users type besides words (`intents.py`): Massar codes, application numbers,
birth dates, and which language a message is written in. Pure functions, no state."""

from __future__ import annotations

import re
from datetime import date

from gateway.dialogs.intents import understand
from gateway.text import normalise, script_of

_MASSAR_CODE = re.compile(r"^([a-z]?)([0-9]{9})$")
_APPLICATION = re.compile(r"^(?:pre)?-?([0-9]{4})-?([0-9]{7})$")
_DOB = re.compile(r"^([0-9]{2})[/.\- ]?([0-9]{2})[/.\- ]?([0-9]{4})$")


def parse_massar_code(norm: str) -> str | None:
    """'z990000001' -> 'Z990000001'; nine digits alone are kept (keypads have no letters)."""
    match = _MASSAR_CODE.match(norm.replace(" ", ""))
    return (match.group(1).upper() + match.group(2)) if match else None


def code_fits_mask(code: str, masked: str) -> bool | None:
    """Whether a typed Massar code (or its nine digits, from a keypad) can be the one the
    backend shows masked ("Z99****123"); None when the mask is not one this reads."""
    masked = masked.strip().upper()
    hidden = [not ch.isascii() or not ch.isalnum() for ch in masked]
    if len(masked) != 10 or not any(hidden) or all(hidden):
        return None
    if len(code) == 9:
        masked, hidden = masked[1:], hidden[1:]
    if len(code) != len(masked):
        return None
    return all(h or m == c for m, h, c in zip(masked, hidden, code.upper(), strict=True))


def parse_application_number(norm: str) -> str | None:
    """'pre-2026-0000001', 'PRE20260000001' or '20260000001' -> 'PRE-2026-0000001'."""
    match = _APPLICATION.match(norm.replace(" ", ""))
    return f"PRE-{match.group(1)}-{match.group(2)}" if match else None


def parse_birth_date(norm: str) -> date | None:
    """DDMMYYYY, with or without separators; None for an impossible date."""
    match = _DOB.match(norm.strip())
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def application_command(norm: str, pair: tuple[str, str] | None) -> str | None:
    """An application number typed as a command must say `PRE` (digits alone are a menu key)."""
    for candidate in (norm, pair[0] if pair else ""):
        if candidate.startswith("pre"):
            number = parse_application_number(candidate)
            if number is not None:
                return number
    return None


def language_hint(text: str) -> str | None:
    """The language to answer `text` in, from its words (codes and numbers do not count):
    Arabic script is Arabic, and so is Darija in Latin letters ("no9at dyal weldi")."""
    reading = understand(text)
    if reading.lang is not None:
        return reading.lang
    words = [w for w in text.split() if sum(ch.isalpha() for ch in w) >= 2]
    words = [w for w in words if parse_massar_code(normalise(w)) is None]
    words = [w for w in words if not normalise(w).startswith("pre-")]
    return script_of(" ".join(words)) if words else None


def split_pair(norm: str) -> tuple[str, str] | None:
    parts = norm.split()
    return (parts[0], " ".join(parts[1:])) if len(parts) >= 2 else None
