"""Kannel's settings (CHANNELS.md §14-15): SMS and USSD through operators' SMSCs."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode

# A sender address operators accept: a short code or long number, or an alphanumeric sender
# ID (at most 11 characters). Kannel link names (`smsc-id`) are plain words.
SENDER_ADDRESS = re.compile(r"\+?[0-9]{2,16}|[A-Za-z0-9._-]{1,11}")
SMSC_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_ROUTE_PREFIX = re.compile(r"\+[0-9]{1,14}")
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]*")


@dataclass(frozen=True, slots=True)
class KannelRoute:
    """Messages to numbers that start with `prefix` leave through Kannel's link `smsc`, from
    `sender` (the operator's short code) when given."""

    prefix: str  # E.164, "+21266"
    smsc: str
    sender: str | None = None

    @classmethod
    def parse(cls, entry: str) -> KannelRoute:
        """`+21266:IAM:2020` or `+21266:IAM` (the default sender)."""
        prefix, _, rest = entry.strip().partition(":")
        smsc, _, sender = rest.partition(":")
        if not _ROUTE_PREFIX.fullmatch(prefix):
            raise ValueError(f"route prefix must be + and digits: {prefix!r}")
        if not SMSC_ID.fullmatch(smsc):
            raise ValueError(f"route smsc must be a Kannel smsc-id: {smsc!r}")
        if sender and not SENDER_ADDRESS.fullmatch(sender):
            raise ValueError(f"route sender must be a short code or sender ID: {sender!r}")
        return cls(prefix, smsc, sender or None)


class KannelSettings(BaseSettings):
    """`GATEWAY_KANNEL_*`, `GATEWAY_USSD_KANNEL_*`, `GATEWAY_USSD_ORANGE_TOKEN` (in `Settings`)."""

    # Kannel (CHANNELS.md §14): smsbox posts each SMS from a phone to /channels/sms/kannel with
    # the callback token, from an allowed address only; replies, follow-ups and alerts leave
    # through its sendsms API (GATEWAY_SMS_SENDER=kannel), each from the operator link its
    # number's prefix names, a reply from the short code and link its SMS came in on.
    kannel_callback_token: SecretStr | None = SecretStr("demo-kannel-callback-token")
    kannel_allowed_ips: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("::1/128"),
    )
    kannel_callback_url: str | None = None  # the gateway as Kannel reaches it; unset: public_url
    kannel_sendsms_url: str = "http://127.0.0.1:13013/cgi-bin/sendsms"
    kannel_sendsms_user: str | None = "massar"
    kannel_sendsms_password: SecretStr | None = SecretStr("demo-kannel-sendsms-password")
    kannel_sms_from: str | None = None  # the short code of messages that answer no SMS
    kannel_smsc: str | None = None  # the link of numbers no route names (unset: Kannel's choice)
    kannel_routes: Annotated[tuple[KannelRoute, ...], NoDecode] = ()
    # Reports asked for: 1 delivered, 2 not delivered, 4 buffered, 8 taken by the SMSC,
    # 16 refused by the SMSC. Parts per message: the sendsms-user's `max-messages`, past
    # which Kannel drops the rest silently, so longer texts are refused instead.
    kannel_dlr_mask: int = Field(default=31, ge=0, le=31)
    kannel_max_parts: int = Field(default=6, ge=1, le=255)
    # The pace of each operator link (its SMPP bind's contracted throughput, in parts per
    # second, all workers together) beside GATEWAY_OUTBOX_RATE_SMS, the provider-wide pace.
    # A message takes one token of the provider's bucket and one per part of its link's. The
    # default: the deploy kit's links (deploy/kannel/kannel.conf), at 20 each, within what
    # operators' binds typically allow (10 to 50 per bind: docs/operations.md). Links not
    # named here are paced by the provider's bucket alone.
    outbox_rate_sms_links: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=lambda: {"IAM": 20.0, "ORANGE": 20.0, "INWI": 20.0}
    )

    # USSD through operators (issue 13, CHANNELS.md §15.A): smsbox posts each USSD step of an
    # operator's SMPP link to /channels/ussd/kannel, with the Kannel callback token and from
    # an allowed address (the GATEWAY_KANNEL_ settings above). The `ussd_service_op` values
    # differ by the operator's vendor: `;`-separated entries, one per link that differs from
    # the common practice (GATEWAY_USSD_KANNEL_OPS="INWI-USSD:continue=2"), kept as written
    # here and read by `gateway/channels/ussd/ops.py` (checked at start-up, gateway/checks.py).
    # A result with nothing to choose but the menu ends the session (the handset shows an
    # error when an operator's session times out); false keeps it open for "0. Menu".
    ussd_kannel_ops: str = ""
    ussd_kannel_end_on_result: bool = True
    # An operator's xHTML USSD API (#303#-style, gateway/channels/ussd/orange.py): the secret
    # in the service URL registered with the operator. Unset: the route refuses every call.
    ussd_orange_token: SecretStr | None = None

    @field_validator("kannel_allowed_ips", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        """`GATEWAY_KANNEL_ALLOWED_IPS=127.0.0.1,10.0.4.0/24` (addresses or networks)."""
        if isinstance(value, str):
            value = tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("kannel_routes", mode="before")
    @classmethod
    def _split_routes(cls, value: object) -> object:
        """`GATEWAY_KANNEL_ROUTES=+21266:IAM:2020,+21270:INWI:3030` (prefix:smsc-id[:sender])."""
        if isinstance(value, str):
            value = tuple(KannelRoute.parse(part) for part in value.split(",") if part.strip())
        return value

    @field_validator("outbox_rate_sms_links", mode="before")
    @classmethod
    def _split_link_rates(cls, value: object) -> object:
        """`IAM=20,INWI=20` (smsc-id=parts per second; `IAM:20` too, as the template writes)."""
        if not isinstance(value, str):
            return value
        rates: dict[str, float] = {}
        for entry in filter(None, (part.strip() for part in value.split(","))):
            link, sep, rate = entry.replace(":", "=", 1).partition("=")
            if not sep or not SMSC_ID.fullmatch(link.strip()):
                raise ValueError(f"expected smsc-id=parts per second: {entry!r}")
            rates[link.strip()] = float(rate)
        return rates

    @field_validator("outbox_rate_sms_links")
    @classmethod
    def _positive_rates(cls, value: dict[str, float]) -> dict[str, float]:
        if any(not 0 < rate <= 10_000 for rate in value.values()):
            raise ValueError("each link's pace must be above 0 and at most 10000 parts/s")
        return value

    @field_validator("kannel_sms_from")
    @classmethod
    def _sender_address(cls, value: str | None) -> str | None:
        if value is not None and not SENDER_ADDRESS.fullmatch(value):
            raise ValueError("must be a short code, a number or an 11-character sender ID")
        return value

    @field_validator("kannel_callback_token")
    @classmethod
    def _url_safe(cls, value: SecretStr | None) -> SecretStr | None:
        # It sits in Kannel's post-url and dlr-url, where Kannel reads `%` as its escapes.
        if value is not None and not _URL_SAFE.fullmatch(value.get_secret_value()):
            raise ValueError("may hold only letters, digits and . _ ~ - (it goes in URLs)")
        return value

    @field_validator("kannel_smsc")
    @classmethod
    def _smsc_id(cls, value: str | None) -> str | None:
        if value is not None and not SMSC_ID.fullmatch(value):
            raise ValueError("must be a Kannel smsc-id (letters, digits, _ . -)")
        return value
