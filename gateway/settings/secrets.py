"""How strong a secret must be in production (issue #21, the item-12 finding).

A secret the deployment chooses itself (admin tokens, the identity key, the tokens in
Kannel's and the aggregators' URLs, Telegram's webhook secret…) needs at least 128 bits by
a conservative estimate; a token a provider issues (Twilio's, Meta's, Telegram's bot token,
the backend's) is only refused when it is missing, a demo value or a documented example.
`python -m gateway secret` prints one that passes (`secrets.token_urlsafe(32)`, 256 bits).

The estimate: each character is worth log2 of the alphabet its classes span (lower case,
upper case, digits, others), except one that repeats or continues a run of its neighbour
("aaaa", "1234", "dcba"), worth one bit; a value that is a shorter unit repeated is worth that
unit. So `aaaaaaaaaaaaaaaa` is ~20 bits and `0123456789abcdef` ~24, while 43 random URL-safe
characters are ~250. It overrates words (`correcthorsebatterystaple…`): a floor, not a proof.
"""

from __future__ import annotations

import itertools
import math
import secrets
import string

MIN_BITS = 128
COMMAND = "python -m gateway secret"

# Chosen by the deployment: the length and entropy rule applies.
SELF_CHOSEN = frozenset(
    {
        "admin_token",
        "identity_key",
        "at_ussd_token",
        "kannel_callback_token",
        "kannel_sendsms_password",
        "meta_verify_token",
        "telegram_webhook_secret",
        "ussd_orange_token",
        "metrics_token",
    }
)

# Example values from providers' documentation, refused like the demo's own.
KNOWN_EXAMPLES = frozenset(
    {
        "your_auth_token",
        "12345",
        "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11",  # Telegram's Bot API docs
        "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",  # Telegram's Bot API tutorial
        "CHANGE_ME",
        "changeme",
        "secret",
        "password",
    }
)

_CLASSES = (
    (string.ascii_lowercase, 26),
    (string.ascii_uppercase, 26),
    (string.digits, 10),
)
_OTHERS = 33  # printable ASCII punctuation and the space


def estimated_bits(value: str) -> float:
    """A conservative estimate of the bits of `value` (see the module's note)."""
    unit = _shortest_unit(value)
    if not unit:
        return 0.0
    alphabet = sum(size for chars, size in _CLASSES if any(c in chars for c in unit))
    if any(not any(c in chars for chars, _ in _CLASSES) for c in unit):
        alphabet += _OTHERS
    per_char = math.log2(max(alphabet, 2))
    bits = per_char
    for before, ch in itertools.pairwise(unit):
        bits += 1.0 if abs(ord(ch) - ord(before)) <= 1 else per_char
    return bits


def _shortest_unit(value: str) -> str:
    """The shortest string whose repetition makes `value` ("abcabcab" -> "abc")."""
    for size in range(1, len(value) // 2 + 1):
        unit = value[:size]
        if (unit * (len(value) // size + 1))[: len(value)] == value:
            return unit
    return value


def weakness(name: str, value: str) -> str | None:
    """Why production refuses `value` for the setting `name` beyond the demo values; None
    when it may be used. Only self-chosen secrets are measured."""
    variable = f"GATEWAY_{name.upper()}"
    if value in KNOWN_EXAMPLES:
        return f"{variable} holds a documented example value"
    if name in SELF_CHOSEN:
        bits = estimated_bits(value)
        if bits < MIN_BITS:
            return (
                f"{variable} is too weak (about {bits:.0f} bits, {MIN_BITS} needed): "
                f"make one with `{COMMAND}`"
            )
    return None


def new_secret() -> str:
    """A fresh secret that passes: 32 random bytes, URL-safe (letters, digits, - and _)."""
    return secrets.token_urlsafe(32)
