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
    return senders
