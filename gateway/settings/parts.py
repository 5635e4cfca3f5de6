"""Settings of the voice menu, the chat apps, the alerts and the console (parts of `Settings`)."""

from __future__ import annotations

import os
import re
from datetime import time
from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode

from gateway.settings.names import (
    DEMO_AGENTS_NUMBER,
    DEMO_SECRETS,
    MIN_SECRET_CHARS,
    InsecureSettings,
    SenderName,
)

_TEMPLATE_KEY = re.compile(r"[a-z][a-z0-9_]{0,40}\.(ar|fr)")
_CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")


class VoiceSettings(BaseSettings):
    # The hotline's voice menu (issue #14, CHANNELS.md §6): Twilio's voice and language per
    # menu language, the number `0` dials, recordings (`<dir>/<lang>/<msgid-hash>.mp3`), the
    # turn's budget (a slower answer follows by SMS) and how long a `<Gather>` waits for a key.
    voice_ar: str = "Polly.Zeina"
    voice_fr: str = "Polly.Lea"
    voice_language_ar: str = "arb"
    voice_language_fr: str = "fr-FR"
    hotline_agents_number: str | None = Field(DEMO_AGENTS_NUMBER, pattern=r"^\+[0-9]{6,15}$")
    voice_prompts_dir: Path | None = None
    voice_budget_s: float = Field(default=4.0, gt=0, le=12)
    voice_gather_timeout_s: int = Field(default=6, ge=2, le=30)


class ChatSettings(BaseSettings):
    # WhatsApp and Telegram (issue #9, CHANNELS.md §2-4, §12). One WhatsApp sender for
    # follow-ups and alerts, and for Meta's replies (its webhook takes none): sink, twilio
    # (`twilio_whatsapp_from`; outside the 24-hour window an alert goes as its Content
    # template, one SID per template key: `absence.fr=HX…,absence.ar=HX…`, the keys that
    # `python -m gateway whatsapp templates` lists) or meta (templates by name).
    # Telegram's replies leave through `telegram_sender` (sink or telegram), at most
    # `telegram_chat_rate` per second into one chat. The API URLs are settings so that tests
    # and the demo point them at local fakes.
    whatsapp_sender: SenderName = SenderName.SINK
    telegram_sender: SenderName = SenderName.SINK
    twilio_whatsapp_from: str | None = None  # whatsapp:+212…, or a Messaging Service SID
    twilio_whatsapp_content_sids: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    meta_access_token: SecretStr | None = SecretStr("demo-meta-access-token")
    meta_phone_number_id: str | None = Field(default=None, pattern=r"^[0-9]{1,32}$")
    meta_graph_url: str = "https://graph.facebook.com/v21.0"
    telegram_api_url: str = "https://api.telegram.org/bot"  # PTB's base_url: + token + /method
    outbox_rate_whatsapp: float = Field(default=20.0, gt=0, le=10000)
    outbox_burst_whatsapp: int = Field(default=40, ge=1)
    outbox_rate_telegram: float = Field(default=30.0, gt=0, le=10000)  # Bot FAQ: ~30/s
    outbox_burst_telegram: int = Field(default=30, ge=1)
    telegram_chat_rate: float = Field(default=1.0, gt=0, le=100)  # Bot FAQ: ~1/s per chat

    @field_validator("twilio_whatsapp_content_sids", mode="before")
    @classmethod
    def _content_sids(cls, value: object) -> object:
        """`absence.fr=HX…,absence.ar=HX…`: a template key (kind[_full].lang) per SID."""
        if not isinstance(value, str):
            return value
        sids: dict[str, str] = {}
        for part in (p.strip() for p in value.split(",")):
            key, _, sid = part.partition("=")
            if not part:
                continue
            if not _TEMPLATE_KEY.fullmatch(key.strip()) or not _CONTENT_SID.fullmatch(sid.strip()):
                raise ValueError(f"expected <kind>.<ar|fr>=HX<32 hex>, got {key.strip()!r}")
            sids[key.strip()] = sid.strip()
        return sids

    @model_validator(mode="after")
    def _refuse_the_single_template(self) -> Self:
        # Replaced on purpose, not kept as a fallback: its one variable carried the whole
        # text, and Meta's review refuses such templates (issue #26).
        if os.environ.get("GATEWAY_TWILIO_WHATSAPP_TEMPLATE_SID"):
            raise ValueError(
                "GATEWAY_TWILIO_WHATSAPP_TEMPLATE_SID is replaced by "
                "GATEWAY_TWILIO_WHATSAPP_CONTENT_SIDS (absence.fr=HX…,…; see "
                "`python -m gateway whatsapp templates`): unset it"
            )
        return self


class AlertSettings(BaseSettings):
    # Alerts (issue 15): the change-feed consumer (`python -m gateway alerts`; one inside the
    # app with the embedded stand-ins, like the sender), one active among many processes (a
    # Redis lease), and quiet hours when alerts wait for the morning (local time,
    # Africa/Casablanca; "none" turns them off), read by `gateway/alerts/quiet.py` (checked
    # at start-up, gateway/checks.py).
    quiet_hours: str = "21:00-07:00"
    alerts_batch: int = Field(default=200, ge=1, le=200)  # events per feed read (API max 200)
    alerts_poll_s: float = Field(default=1.0, gt=0, le=60)  # pause once the feed is read
    alerts_lease_s: float = Field(default=15.0, ge=1, le=300)  # a dead consumer's takeover
    # When phones that asked for a daily digest get it (local time).
    alerts_digest_at: time = time(18, 0)
    # When phones that chose a weekly summary (the alerts menu) get it, per child: a day and
    # a local time, `fri 18:00` (mon … sun); read by gateway/alerts/weekly.py.
    alerts_weekly_at: str = "fri 18:00"
    # A consumer inside the app's own process; unset: on when Redis is the in-process
    # stand-in, as the embedded sender (`gateway demo` turns it on on any Redis).
    embedded_alerts: bool | None = None


class ConsoleSettings(BaseSettings):
    # The operators' console (/console, issue #16; need-to-know and sign-in, issue #21).
    # Sessions live in Redis (an opaque id in the cookie); one ends after this many idle
    # seconds, and after `console_session_max_s` whatever happens.
    console_idle_timeout_s: int = Field(default=15 * 60, ge=60, le=8 * 3600)
    console_session_max_s: int = Field(default=12 * 3600, ge=300, le=7 * 86400)
    # Sign-in: so many failures from one address for one name lock that pair, so many from
    # one address lock the address, for `console_signin_lock_s`; a name alone is never
    # locked (anyone could lock every operator on results day) but, past
    # `console_signin_name_slow_after` failures from anywhere, is checked at most once per
    # `console_signin_name_interval_s`.
    console_signin_failures: int = Field(default=5, ge=1, le=100)
    console_signin_address_failures: int = Field(default=20, ge=1, le=10000)
    console_signin_lock_s: int = Field(default=15 * 60, ge=1, le=86400)
    console_signin_name_slow_after: int = Field(default=10, ge=1, le=10000)
    console_signin_name_interval_s: float = Field(default=2.0, gt=0, le=60)
    # Failed sign-ins are audited, at most this many lines a minute (beyond: one line saying
    # so), so an anonymous flood cannot fill the audit table.
    console_audit_anonymous_per_minute: int = Field(default=30, ge=1, le=10000)
    # An agent's failed checks of a child (code + birth date) count against the operator,
    # never against the gateway's lockout of the phone typed: so many in the window stop
    # that operator's checks (below Massar's own 3 per phone, which the gateway cannot skip).
    console_check_failures: int = Field(default=2, ge=1, le=100)
    console_check_lock_s: int = Field(default=15 * 60, ge=60, le=86400)
    # How long a child's data stays shown in the session of the agent who checked it.
    console_reveal_s: int = Field(default=15 * 60, ge=60, le=3600)
    # Networks the console answers (`10.0.0.0/8,192.168.1.0/24`); unset: any. The client's
    # address is the socket's, or X-Forwarded-For's when uvicorn trusts the proxy
    # (`--forwarded-allow-ips` / FORWARDED_ALLOW_IPS, loopback by default).
    console_networks: Annotated[tuple[str, ...], NoDecode] = ()
    # Demo accounts (agent `amina`, supervisor `samir`, README) made at start-up; unset: only
    # in development. Production refuses them, and their passwords and TOTP secret.
    console_demo_operators: bool | None = None
    # The channel simulator without sign-in; unset: only in development. Production refuses
    # it on, and has no simulator at all (it would sign provider webhooks and queue real
    # messages to real phones).
    console_open_simulator: bool | None = None
    # Numbers the simulator's handsets may use besides the sandbox's demo phones: E.164
    # numbers, or prefixes ending in `*` (`+2126999*`), comma-separated.
    console_simulator_phones: Annotated[tuple[str, ...], NoDecode] = ()
    # What the printable leaflet tells parents (and the simulator dials).
    leaflet_ussd_code: str = Field(default="*2020#", max_length=20)
    leaflet_sms_number: str = Field(default="2020", max_length=20)
    leaflet_whatsapp: str = Field(default="+212 5 00 00 00 00", max_length=40)
    leaflet_telegram: str = Field(default="@MassarGatewayBot", max_length=40)
    leaflet_hotline: str = Field(default="0800 00 11 22", max_length=40)
    # A message in the helpdesk queue that nobody answered is closed after this long, with a
    # message pointing to the hotline. A closed item keeps only the masked number, and its
    # texts this long, then nothing.
    helpdesk_expiry_s: int = Field(default=4 * 3600, ge=60, le=7 * 86400)
    helpdesk_closed_keep_s: int = Field(default=24 * 3600, ge=60, le=7 * 86400)
    # `GET /admin/messages`: unset, on outside production only; its texts likewise. Each
    # client has its own token (`name:token,name2:token2`), named in the audit line of each
    # call; outside production GATEWAY_ADMIN_TOKEN is accepted too, as the client `admin`.
    admin_messages: bool | None = None
    admin_messages_texts: bool | None = None
    admin_tokens: Annotated[dict[str, SecretStr], NoDecode] = Field(default_factory=dict)

    @field_validator("console_networks", "console_simulator_phones", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("console_networks")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for network in value:
            ip_network(network, strict=False)  # raises ValueError naming what is wrong
        return value

    @field_validator("console_simulator_phones")
    @classmethod
    def _test_phones(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if not re.fullmatch(r"\+[0-9]{4,15}\*?", entry):
                raise ValueError(f"{entry!r} is not an E.164 number or prefix (`+2126999*`)")
        return value

    @field_validator("admin_tokens", mode="before")
    @classmethod
    def _named_tokens(cls, value: object) -> object:
        """`name:token,name2:token2` (a name: letters, digits, `.`, `_`, `-`)."""
        if not isinstance(value, str):
            return value
        tokens: dict[str, str] = {}
        for part in (p.strip() for p in value.split(",") if p.strip()):
            name, sep, token = part.partition(":")
            if not sep or not re.fullmatch(r"[A-Za-z0-9._-]{1,32}", name) or not token:
                raise ValueError("GATEWAY_ADMIN_TOKENS is `name:token,name2:token2`")
            if name in tokens:
                raise ValueError(f"GATEWAY_ADMIN_TOKENS names {name!r} twice")
            tokens[name] = token
        return tokens

    @model_validator(mode="after")
    def _console_in_production(self) -> Self:
        """Production refuses the open simulator, the demo accounts and weak admin tokens."""
        if str(getattr(self, "env", "")) != "production":
            return self
        problems = []
        if self.console_open_simulator:
            problems.append("GATEWAY_CONSOLE_OPEN_SIMULATOR must be off in production")
        if self.console_demo_operators:
            problems.append("GATEWAY_CONSOLE_DEMO_OPERATORS must be off in production")
        for name, token in sorted(self.admin_tokens.items()):
            value = token.get_secret_value()
            if value in DEMO_SECRETS or len(value) < MIN_SECRET_CHARS:
                problems.append(
                    f"GATEWAY_ADMIN_TOKENS: {name}'s token is a demo value or shorter "
                    f"than {MIN_SECRET_CHARS} characters"
                )
        if len({t.get_secret_value() for t in self.admin_tokens.values()}) < len(self.admin_tokens):
            problems.append("GATEWAY_ADMIN_TOKENS: two clients share a token")
        if problems:
            raise InsecureSettings(problems)
        return self
