"""Phone numbers: every channel identity becomes E.164 once, in the adapter (region MA)."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from gateway.text import ascii_digits

_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


# Every screen of a USSD session and every SMS of a conversation names the same phone again:
# parsing it is most of an adapter's own CPU (phonenumbers is pure Python), so the answers
# for the phones seen lately are kept. Bounded, in this process's memory only.
@lru_cache(maxsize=16384)
def to_e164(raw: str, region: str = "MA") -> str | None:
    """`raw` (0612345678, 00212…, 212…, whatsapp:+212…, Arabic digits) as E.164, or None."""
    text = ascii_digits(raw.strip())
    for prefix in ("whatsapp:", "tel:", "sip:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("212") or (not text.startswith(("+", "0")) and len(digits) > 10):
        text = "+" + digits  # Meta's wa_id and Telegram contacts come without the +
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(e164: str) -> bool:
    """True for a number that can receive SMS (Moroccan 06/07 mobiles, foreign mobiles)."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return False
    return phonenumbers.number_type(number) in _MOBILE_TYPES
