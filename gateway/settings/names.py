"""The names settings are made of: environments, senders, channels, and the demo's secrets."""

from __future__ import annotations

from enum import StrEnum


class Env(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class SenderName(StrEnum):
    SINK = "sink"  # records instead of sending (development, tests, the demo)
    TWILIO = "twilio"
    KANNEL = "kannel"  # Kannel's sendsms, to operators' SMSCs over SMPP
    META = "meta"  # WhatsApp Cloud API (Graph API)
    TELEGRAM = "telegram"  # Telegram Bot API


class Channel(StrEnum):
    USSD_AFRICASTALKING = "ussd_africastalking"
    USSD_KANNEL = "ussd_kannel"  # operators' USSD gateways over SMPP, through Kannel
    USSD_ORANGE = "ussd_orange"  # an operator's xHTML pages (#303#-style); needs its token
    SMS_TWILIO = "sms_twilio"
    SMS_KANNEL = "sms_kannel"
    WHATSAPP_TWILIO = "whatsapp_twilio"
    WHATSAPP_META = "whatsapp_meta"
    TELEGRAM = "telegram"
    VOICE_TWILIO = "voice_twilio"


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
        "demo-meta-access-token",
    }
)

DEMO_AGENTS_NUMBER = "+212522001122"  # where `0` transfers a demo call; production refuses it

# Which secrets each channel needs before it may take traffic.
CHANNEL_SECRETS: dict[Channel, tuple[str, ...]] = {
    Channel.USSD_AFRICASTALKING: ("at_ussd_token",),
    Channel.SMS_TWILIO: ("twilio_auth_token",),
    Channel.SMS_KANNEL: ("kannel_callback_token",),
    Channel.USSD_KANNEL: ("kannel_callback_token",),
    Channel.USSD_ORANGE: (),  # refuses every call until GATEWAY_USSD_ORANGE_TOKEN is set
    Channel.WHATSAPP_TWILIO: ("twilio_auth_token",),
    Channel.VOICE_TWILIO: ("twilio_auth_token",),
    Channel.WHATSAPP_META: ("meta_app_secret", "meta_verify_token", "meta_access_token"),
    Channel.TELEGRAM: ("telegram_bot_token", "telegram_webhook_secret"),
}


# Shorter secrets can be guessed or were typed by hand ("x", "admin"): production refuses them.
MIN_SECRET_CHARS = 16


class InsecureSettings(ValueError):
    """Production settings hold a missing or demo secret; `problems` names the variables."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("refusing to start: " + "; ".join(problems))
        self.problems = problems
