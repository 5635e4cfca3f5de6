"""Senders, one per provider, chosen per channel by settings (`GATEWAY_SMS_SENDER`,
`GATEWAY_WHATSAPP_SENDER`, `GATEWAY_TELEGRAM_SENDER`). What a sender keeps in Redis (the
sink's stream, Telegram's per-chat pace) is a store of `gateway.state.outbox` it is given."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import structlog

from gateway.alerts.templates import definitions
from gateway.outbox.model import OutChannel, TemplateCall
from gateway.outbox.queue import Outbox
from gateway.outbox.senders.base import Sender
from gateway.outbox.senders.sink import SinkSender
from gateway.settings import SenderName, Settings
from gateway.state.connections import RedisClient
from gateway.state.keys import Keys
from gateway.state.outbox.bucket import ChatBuckets
from gateway.state.outbox.sink import SinkStream
from gateway.state.whatsapp import WhatsAppWindow

__all__ = ["Sender", "SinkSender", "build_senders"]

log = structlog.get_logger("gateway.outbox")


def build_senders(
    settings: Settings, *, redis: RedisClient, outbox: Outbox, http: httpx.AsyncClient
) -> dict[OutChannel, Sender]:
    """The sender of each channel that has one (`redis` holds their stores)."""
    senders: dict[OutChannel, Sender] = {}
    if settings.sms_sender is SenderName.SINK:
        senders[OutChannel.SMS] = SinkSender(
            SinkStream(redis, outbox.keys), outbox, latency_s=settings.sink_latency_s
        )
    elif settings.sms_sender is SenderName.TWILIO:
        from gateway.channels.twilio_sms import STATUS_ROUTE
        from gateway.outbox.senders.twilio import TwilioSmsSender

        token = settings.twilio_auth_token
        senders[OutChannel.SMS] = TwilioSmsSender(
            account_sid=settings.twilio_account_sid or "",
            auth_token=token.get_secret_value() if token is not None else "",
            sender=settings.twilio_sms_from or "",
            status_callback=settings.public_url + STATUS_ROUTE,
            http=http,
        )
    elif settings.sms_sender is SenderName.KANNEL:
        from gateway.channels.kannel_sms import DLR_ROUTE
        from gateway.outbox.senders.kannel import KannelSender

        password, token = settings.kannel_sendsms_password, settings.kannel_callback_token
        senders[OutChannel.SMS] = KannelSender(
            url=settings.kannel_sendsms_url,
            username=settings.kannel_sendsms_user or "",
            password=password.get_secret_value() if password is not None else "",
            sender=settings.kannel_sms_from or "",
            # The token is URL-safe (settings); Kannel adds `msg` and `status` to it.
            dlr_url=settings.kannel_base_url
            + DLR_ROUTE
            + f"?token={token.get_secret_value() if token is not None else ''}",
            http=http,
            smsc=settings.kannel_smsc,
            routes=settings.kannel_routes,
            dlr_mask=settings.kannel_dlr_mask,
            max_parts=settings.kannel_max_parts,
        )
    senders.update(chat_senders(settings, redis=redis, outbox=outbox, http=http))
    return senders


def chat_senders(
    settings: Settings, *, redis: RedisClient, outbox: Outbox, http: httpx.AsyncClient
) -> dict[OutChannel, Sender]:
    """WhatsApp's and Telegram's senders (issue #9)."""
    senders: dict[OutChannel, Sender] = {}
    if settings.whatsapp_sender is SenderName.SINK:
        senders[OutChannel.WHATSAPP] = SinkSender(
            SinkStream(redis, outbox.keys),
            outbox,
            latency_s=settings.sink_latency_s,
            window=WhatsAppWindow(redis, Keys(_identity(settings))),
        )
    elif settings.whatsapp_sender is SenderName.TWILIO:
        from gateway.channels.twilio_whatsapp import STATUS_ROUTE
        from gateway.outbox.senders.twilio_whatsapp import TwilioWhatsAppSender

        token = settings.twilio_auth_token
        _warn_missing_content_sids(settings.twilio_whatsapp_content_sids)
        senders[OutChannel.WHATSAPP] = TwilioWhatsAppSender(
            account_sid=settings.twilio_account_sid or "",
            auth_token=token.get_secret_value() if token is not None else "",
            sender=settings.twilio_whatsapp_from or "",
            status_callback=settings.public_url + STATUS_ROUTE,
            http=http,
            content_sids=settings.twilio_whatsapp_content_sids,
            window=WhatsAppWindow(redis, Keys(_identity(settings))),
        )
    elif settings.whatsapp_sender is SenderName.META:
        from gateway.outbox.senders.meta import MetaSender

        access = settings.meta_access_token
        senders[OutChannel.WHATSAPP] = MetaSender(
            access_token=access.get_secret_value() if access is not None else "",
            phone_number_id=settings.meta_phone_number_id or "",
            graph_url=settings.meta_graph_url,
            http=http,
            window=WhatsAppWindow(redis, Keys(_identity(settings))),
        )
    if settings.telegram_sender is SenderName.SINK:
        senders[OutChannel.TELEGRAM] = SinkSender(
            SinkStream(redis, outbox.keys), outbox, latency_s=settings.sink_latency_s
        )
    elif settings.telegram_sender is SenderName.TELEGRAM:
        from gateway.outbox.senders.telegram import TelegramSender

        bot_token = settings.telegram_bot_token
        senders[OutChannel.TELEGRAM] = TelegramSender(
            token=bot_token.get_secret_value() if bot_token is not None else "",
            base_url=settings.telegram_api_url,
            http=http,
            outbox=outbox,
            chats=ChatBuckets(redis, outbox.keys, rate=settings.telegram_chat_rate),
        )
    return senders


def _identity(settings: Settings) -> bytes:
    """The key the users' hashes are made with (the window's keys are the sessions')."""
    return settings.identity_key.get_secret_value().encode()


def _warn_missing_content_sids(sids: Mapping[str, str]) -> None:
    """Alerts outside the 24-hour window need a Content SID per template key: say at start
    which are missing (those alerts would be recorded failed, `no_content_sid`)."""
    keys = {TemplateCall(name=d["name"], lang=d["language"]).key for d in definitions()}
    missing, unknown = sorted(keys - set(sids)), sorted(set(sids) - keys)
    if missing or unknown:
        log.warning("twilio_whatsapp_content_sids_incomplete", missing=missing, unknown=unknown)
