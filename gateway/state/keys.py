"""Redis key names: one Redis Cluster hash tag per user for a user's conversation state.

A user is a keyed hash of who they are on the channels (the E.164 phone), so one phone's
sessions, locks and remembered answers on every channel, its rate limit and its cached
guardian lookup all share the tag `{<user hmac>}`, hence one cluster slot: a turn's scripts
may touch any of them at once (`gateway.state.store`). The layout is drawn in `gateway.state.store`.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.dialogs.model import ChannelKind
from gateway.state.keyring import KeyRing

__all__ = ["UNMATCHED_LOG", "KeySecret", "Keys"]

# What stores take as their key: the identity key alone, or the ring of every key.
KeySecret = bytes | KeyRing

# The stream of messages nobody understood (`gateway.state.unmatched`): no user part.
UNMATCHED_LOG = "mg:{unmatched}:log"

_CODE_LABEL = "massar-code\0"
_CALL_LABEL = "voice-call\0"
_OPERATOR_LABEL = "operator\0"
_ADDRESS_LABEL = "address\0"
_USSD_ENDED_LABEL = "ussd-ended\0"
_META_SEEN_LABEL = "meta-seen\0"
_CACHE_LABEL = "cache\0"
_STUDENT_LABEL = "student\0"
_MEMO_SIZE = 16384  # hashes kept per Keys; all are dropped at once when it fills


class Keys:
    """Key names for one deployment: `<prefix>:{<user hmac>}:<channel>:<what>`.

    The user part is the first 32 hex characters of HMAC-SHA256(key_secret, user); its first
    12 are the `phone_h` of the logs (`gateway.logs.phone_hash`), so an operator can find a
    caller's keys from a log line, and nobody can find them from a phone number alone.
    After a rotation the hash is the chain over every identity key (gateway/state/keyring.py):
    with one key, the plain HMAC, so no key string changes until a second key is set.
    """

    def __init__(self, key_secret: bytes | KeyRing, *, prefix: str = "mg") -> None:
        self.ring = KeyRing.of(key_secret)
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
            found = self.ring.digest(material)
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
        """The language the user chose with AR/FR, remembered from SQL (`gateway.state.langs`)."""
        return f"{self.prefix}:{self.user_tag(user)}:lang"

    def turns(self, user: str) -> str:
        """The user's recent turns on every channel (the rate limit's sorted set)."""
        return f"{self.prefix}:{self.user_tag(user)}:turns"

    def user_keys(self, user: str) -> str:
        """The pattern matching every key under the user's hash tag (a SCAN's `match`)."""
        return f"{self.prefix}:{self.user_tag(user)}:*"

    def ussd_ended(self, user: str, session_id: str) -> str:
        """A USSD provider session that ended (`gateway.state.ussd`)."""
        which = self.digest(session_id, label=_USSD_ENDED_LABEL)
        return f"{self.prefix}:{self.user_tag(user)}:ussd:ended:{which}"

    def whatsapp_last_inbound(self, user: str) -> str:
        """When the user last wrote on WhatsApp (`gateway.state.whatsapp`): the 24-hour window."""
        return f"{self.prefix}:{self.user_tag(user)}:whatsapp:last-in"

    def meta_seen(self, message_id: str) -> str:
        """A Meta `wamid` already answered (`gateway.state.meta`)."""
        return f"{self.prefix}:meta:seen:{self.digest(message_id, label=_META_SEEN_LABEL)}"

    # ---- the backend's protections (`gateway.state.resilience`) ----

    def cache_user(self, user: str) -> str:
        """A cached answer keyed by the user alone (their guardian lookup): the user's tag."""
        return f"{self.prefix}:c:{self.user_tag(user)}"

    def cache_entry(self, kind: str, args: Sequence[str]) -> str:
        """A cached answer: a keyed hash of the kind and the arguments (which hold phones)."""
        digest = self.digest("\0".join([kind, *args]), label=_CACHE_LABEL)
        return f"{self.prefix}:c:{{{digest}}}"

    def cache_student_index(self, student_id: str) -> str:
        """The keys of one student's cached entries (dropped together on a change)."""
        digest = self.digest(student_id, label=_STUDENT_LABEL)
        return f"{self.prefix}:c:ix:{{{digest}}}"

    @staticmethod
    def flight_lease(entry: str) -> str:
        """The single-flight lease of cache entry `entry`: in its hash tag (one slot)."""
        return f"{entry}:sf"

    @staticmethod
    def breaker(name: str, *, prefix: str = "mg") -> str:
        """A circuit breaker's record (`name`: a route family, never user data)."""
        return f"{prefix}:{{breaker}}:{name}"

    # ---- the lockout's subjects (`gateway.state.lockout`): `<tag>:fails`, `<tag>:until` ----

    def lockout_phone(self, phone: str) -> str:
        """The phone's failed checks; the same hash as its session keys (the logs' phone_h)."""
        return f"{self.prefix}:{{vp:{self.digest(phone)}}}"

    def lockout_voice(self, phone: str) -> str:
        """The caller ID's failed checks on the voice line."""
        return f"{self.prefix}:{{vv:{self.digest(phone)}}}"

    def lockout_call(self, call: str) -> str:
        """One call's failed checks."""
        return f"{self.prefix}:{{vk:{self.digest(call, label=_CALL_LABEL)}}}"

    def code_digest(self, code: str) -> str:
        """The keyed hash of a Massar code, whatever its case and surrounding blanks."""
        return self.digest(code.strip().upper(), label=_CODE_LABEL)

    def lockout_code(self, code: str) -> str:
        """The Massar code's failed checks, from every phone."""
        return f"{self.prefix}:{{vc:{self.code_digest(code)}}}"

    # ---- the console (`gateway.state.console`): one hash tag ----

    def operator_h(self, name: str) -> str:
        """The keyed hash of an operator's name, whatever its case and surrounding blanks."""
        return self.digest(name.strip().lower(), label=_OPERATOR_LABEL)

    def console_session(self, sid_h: str) -> str:
        """A console session (a hash); `<it>:reveal` holds what it may see unmasked."""
        return f"{self.prefix}:{{console}}:s:{sid_h}"

    def console_reveals(self, sid_h: str) -> str:
        return f"{self.console_session(sid_h)}:reveal"

    def console_operator(self, name: str) -> str:
        """The set of an operator's sessions (ended all at once)."""
        return f"{self.prefix}:{{console}}:op:{self.operator_h(name)}"

    def console_pending(self, token_h: str) -> str:
        """A supervisor's sign-in waiting for its second factor."""
        return f"{self.prefix}:{{console}}:pending:{token_h}"

    def console_totp(self, name: str, step: int) -> str:
        """A TOTP time step already used by `name`."""
        return f"{self.prefix}:{{console}}:totp:{self.operator_h(name)}:{step}"

    def console_signin(self, name: str, address: str) -> list[str]:
        """Failed sign-ins per (name, address), per address, per name, and the name's slot."""
        name_h = self.operator_h(name)
        address_h = self.digest(address, label=_ADDRESS_LABEL)
        tag = f"{self.prefix}:{{console}}"
        return [
            f"{tag}:f:pair:{name_h}:{address_h}",
            f"{tag}:f:addr:{address_h}",
            f"{tag}:f:name:{name_h}",
            f"{tag}:f:slot:{name_h}",
        ]

    def console_checks(self, name: str) -> str:
        """An operator's failed checks of a child."""
        return f"{self.prefix}:{{console}}:checks:{self.operator_h(name)}"

    def console_totp_failures(self, name: str) -> str:
        """A supervisor's wrong second-factor codes (their password already proven)."""
        return f"{self.prefix}:{{console}}:totp-fails:{self.operator_h(name)}"

    @staticmethod
    def console_audit_anonymous(ns: str, minute: int, *, prefix: str = "mg") -> str:
        """The count of one minute's audit lines a stranger caused (`ns`: the deployment's)."""
        return f"{prefix}:{{console}}:audit-anon:{ns}:{minute}"

    # ---- the alerts consumer (`gateway.state.alerts.lease`) ----

    @staticmethod
    def alerts_lease(ns: str, *, prefix: str = "mg") -> str:
        """The lease that makes one alerts consumer active (`ns`: the outbox's namespace, so
        two deployments sharing one Redis each have their own)."""
        return f"{prefix}:{{alerts:{ns}}}:lease"

    # ---- the helpdesk queue (`gateway.state.helpdesk`): one hash tag ----

    @property
    def helpdesk_open(self) -> str:
        """Open item ids by creation time (ms)."""
        return f"{self.prefix}:{{helpdesk}}:open"

    def helpdesk_item(self, item_id: str) -> str:
        """One item, as JSON."""
        return f"{self.prefix}:{{helpdesk}}:item:{item_id}"

    def helpdesk_phone(self, phone: str, channel: str) -> str:
        """A phone's open item on one channel (a second message joins it)."""
        return f"{self.prefix}:{{helpdesk}}:phone:{channel}:{self._helpdesk_h(phone)}"

    def helpdesk_by_phone(self, phone: str) -> str:
        """Every item of a phone."""
        return f"{self.prefix}:{{helpdesk}}:byphone:{self._helpdesk_h(phone)}"

    def _helpdesk_h(self, phone: str) -> str:
        return self.digest(phone, label="helpdesk")
