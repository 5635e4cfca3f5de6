"""Gateway settings: every variable is read from the environment with the prefix `GATEWAY_`.

`Settings()` reads the environment; tests pass values to the initialiser instead. Outside
development, start-up refuses a missing or demo secret for any enabled channel.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Env(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class SenderName(StrEnum):
    SINK = "sink"  # records instead of sending (development, tests, the demo)
    TWILIO = "twilio"


class Channel(StrEnum):
    USSD_AFRICASTALKING = "ussd_africastalking"
    SMS_TWILIO = "sms_twilio"
    WHATSAPP_TWILIO = "whatsapp_twilio"
    WHATSAPP_META = "whatsapp_meta"
    TELEGRAM = "telegram"
    VOICE_TWILIO = "voice_twilio"


# Channels with an adapter in gateway/channels; the others are named for the settings to come.
IMPLEMENTED_CHANNELS = frozenset({Channel.USSD_AFRICASTALKING, Channel.SMS_TWILIO})

# Values that ship in this repository for the demo; production refuses every one of them.
DEMO_SECRETS = frozenset(
    {
        "sandbox-token",
        "sandbox-admin",
        "demo-admin-token",
        "demo-identity-key",
        "demo-at-ussd-token",
        "demo-twilio-auth-token",
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
    Channel.WHATSAPP_TWILIO: ("twilio_auth_token",),
    Channel.VOICE_TWILIO: ("twilio_auth_token",),
    Channel.WHATSAPP_META: ("meta_app_secret", "meta_verify_token"),
    Channel.TELEGRAM: ("telegram_bot_token", "telegram_webhook_secret"),
}


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

    @field_validator("public_url", "backend_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

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
    def _sender_settings_are_complete(self) -> Self:
        if self.sms_sender is SenderName.TWILIO:
            missing = [
                f"GATEWAY_{name.upper()}"
                for name in ("twilio_account_sid", "twilio_sms_from", "twilio_auth_token")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"GATEWAY_SMS_SENDER=twilio needs {', '.join(missing)}")
        return self

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
            check("twilio_auth_token")
            for name in ("twilio_account_sid", "twilio_sms_from"):
                if not getattr(self, name):
                    problems.append(
                        f"GATEWAY_{name.upper()} is missing (GATEWAY_SMS_SENDER=twilio)"
                    )
        if self.redis_url is None:
            problems.append(
                "GATEWAY_REDIS_URL is missing (the in-process stand-in is for dev only)"
            )
        if not self.public_url.startswith("https://"):
            problems.append("GATEWAY_PUBLIC_URL must be https:// (providers sign the public URL)")
        if problems:
            raise InsecureSettings(sorted(set(problems)))
        return self
