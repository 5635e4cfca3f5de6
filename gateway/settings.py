"""Gateway settings: every variable is read from the environment with the prefix `GATEWAY_`.

`Settings()` reads the environment; tests pass values to the initialiser instead. Outside
development, start-up refuses a missing or demo secret for any enabled channel.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Env(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class SenderName(StrEnum):
    SINK = "sink"  # records instead of sending (development, tests, the demo)
    TWILIO = "twilio"
    KANNEL = "kannel"  # Kannel's sendsms, to operators' SMSCs over SMPP


class Channel(StrEnum):
    USSD_AFRICASTALKING = "ussd_africastalking"
    SMS_TWILIO = "sms_twilio"
    SMS_KANNEL = "sms_kannel"
    WHATSAPP_TWILIO = "whatsapp_twilio"
    WHATSAPP_META = "whatsapp_meta"
    TELEGRAM = "telegram"
    VOICE_TWILIO = "voice_twilio"


# Channels with an adapter in gateway/channels; the others are named for the settings to come.
IMPLEMENTED_CHANNELS = frozenset(
    {Channel.USSD_AFRICASTALKING, Channel.SMS_TWILIO, Channel.SMS_KANNEL}
)

# Values that ship in this repository for the demo; production refuses every one of them.
DEMO_SECRETS = frozenset(
    {
        "sandbox-token",
        "sandbox-admin",
        "demo-admin-token",
        "demo-identity-key",
        "demo-at-ussd-token",
        "demo-twilio-auth-token",
        "demo-kannel-callback-token",
        "demo-kannel-sendsms-password",
        "CHANGE_ME_SENDSMS_PASSWORD",  # deploy/kannel/kannel.conf's placeholders
        "CHANGE_ME_CALLBACK_TOKEN",
        "demo-telegram-bot-token",
        "demo-telegram-webhook-secret",
        "demo-meta-app-secret",
        "demo-meta-verify-token",
    }
)

# Which secrets each channel needs before it may take traffic.
CHANNEL_SECRETS: dict[Channel, tuple[str, ...]] = {
    Channel.USSD_AFRICASTALKING: ("at_ussd_token",),
    Channel.SMS_TWILIO: ("twilio_auth_token",),
    Channel.SMS_KANNEL: ("kannel_callback_token",),
    Channel.WHATSAPP_TWILIO: ("twilio_auth_token",),
    Channel.VOICE_TWILIO: ("twilio_auth_token",),
    Channel.WHATSAPP_META: ("meta_app_secret", "meta_verify_token"),
    Channel.TELEGRAM: ("telegram_bot_token", "telegram_webhook_secret"),
}


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


# Shorter secrets can be guessed or were typed by hand ("x", "admin"): production refuses them.
MIN_SECRET_CHARS = 16


class InsecureSettings(ValueError):
    """Production settings hold a missing or demo secret; `problems` names the variables."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("refusing to start: " + "; ".join(problems))
        self.problems = problems


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", frozen=True)

    env: Env = Env.DEVELOPMENT
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8000"
    var_dir: Path = Path("var")

    # Unset: an in-process stand-in (fakeredis), fine for the demo and tests, not for production.
    redis_url: str | None = None
    database_url: str = "sqlite:///var/gateway.db"

    backend_url: str = "http://127.0.0.1:8100/api/v1"
    backend_token: SecretStr = SecretStr("sandbox-token")
    backend_timeout_s: float = Field(default=2.0, gt=0, le=30)

    # Time a user turn may take, backend calls included (the provider waits longer than this).
    ussd_budget_s: float = Field(default=2.0, gt=0, le=10)
    sms_budget_s: float = Field(default=5.0, gt=0, le=14)

    # Peak load (ARCHITECTURE.md): cache TTLs per kind of data (DOMAIN.md §8), how long a stale
    # copy is kept to answer when the backend fails (at most 24 h, DOMAIN.md §6), the shared
    # breaker, single-flight leases, limits, and the SMS follow-up of slow live turns.
    cache_ttl_guardian_s: int = Field(default=3600, ge=1, le=86400)
    cache_ttl_grades_s: int = Field(default=900, ge=1, le=86400)
    cache_ttl_absences_s: int = Field(default=300, ge=1, le=86400)
    cache_ttl_enrolment_s: int = Field(default=600, ge=1, le=86400)
    cache_ttl_meta_s: int = Field(default=300, ge=1, le=86400)
    cache_stale_s: int = Field(default=86400, ge=1, le=86400)
    singleflight_lease_s: float = Field(default=3.0, gt=0, le=60)
    breaker_failures: int = Field(default=5, ge=1)
    breaker_window_s: float = Field(default=30.0, gt=0)
    breaker_cooldown_s: float = Field(default=15.0, gt=0)
    breaker_probes: int = Field(default=2, ge=1)
    rate_limit_per_minute: int = Field(default=30, ge=1)
    backend_max_concurrency: int = Field(default=64, ge=1)
    # Turns one worker runs at once; past this a turn gets "busy" at once (load shedding).
    max_turns_in_flight: int = Field(default=256, ge=1)
    followup_budget_s: float = Field(default=30.0, gt=0, le=300)
    # A follow-up that cannot be answered yet (backend down) waits in the outbox this long,
    # then is given up with nothing sent.
    followup_max_age_s: int = Field(default=7200, ge=60, le=86400)
    # Per-attempt ceiling of a follow-up's backend calls (nobody waits on the line).
    followup_backend_timeout_s: float = Field(default=10.0, gt=0, le=60)
    followup_retry_cap_s: float = Field(default=60.0, gt=0, le=3600)  # longest wait between tries

    # The outbox (ARCHITECTURE.md): the sender of each channel, its pace shared by every
    # worker (a token bucket in Redis), retries, and how long message bodies are kept (they
    # can hold a minor's marks). The sink records instead of sending: the development default.
    sms_sender: SenderName = SenderName.SINK
    twilio_account_sid: str | None = None
    twilio_sms_from: str | None = None  # an E.164 number or a Messaging Service SID (MG…)
    outbox_rate_sms: float = Field(default=10.0, gt=0, le=10000)  # messages/s, all workers
    outbox_burst_sms: int = Field(default=20, ge=1)
    outbox_max_attempts: int = Field(default=8, ge=1, le=100)
    outbox_concurrency: int = Field(default=16, ge=1, le=1000)  # sends in flight per worker
    # A claimed message is one worker's for the lease; an entry left pending this long by a
    # worker that died is taken over by another.
    outbox_lease_s: float = Field(default=60.0, gt=0, le=3600)
    outbox_reclaim_idle_s: float = Field(default=90.0, gt=0, le=3600)
    # A sender inside the app's own process; unset: on when Redis is the in-process stand-in
    # (the demo), since no other process can reach that Redis.
    embedded_sender: bool | None = None
    message_body_retention_h: int = Field(default=72, ge=1, le=24 * 90)
    # Unmatched messages (masked) kept for growing the vocabularies, then trimmed.
    unmatched_retention_days: int = Field(default=30, ge=1, le=90)

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

    channels: Annotated[frozenset[Channel], NoDecode] = frozenset(IMPLEMENTED_CHANNELS)

    admin_token: SecretStr = SecretStr("demo-admin-token")
    # Key of the HMACs that stand in for phone numbers and codes in Redis keys, the bindings
    # table and logs. Changing it forgets every binding and session.
    identity_key: SecretStr = SecretStr("demo-identity-key")
    log_format: str | None = Field(default=None, pattern="^(json|console)$")
    log_level: str = "INFO"
    log_file: Path | None = None  # unset: standard output

    at_ussd_token: SecretStr | None = SecretStr("demo-at-ussd-token")
    twilio_auth_token: SecretStr | None = SecretStr("demo-twilio-auth-token")
    twilio_webhook_shared_key: SecretStr | None = None
    meta_app_secret: SecretStr | None = SecretStr("demo-meta-app-secret")
    meta_verify_token: SecretStr | None = SecretStr("demo-meta-verify-token")
    telegram_bot_token: SecretStr | None = SecretStr("demo-telegram-bot-token")
    telegram_webhook_secret: SecretStr | None = SecretStr("demo-telegram-webhook-secret")

    # --- The operators' console (/console, issue #16) -----------------------------------------
    # Sign-in: the session cookie is signed with a key derived from GATEWAY_IDENTITY_KEY; it
    # ends after this many idle seconds; so many failed sign-ins lock a name for a while.
    console_idle_timeout_s: int = Field(default=15 * 60, ge=60, le=8 * 3600)
    console_signin_failures: int = Field(default=5, ge=1, le=100)
    console_signin_lock_s: int = Field(default=15 * 60, ge=1, le=86400)
    # The channel simulator without sign-in; unset: only in development.
    console_open_simulator: bool | None = None
    # What the printable leaflet tells parents (and the simulator dials).
    leaflet_ussd_code: str = Field(default="*2020#", max_length=20)
    leaflet_sms_number: str = Field(default="2020", max_length=20)
    leaflet_whatsapp: str = Field(default="+212 5 00 00 00 00", max_length=40)
    leaflet_telegram: str = Field(default="@MassarGatewayBot", max_length=40)
    leaflet_hotline: str = Field(default="0800 00 11 22", max_length=40)
    # A message in the helpdesk queue that nobody answered is closed after this long, with a
    # message pointing to the hotline.
    helpdesk_expiry_s: int = Field(default=4 * 3600, ge=60, le=7 * 86400)
    # --- end of the console's block ------------------------------------------------------------

    @field_validator("channels", mode="before")
    @classmethod
    def _split_channels(cls, value: object) -> object:
        """`GATEWAY_CHANNELS=ussd_africastalking,sms_twilio` (empty: no channel)."""
        if isinstance(value, str):
            value = frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("channels")
    @classmethod
    def _only_implemented(cls, value: frozenset[Channel]) -> frozenset[Channel]:
        missing = sorted(c.value for c in value - IMPLEMENTED_CHANNELS)
        if missing:
            raise ValueError(f"not implemented yet: {', '.join(missing)}")
        return value

    @field_validator("public_url", "backend_url", "kannel_sendsms_url", "kannel_callback_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

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

    @property
    def cache_ttls(self) -> dict[str, int]:
        return {
            "guardian": self.cache_ttl_guardian_s,
            "grades": self.cache_ttl_grades_s,
            "absences": self.cache_ttl_absences_s,
            "enrolment": self.cache_ttl_enrolment_s,
            "meta": self.cache_ttl_meta_s,
        }

    @property
    def json_logs(self) -> bool:
        if self.log_format is not None:
            return self.log_format == "json"
        return self.env is Env.PRODUCTION

    @model_validator(mode="after")
    def _leases_end_before_takeovers(self) -> Self:
        # A message is taken over from a worker that looks dead only after its lease ended:
        # otherwise two live workers could both hold it.
        if self.outbox_reclaim_idle_s <= self.outbox_lease_s:
            raise ValueError(
                "GATEWAY_OUTBOX_RECLAIM_IDLE_S must be longer than GATEWAY_OUTBOX_LEASE_S"
            )
        # A follow-up is composed under the lease: a lease that ends first sends nothing.
        if self.outbox_lease_s <= self.followup_budget_s:
            raise ValueError("GATEWAY_OUTBOX_LEASE_S must be longer than GATEWAY_FOLLOWUP_BUDGET_S")
        return self

    @model_validator(mode="after")
    def _sender_settings_are_complete(self) -> Self:
        if self.sms_sender is SenderName.TWILIO:
            missing = [
                f"GATEWAY_{name.upper()}"
                for name in ("twilio_account_sid", "twilio_sms_from", "twilio_auth_token")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"GATEWAY_SMS_SENDER=twilio needs {', '.join(missing)}")
        if self.sms_sender is SenderName.KANNEL:
            missing = [
                f"GATEWAY_{name.upper()}"
                for name in ("kannel_sendsms_user", "kannel_sendsms_password", "kannel_sms_from")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"GATEWAY_SMS_SENDER=kannel needs {', '.join(missing)}")
        return self

    @property
    def kannel_base_url(self) -> str:
        """Where Kannel calls the gateway back (delivery reports)."""
        return self.kannel_callback_url or self.public_url

    @model_validator(mode="after")
    def _refuse_demo_secrets_in_production(self) -> Self:
        if self.env is not Env.PRODUCTION:
            return self
        problems: list[str] = []

        def check(name: str) -> None:
            secret = getattr(self, name)
            value = secret.get_secret_value() if secret is not None else ""
            if not value:
                problems.append(f"GATEWAY_{name.upper()} is missing")
            elif value in DEMO_SECRETS:
                problems.append(f"GATEWAY_{name.upper()} holds a demo value")
            elif len(value) < MIN_SECRET_CHARS:
                problems.append(
                    f"GATEWAY_{name.upper()} is shorter than {MIN_SECRET_CHARS} characters"
                )

        for name in ("backend_token", "admin_token", "identity_key"):
            check(name)
        for channel in sorted(self.channels):
            for name in CHANNEL_SECRETS[channel]:
                check(name)
        if self.twilio_webhook_shared_key is not None:
            check("twilio_webhook_shared_key")
        if self.sms_sender is SenderName.SINK:
            problems.append("GATEWAY_SMS_SENDER=sink records messages instead of sending them")
        elif self.sms_sender is SenderName.TWILIO:
            check("twilio_auth_token")  # its account and number: `_sender_settings_are_complete`
        elif self.sms_sender is SenderName.KANNEL:
            # Its delivery reports come back to a route that checks the callback token.
            check("kannel_sendsms_password")
            check("kannel_callback_token")
        if self.redis_url is None:
            problems.append(
                "GATEWAY_REDIS_URL is missing (the in-process stand-in is for dev only)"
            )
        if not self.public_url.startswith("https://"):
            problems.append("GATEWAY_PUBLIC_URL must be https:// (providers sign the public URL)")
        if problems:
            raise InsecureSettings(sorted(set(problems)))
        return self
