"""Each channel's pace and each operator link's, from the settings: the token buckets every
sender worker shares (`gateway.outbox.throttle`).

The provider-wide pace of each channel (`GATEWAY_OUTBOX_RATE_SMS`, `…_WHATSAPP`,
`…_TELEGRAM`, messages per second) keeps its bucket (`…:tb:sms`); with Kannel, each link named
in `GATEWAY_OUTBOX_RATE_SMS_LINKS` (parts per second) has one more (`…:tb:sms-link:<smsc-id>`,
a burst of one second's parts).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from gateway.outbox.model import OutChannel
from gateway.outbox.senders.base import Sender
from gateway.outbox.senders.kannel import KannelSender
from gateway.outbox.throttle import LinkPacers, Pacer
from gateway.settings import Settings
from gateway.state.connections import RedisClient
from gateway.state.outbox.bucket import TokenBucket
from gateway.state.outbox.keys import OutboxKeys

__all__ = ["channel_pacers", "link_pacers"]


def channel_pacers(
    settings: Settings, redis: RedisClient, keys: OutboxKeys
) -> dict[OutChannel, Pacer]:
    """A pacer per channel over its provider-wide bucket."""
    paces = {
        OutChannel.SMS: (settings.outbox_rate_sms, settings.outbox_burst_sms),
        # issue #9: WhatsApp and Telegram (Telegram's per-chat pace is its sender's)
        OutChannel.WHATSAPP: (settings.outbox_rate_whatsapp, settings.outbox_burst_whatsapp),
        OutChannel.TELEGRAM: (settings.outbox_rate_telegram, settings.outbox_burst_telegram),
    }
    return {
        channel: Pacer(TokenBucket(redis, keys.bucket(channel.value), rate=rate, burst=burst))
        for channel, (rate, burst) in paces.items()
    }


def link_pacers(
    settings: Settings,
    redis: RedisClient,
    keys: OutboxKeys,
    senders: Mapping[OutChannel, Sender],
    *,
    clock: Callable[[], int] | None = None,
) -> LinkPacers | None:
    """The operator links' pacers, when SMS leave through Kannel and links have a pace."""
    sender = senders.get(OutChannel.SMS)
    rates = settings.outbox_rate_sms_links
    if not rates or not isinstance(sender, KannelSender):
        return None
    sms = OutChannel.SMS.value
    buckets = {
        link: TokenBucket(
            redis,
            keys.link_bucket(sms, link),
            rate=rate,
            burst=max(1, math.ceil(rate)),
            clock=clock,  # tests' (ms); None: Redis' own
        )
        for link, rate in rates.items()
    }
    return LinkPacers(buckets, link_of=sender.link_of, parts_of=sender.parts_of)
