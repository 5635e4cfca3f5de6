"""Gateway settings: every variable is read from the environment with the prefix `GATEWAY_`.

`Settings()` reads the environment; tests pass values to the initialiser instead. Outside
development, start-up refuses a missing or demo secret for any enabled channel.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from gateway.settings.kannel import SENDER_ADDRESS, SMSC_ID, KannelRoute, KannelSettings
from gateway.settings.names import (
    CHANNEL_SECRETS,
    DEMO_AGENTS_NUMBER,
    DEMO_SECRETS,
    MIN_SECRET_CHARS,
    Channel,
    Env,
    InsecureSettings,
    SenderName,
)
from gateway.settings.parts import AlertSettings, ChatSettings, ConsoleSettings, VoiceSettings
from gateway.settings.secrets import COMMAND, SELF_CHOSEN, weakness
from gateway.settings.surface import SurfaceSettings

__all__ = [
    "CHANNEL_SECRETS",
    "DEMO_AGENTS_NUMBER",
    "DEMO_SECRETS",
    "SENDER_ADDRESS",
    "SMSC_ID",
    "Channel",
    "Env",
    "InsecureSettings",
    "KannelRoute",
    "SenderName",
    "Settings",
]


class Settings(
    KannelSettings, VoiceSettings, ChatSettings, AlertSettings, ConsoleSettings, SurfaceSettings
):
    """Every setting; the channels' and the alerts' own are in their parts' classes."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", frozen=True)

    env: Env = Env.DEVELOPMENT
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8000"
    var_dir: Path = Path("var")

    # Unset: an in-process stand-in (fakeredis), fine for the demo and tests, not for production.
    redis_url: str | None = None
    # A managed Redis that refuses CONFIG GET: production starts on it only when this says the
    # provider guarantees persistence and maxmemory-policy noeviction (docs/deploy.md).
    redis_managed_ack: bool = False
    # Seconds one Redis command (or connecting) may take before the turn answers "busy".
    redis_timeout_s: float = Field(default=1.0, gt=0, le=30)
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
    sink_latency_s: float = Field(default=0.0, ge=0, le=30)  # the sink answers this late
    twilio_account_sid: str | None = None
    twilio_sms_from: str | None = None  # an E.164 number or a Messaging Service SID (MG…)
    # Messages/s, all workers: the provider's limit; with Kannel at least the links' sum
    # (GATEWAY_OUTBOX_RATE_SMS_LINKS, 3 x 20 parts/s by default), so the links pace.
    outbox_rate_sms: float = Field(default=60.0, gt=0, le=10000)
    outbox_burst_sms: int = Field(default=20, ge=1)
    outbox_max_attempts: int = Field(default=8, ge=1, le=100)
    outbox_concurrency: int = Field(default=16, ge=1, le=1000)  # sends in flight per worker
    # Backpressure (gateway/outbox/pressure.py): past the high water mark of bulk messages
    # waiting, bulk producers (the alerts consumer) pause until the backlog is below low water.
    outbox_high_water: int = Field(default=20_000, ge=1)
    outbox_low_water: int = Field(default=15_000, ge=0)
    # A claimed message is one worker's for the lease; an entry left pending this long by a
    # worker that died is taken over by another.
    outbox_lease_s: float = Field(default=60.0, gt=0, le=3600)
    outbox_reclaim_idle_s: float = Field(default=90.0, gt=0, le=3600)
    # A sender inside the app's own process; unset: on when Redis is the in-process stand-in,
    # since no other process can reach that Redis (`gateway demo` turns it on on any Redis).
    embedded_sender: bool | None = None
    message_body_retention_h: int = Field(default=72, ge=1, le=24 * 90)
    # Unmatched messages (masked) kept for growing the vocabularies, then trimmed.
    unmatched_retention_days: int = Field(default=30, ge=1, le=90)

    channels: Annotated[frozenset[Channel], NoDecode] = frozenset(Channel)

    admin_token: SecretStr = SecretStr("demo-admin-token")
    # Key of the HMACs that stand in for phone numbers and codes in Redis keys, the bindings
    # table and logs. Rotated with GATEWAY_IDENTITY_KEY_PREVIOUS and `gateway rekey`
    # (gateway/state/keyring.py; docs/operations.md, "Rotating secrets").
    identity_key: SecretStr = SecretStr("demo-identity-key")
    # The keys GATEWAY_IDENTITY_KEY replaced, oldest first, comma-separated: kept for good.
    identity_key_previous: SecretStr | None = None
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

    @field_validator(
        "public_url",
        "backend_url",
        "kannel_sendsms_url",
        "kannel_callback_url",
        "meta_graph_url",
        "telegram_api_url",
    )
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        if value is None:
            return None
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
    def docs_on(self) -> bool:
        """`/docs`, `/redoc`, `/openapi.json`: GATEWAY_API_DOCS, else off in production."""
        return self.api_docs if self.api_docs is not None else self.env is not Env.PRODUCTION

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
        if self.outbox_low_water >= self.outbox_high_water:
            raise ValueError("GATEWAY_OUTBOX_LOW_WATER must be below GATEWAY_OUTBOX_HIGH_WATER")
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
        if self.sms_sender in (SenderName.META, SenderName.TELEGRAM):
            raise ValueError("GATEWAY_SMS_SENDER must be sink, twilio or kannel")
        self._chat_senders_are_complete()
        return self

    def _chat_senders_are_complete(self) -> None:
        """WhatsApp's and Telegram's senders: a known one, with what it needs."""
        needs = {
            SenderName.TWILIO: ("twilio_account_sid", "twilio_auth_token", "twilio_whatsapp_from"),
            SenderName.META: ("meta_access_token", "meta_phone_number_id"),
            SenderName.SINK: (),
        }
        if self.whatsapp_sender not in needs:
            raise ValueError("GATEWAY_WHATSAPP_SENDER must be sink, twilio or meta")
        if self.telegram_sender not in (SenderName.SINK, SenderName.TELEGRAM):
            raise ValueError("GATEWAY_TELEGRAM_SENDER must be sink or telegram")
        missing = [
            f"GATEWAY_{name.upper()}"
            for name in needs[self.whatsapp_sender]
            if not getattr(self, name)
        ]
        if missing:
            sender = self.whatsapp_sender.value
            raise ValueError(f"GATEWAY_WHATSAPP_SENDER={sender} needs {', '.join(missing)}")
        if self.telegram_sender is SenderName.TELEGRAM and not self.telegram_bot_token:
            raise ValueError("GATEWAY_TELEGRAM_SENDER=telegram needs GATEWAY_TELEGRAM_BOT_TOKEN")

    def identity_keys(self) -> tuple[bytes, ...]:
        """Every identity key, oldest first: the previous ones, then GATEWAY_IDENTITY_KEY."""
        previous = (
            self.identity_key_previous.get_secret_value() if self.identity_key_previous else ""
        )
        keys = [k.strip() for k in previous.split(",") if k.strip()]
        return tuple(k.encode() for k in [*keys, self.identity_key.get_secret_value()])

    @model_validator(mode="after")
    def _identity_keys_differ(self) -> Self:
        keys = self.identity_keys()
        if len(set(keys)) != len(keys):
            raise ValueError(
                "GATEWAY_IDENTITY_KEY_PREVIOUS repeats a key (or holds GATEWAY_IDENTITY_KEY)"
            )
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
                how = f": make one with `{COMMAND}`" if name in SELF_CHOSEN else ""
                problems.append(
                    f"GATEWAY_{name.upper()} is shorter than {MIN_SECRET_CHARS} characters{how}"
                )
            elif (weak := weakness(name, value)) is not None:  # self-chosen: 128 bits
                problems.append(weak)

        for name in ("backend_token", "admin_token", "identity_key"):
            check(name)
        for channel in sorted(self.channels):
            for name in CHANNEL_SECRETS[channel]:
                check(name)
        if self.twilio_webhook_shared_key is not None:
            check("twilio_webhook_shared_key")
        if self.ussd_orange_token is not None:
            check("ussd_orange_token")
        if self.metrics_token is not None:
            check("metrics_token")
        if self.sms_sender is SenderName.SINK:
            problems.append("GATEWAY_SMS_SENDER=sink records messages instead of sending them")
        elif self.sms_sender is SenderName.TWILIO:
            check("twilio_auth_token")  # its account and number: `_sender_settings_are_complete`
        elif self.sms_sender is SenderName.KANNEL:
            # Its delivery reports come back to a route that checks the callback token.
            check("kannel_sendsms_password")
            check("kannel_callback_token")
        agents = self.hotline_agents_number
        if Channel.VOICE_TWILIO in self.channels and agents in (None, DEMO_AGENTS_NUMBER):
            problems.append("GATEWAY_HOTLINE_AGENTS_NUMBER must be the agents' real number")
        problems += self._chat_problems(check)
        if self.redis_url is None:
            problems.append(
                "GATEWAY_REDIS_URL is missing (the in-process stand-in is for dev only)"
            )
        if not self.public_url.startswith("https://"):
            problems.append("GATEWAY_PUBLIC_URL must be https:// (providers sign the public URL)")
        if problems:
            raise InsecureSettings(sorted(set(problems)))
        return self

    def _chat_problems(self, check: Callable[[str], None]) -> list[str]:
        """Production: WhatsApp and Telegram messages must really leave (not the sink)."""
        problems: list[str] = []
        chats = {Channel.WHATSAPP_TWILIO, Channel.WHATSAPP_META}
        if chats & self.channels and self.whatsapp_sender is SenderName.SINK:
            problems.append("GATEWAY_WHATSAPP_SENDER=sink records messages instead of sending")
        if Channel.WHATSAPP_META in self.channels and self.whatsapp_sender is SenderName.TWILIO:
            problems.append("GATEWAY_WHATSAPP_SENDER must be meta when whatsapp_meta is on")
        if Channel.TELEGRAM in self.channels and self.telegram_sender is SenderName.SINK:
            problems.append("GATEWAY_TELEGRAM_SENDER=sink records messages instead of sending")
        if self.whatsapp_sender is SenderName.META:
            check("meta_access_token")
        return problems
