"""Opaque public ids (`stu_…`, `gdn_…`) and the number plans for codes, phones and applications.

Rows keep small integer keys; the API shows them only through a reversible 50-bit permutation
rendered in Crockford base32, so ids look random, carry no Massar code and decode without a lookup.
"""

from __future__ import annotations

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {c: i for i, c in enumerate(_ALPHABET)}
_BITS = 50
_MASK = (1 << _BITS) - 1
_MUL = 0x2F0B_3C5A_E9D1 | 1
_MUL_INV = pow(_MUL, -1, 1 << _BITS)
_SALT = {"stu": 0x1A2B3C4D5E, "gdn": 0x2B3C4D5E6F, "abs": 0x3C4D5E6F70, "app": 0x4D5E6F7081}


def encode(prefix: str, n: int) -> str:
    """`encode("stu", 42)` -> `stu_…` (10 base32 characters)."""
    x = ((n ^ _SALT[prefix]) * _MUL) & _MASK
    chars = []
    for _ in range(10):
        chars.append(_ALPHABET[x & 31])
        x >>= 5
    return prefix + "_" + "".join(reversed(chars))


def decode(prefix: str, public_id: str) -> int | None:
    """The integer key behind a public id, or None when it is not one of ours."""
    if not public_id.startswith(prefix + "_") or len(public_id) != len(prefix) + 11:
        return None
    x = 0
    for c in public_id[len(prefix) + 1 :]:
        v = _DECODE.get(c)
        if v is None:
            return None
        x = (x << 5) | v
    n = ((x * _MUL_INV) & _MASK) ^ _SALT[prefix]
    return n if 0 < n < (1 << 40) else None


def _affine(i: int, size: int, mul: int, add: int) -> int:
    return (i * mul + add) % size


# Massar codes: Z99 + 7 digits; 0000000-0000999 are reserved for the demo accounts.
_CODE_SPACE = 10_000_000 - 1000


def massar_code(student_id: int) -> str:
    """The synthetic Massar code of a random (non-demo) student, unique per id."""
    return f"Z99{1000 + _affine(student_id, _CODE_SPACE, 7_654_321, 1_234_567):07d}"


# Phones: +212 6|7, a 3-digit block, then 5 digits in 01000-99999 (00000-00999 of block 000 are
# reserved for demo phones). Phone k alternates between the 6 and 7 ranges.
_PHONE_BLOCK = 100_000 - 1000


def phone_e164(k: int) -> str:
    """The E.164 number of random phone number k (unique per k)."""
    prefix = "6" if k % 2 == 0 else "7"
    m = k // 2
    block, inner = divmod(m, _PHONE_BLOCK)
    last5 = 1000 + _affine(inner, _PHONE_BLOCK, 37_201, 4_157 + 51_131 * (k % 2))
    return f"+212{prefix}{block:03d}{last5:05d}"


def application_number(prefix: str, n: int) -> str:
    """`PRE-2026-0123456`; numbers 0000000-0000999 are reserved for the demo applications."""
    return f"{prefix}-{1000 + _affine(n, _CODE_SPACE, 3_456_791, 765_431):07d}"
