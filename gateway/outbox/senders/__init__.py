"""Senders, one per provider, chosen per channel by settings (`GATEWAY_SMS_SENDER`)."""

from __future__ import annotations

import httpx
from redis.asyncio import Redis

from gateway.outbox.model import OutChannel
from gateway.outbox.queue import Outbox
from gateway.outbox.senders.base import Sender
from gateway.outbox.senders.sink import SinkSender
from gateway.settings import SenderName, Settings

__all__ = ["Sender", "SinkSender", "build_senders"]


def build_senders(
    settings: Settings, *, redis: Redis, outbox: Outbox, http: httpx.AsyncClient
) -> dict[OutChannel, Sender]:
    """The sender of each channel that has one."""
    senders: dict[OutChannel, Sender] = {}
    if settings.sms_sender is SenderName.SINK:
        senders[OutChannel.SMS] = SinkSender(redis, outbox)
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
    return senders
