"""Redis key names of a user's conversation state: one Redis Cluster hash tag per user.

A user is a keyed hash of who they are on the channels (the E.164 phone), so one phone's
sessions, locks and remembered answers on every channel, its rate limit and its cached
guardian lookup all share the tag `{<user hmac>}`, hence one cluster slot: a turn's scripts
may touch any of them at once (`gateway.store`). The layout is drawn in `gateway.store`.
"""

from __future__ import annotations

import hashlib
import hmac

from gateway.dialogs.model import ChannelKind

__all__ = ["Keys"]

_MEMO_SIZE = 16384  # hashes kept per Keys; all are dropped at once when it fills


class Keys:
    """Key names for one deployment: `<prefix>:{<user hmac>}:<channel>:<what>`.

    The user part is the first 32 hex characters of HMAC-SHA256(key_secret, user); its first
    12 are the `phone_h` of the logs (`gateway.logs.phone_hash`), so an operator can find a
    caller's keys from a log line, and nobody can find them from a phone number alone.
    """

    def __init__(self, key_secret: bytes, *, prefix: str = "mg") -> None:
        if not key_secret:
            raise ValueError("key_secret must not be empty")
        self._secret = key_secret
        self.prefix = prefix
        # A turn names the same user's keys a dozen times: each hash is computed once.
        self._digests: dict[str, str] = {}

    def digest(self, value: str, *, label: str = "") -> str:
        """A keyed hash of `value` (128 bits, hex); `label` separates kinds of values."""
        material = label + value
        found = self._digests.get(material)
        if found is None:
            if len(self._digests) >= _MEMO_SIZE:
                self._digests.clear()
            found = hmac.new(self._secret, material.encode(), hashlib.sha256).hexdigest()[:32]
            self._digests[material] = found
        return found

    def user_tag(self, user: str) -> str:
        """The hash tag shared by every key of one user, on every channel."""
        return "{" + self.digest(user) + "}"

    def session(self, channel: ChannelKind, user: str) -> str:
        return f"{self.prefix}:{self.user_tag(user)}:{channel.value}:session"

    def lock(self, channel: ChannelKind, user: str) -> str:
        return f"{self.prefix}:{self.user_tag(user)}:{channel.value}:lock"

    def seen_digest(self, message_id: str) -> str:
        """The keyed hash naming a provider message id (ids can carry the USSD text path)."""
        return self.digest(message_id, label="seen\0")

    def seen(self, channel: ChannelKind, user: str, message_id: str) -> str:
        tag = self.user_tag(user)
        return f"{self.prefix}:{tag}:{channel.value}:seen:{self.seen_digest(message_id)}"

    def lang(self, user: str) -> str:
        """The language the user chose with AR/FR, remembered from SQL (`gateway.langs`)."""
        return f"{self.prefix}:{self.user_tag(user)}:lang"

    def turns(self, user: str) -> str:
        """The user's recent turns on every channel (the rate limit's sorted set)."""
        return f"{self.prefix}:{self.user_tag(user)}:turns"
