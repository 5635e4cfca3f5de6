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
    return senders
