"""The identity keys, oldest first, and the hash chain that lets the newest one be rotated in.

Every hash that stands for a phone, a chat or a code is a chain over the keys:

    h1 = HMAC(k1, value)            h2 = HMAC(k2, "rekey\\0" + h1)     ...     hn (stored)

With one key the chain is the plain HMAC the gateway always used, so no key string, no
stored hash and no log hash changes until a second key is configured. On rotation
(`GATEWAY_IDENTITY_KEY` = the new key, `GATEWAY_IDENTITY_KEY_PREVIOUS` = the earlier ones,
oldest first) a stored hash moves one link up, `HMAC(k_new, "rekey\\0" + stored)`, without
the phone it stands for: `python -m gateway rekey` does that to every row
(`gateway/state/rekey.py`). A key leaked alone, old or new, hashes no phone to a stored value:
that needs every key of the chain.

`read_from` is the oldest generation rows may still be under (the registry, gateway/state/
identity.py, knows when a rekey finished); lookups read under every generation from it to
the newest. `carry`: Redis keys named under the previous generation (lockouts) are still
read and counted, for a while after a rotation. Nothing here touches a driver.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

__all__ = ["REKEY_LABEL", "KeyRing"]

REKEY_LABEL = b"rekey\0"
_FINGERPRINT_LABEL = b"massar-gateway identity key fingerprint\0"
_REDIS_CHARS = 32  # `Keys.digest`: 128 bits


def _step(key: bytes, previous: bytes) -> hmac.HMAC:
    return hmac.new(key, REKEY_LABEL + previous, hashlib.sha256)


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The identity keys of a deployment, oldest first: the last is the current one."""

    keys: tuple[bytes, ...]
    read_from: int = 0  # 0: the current generation only
    carry: bool = False  # read Redis lockouts under the previous generation too

    def __post_init__(self) -> None:
        if not self.keys or not all(self.keys):
            raise ValueError("key_secret must not be empty")
        if len(set(self.keys)) != len(self.keys):
            raise ValueError("an identity key appears twice in the chain")

    @classmethod
    def of(cls, secret: bytes | KeyRing) -> KeyRing:
        """`secret` as a ring (a lone key: a ring of one, as every store took before)."""
        return secret if isinstance(secret, KeyRing) else cls((secret,))

    @property
    def gen(self) -> int:
        """The current generation: how many keys the chain has."""
        return len(self.keys)

    @property
    def root(self) -> bytes:
        """The first key (the outbox's namespace and markers stay under it: see docs)."""
        return self.keys[0]

    @property
    def previous(self) -> KeyRing | None:
        """The ring before the last rotation, or None for a ring of one."""
        return KeyRing(self.keys[:-1]) if len(self.keys) > 1 else None

    def generations(self) -> range:
        """The generations a lookup reads, oldest first."""
        start = self.read_from if 0 < self.read_from < self.gen else self.gen
        return range(start, self.gen + 1)

    # --- SQL: full 256-bit hex chains ----------------------------------------------------

    def address_h(self, value: str) -> str:
        """The stored form of `value` under the current generation."""
        return self.address_hs(value)[0]

    def address_hs(self, value: str) -> list[str]:
        """The stored forms of `value` a lookup reads: the current generation's first."""
        wanted = set(self.generations())
        out: list[str] = []
        h = hmac.new(self.keys[0], value.encode(), hashlib.sha256).hexdigest()
        for gen in range(1, self.gen + 1):
            if gen > 1:
                h = _step(self.keys[gen - 1], h.encode()).hexdigest()
            if gen in wanted:
                out.append(h)
        return out[::-1]

    def advance(self, stored: str, from_gen: int) -> str:
        """A hash stored under generation `from_gen`, moved to the current one (rekey)."""
        if not 1 <= from_gen <= self.gen:
            raise ValueError(f"no identity key generation {from_gen} in a chain of {self.gen}")
        h = stored
        for key in self.keys[from_gen:]:
            h = _step(key, h.encode()).hexdigest()
        return h

    # --- Redis key names: 128-bit chains -------------------------------------------------

    def digest(self, material: str) -> str:
        """`Keys.digest`: 32 hex characters, each link truncated alike."""
        d = hmac.new(self.keys[0], material.encode(), hashlib.sha256).hexdigest()[:_REDIS_CHARS]
        for key in self.keys[1:]:
            d = _step(key, d.encode()).hexdigest()[:_REDIS_CHARS]
        return d

    # --- derived keys (seals): raw 256-bit chains ----------------------------------------

    def derive(self, material: bytes, gen: int | None = None) -> bytes:
        """A key for `material` (a seal's purpose and owner) at generation `gen` (current)."""
        upto = self.gen if gen is None else gen
        raw = hmac.new(self.keys[0], material, hashlib.sha256).digest()
        for key in self.keys[1:upto]:
            raw = _step(key, raw).digest()
        return raw

    def fingerprint(self, gen: int) -> str:
        """What the registry keeps of key `gen`: an HMAC of a constant, never the key."""
        return hmac.new(self.keys[gen - 1], _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:32]
