"""Settings of the voice menu, the chat apps, the alerts and the console (parts of `Settings`)."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

from gateway.settings.names import DEMO_AGENTS_NUMBER, SenderName


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
    # (`twilio_whatsapp_from`, a `ContentSid` template outside the 24-hour window) or meta.
    # Telegram's replies leave through `telegram_sender` (sink or telegram), at most
    # `telegram_chat_rate` per second into one chat. The API URLs are settings so that tests
    # and the demo point them at local fakes.
    whatsapp_sender: SenderName = SenderName.SINK
    telegram_sender: SenderName = SenderName.SINK
    twilio_whatsapp_from: str | None = None  # whatsapp:+212…, or a Messaging Service SID
    twilio_whatsapp_template_sid: str | None = Field(default=None, pattern=r"^HX[0-9a-fA-F]{32}$")
    meta_access_token: SecretStr | None = SecretStr("demo-meta-access-token")
    meta_phone_number_id: str | None = Field(default=None, pattern=r"^[0-9]{1,32}$")
    meta_graph_url: str = "https://graph.facebook.com/v21.0"
    telegram_api_url: str = "https://api.telegram.org/bot"  # PTB's base_url: + token + /method
    outbox_rate_whatsapp: float = Field(default=20.0, gt=0, le=10000)
    outbox_burst_whatsapp: int = Field(default=40, ge=1)
    outbox_rate_telegram: float = Field(default=30.0, gt=0, le=10000)  # Bot FAQ: ~30/s
    outbox_burst_telegram: int = Field(default=30, ge=1)
    telegram_chat_rate: float = Field(default=1.0, gt=0, le=100)  # Bot FAQ: ~1/s per chat


class AlertSettings(BaseSettings):
    # Alerts (issue 15): the change-feed consumer (`python -m gateway alerts`; one inside the
    # app with the embedded stand-ins, like the sender), one active among many processes (a
    # Redis lease), and quiet hours when alerts wait for the morning (local time,
    # Africa/Casablanca; "none" turns them off).
    quiet_hours: str = "21:00-07:00"
    alerts_batch: int = Field(default=200, ge=1, le=200)  # events per feed read (API max 200)
    alerts_poll_s: float = Field(default=1.0, gt=0, le=60)  # pause once the feed is read
    alerts_lease_s: float = Field(default=15.0, ge=1, le=300)  # a dead consumer's takeover
    # When phones that asked for a daily digest get it (local time).
    alerts_digest_at: time = time(18, 0)
    # A consumer inside the app's own process; unset: on when Redis is the in-process
    # stand-in (the demo), as the embedded sender.
    embedded_alerts: bool | None = None

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        from gateway.alerts.quiet import QuietHours

        QuietHours.parse(value)  # raises ValueError with what is wrong
        return value


class ConsoleSettings(BaseSettings):
    # The operators' console (/console, issue #16).
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
