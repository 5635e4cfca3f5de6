"""The helpdesk queue's state: a text message the gateway could not understand lands here; an
agent takes it in the console (`gateway.console.helpdesk`) and answers; the answer leaves
through the outbox on the parent's channel, in the parent's language (`send`: the outbox's
`reply`, handed in, so this layer knows no outbox message). An item nobody answered
within GATEWAY_HELPDESK_EXPIRY_S is closed with a polite message pointing to the hotline.

Redis, under one hash tag: `mg:{helpdesk}:open` (item ids by creation time, ms),
`mg:{helpdesk}:item:<id>` (the item as JSON), `mg:{helpdesk}:phone:<channel>:<hmac>` (a
phone's open item: a second message joins it) and `mg:{helpdesk}:byphone:<hmac>` (every item
of a phone, for "forget this number").

Retention (issue #21): the full number and the parent's words only while the item is open.
Closing it (answered, or expired) is one atomic step (whoever takes it out of the open set
closes it; a closed item can no longer be taken or answered): the number is masked, the
address to answer dropped, and the item with its texts is deleted
`GATEWAY_HELPDESK_CLOSED_KEEP_S` later (24 h). An item never closed (nobody read the queue)
is deleted that long after it should have expired.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.dialogs.model import Inbound
from gateway.i18n import LANGS, N_, translator
from gateway.state.errors import StoreUnavailable, translated
from gateway.state.keyring import KeyRing
from gateway.state.keys import Keys
from gateway.state.outbox.records import mask_address

__all__ = ["EXPIRED_TEXT", "TEXT_CHANNELS", "HelpdeskQueue", "Item", "Send"]

log = structlog.get_logger("gateway.helpdesk")

Send = Callable[[str, str, str, str], Awaitable[object]]
"""Queue one text to a parent: (channel, address, idempotency key, text)."""

TEXT_CHANNELS = frozenset({"sms", "whatsapp", "telegram"})
MAX_MESSAGES = 50
EXPIRED_TEXT = N_(
    "Sorry, nobody could answer your message in time. Please call the hotline: %(hotline)s"
)


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    phone: str
    channel: str
    lang: str
    created: float
    taken_by: str | None
    messages: list[dict[str, Any]]
    # Where the answer goes on `channel`: the phone on SMS and WhatsApp, the chat on Telegram
    # (`telegram:<chat id>`); "" in an item queued before the field existed (the phone), and
    # in a closed item.
    address: str = ""
    closed: bool = False  # answered or expired: `phone` is masked, nothing can be sent

    @property
    def to(self) -> str:
        return self.address or self.phone

    @property
    def masked(self) -> str:
        return mask_address(self.phone)

    @property
    def created_at(self) -> datetime:
        return datetime.fromtimestamp(self.created, UTC)


@translated
class HelpdeskQueue:
    """The `Handover` of `gateway.state.unmatched`, and what the console's queue pages read
    (`gateway.console.helpdesk`)."""

    def __init__(
        self,
        redis: Redis,
        *,
        key_secret: bytes | KeyRing,
        send: Send,
        expiry_s: int,
        hotline: str,
        closed_keep_s: int = 86400,
    ) -> None:
        self.redis, self.keys, self.send = redis, Keys(key_secret), send
        self.expiry_s, self.hotline, self.closed_keep_s = expiry_s, hotline, closed_keep_s
        # After a rotation, a phone's open item and "forget this number" are also found under
        # the previous key (for `REDIS_CARRY`, longer than an item lives by default).
        ring = self.keys.ring
        self._names = [self.keys] + ([Keys(ring.previous)] if ring.carry and ring.previous else [])

    @property
    def open_ttl_s(self) -> int:
        return self.expiry_s + self.closed_keep_s

    def _by_phone_key(self, phone: str) -> str:
        return self.keys.helpdesk_by_phone(phone)

    def _item_key(self, item_id: str) -> str:
        return self.keys.helpdesk_item(item_id)

    def _phone_key(self, phone: str, channel: str) -> str:
        """A phone's open item on one channel (the answer goes back where the parent wrote)."""
        return self.keys.helpdesk_phone(phone, channel)

    async def unmatched(self, inbound: Inbound, lang: str) -> None:
        """Queue (or add to the phone's open item on that channel) a text message nobody
        understood, or a question written after "talk to a person"."""
        if inbound.channel.value not in TEXT_CHANNELS or not inbound.text.strip():
            return
        message = {"from": "parent", "text": inbound.text[:1000], "at": time.time()}
        try:
            channel = inbound.channel.value
            item = await self._open_item_of(inbound.sender, channel)
            if item is None:
                item = Item(
                    id=uuid.uuid4().hex,
                    phone=inbound.sender,
                    channel=channel,
                    lang=lang if lang in LANGS else "ar",
                    created=time.time(),
                    taken_by=None,
                    messages=[],
                    address=inbound.reply_to or inbound.sender,
                )
                await self.redis.zadd(self.keys.helpdesk_open, {item.id: int(item.created * 1000)})
                phone_key = self._phone_key(item.phone, channel)
                await self.redis.set(phone_key, item.id, ex=self.open_ttl_s)
                by_phone = self._by_phone_key(item.phone)
                await self.redis.sadd(by_phone, item.id)
                await self.redis.expire(by_phone, self.open_ttl_s)
            item.messages.append(message)
            await self._save(item)
        except (RedisError, StoreUnavailable) as exc:  # `get` says StoreUnavailable
            log.warning("helpdesk_not_queued", error=type(exc).__name__)

    async def _open_item_of(self, phone: str, channel: str) -> Item | None:
        item_id = None
        for keys in self._names:  # after a rotation, an item opened under the previous key
            item_id = await self.redis.get(keys.helpdesk_phone(phone, channel))
            if item_id is not None:
                break
        if item_id is None:
            return None
        return await self.get(item_id.decode() if isinstance(item_id, bytes) else str(item_id))

    async def _save(self, item: Item) -> None:
        doc = {
            "id": item.id,
            "phone": item.phone,
            "channel": item.channel,
            "lang": item.lang,
            "created": item.created,
            "taken_by": item.taken_by,
            "messages": item.messages[-MAX_MESSAGES:],
            "address": item.address,
            "closed": item.closed,
        }
        ttl = self.closed_keep_s if item.closed else self.open_ttl_s
        await self.redis.set(self._item_key(item.id), json.dumps(doc), ex=ttl)

    async def get(self, item_id: str) -> Item | None:
        if not item_id.isalnum() or len(item_id) != 32:
            return None
        raw = await self.redis.get(self._item_key(item_id))
        if raw is None:
            return None
        doc = json.loads(raw)
        return Item(**doc)

    async def open_items(self, now: float | None = None) -> list[Item]:
        """Open items, oldest first, after closing those past the expiry; `StoreUnavailable`
        when Redis does not answer."""
        try:
            await self.expire(now)
            ids = await self.redis.zrange(self.keys.helpdesk_open, 0, 199)
            items = [await self.get(i.decode() if isinstance(i, bytes) else str(i)) for i in ids]
        except RedisError as exc:
            raise StoreUnavailable("the helpdesk queue cannot be read") from exc
        return [item for item in items if item is not None]

    async def take(self, item: Item, operator: str) -> Item | None:
        """The item taken by `operator`; None when it is closed."""
        if item.closed or not await self.is_open(item.id):
            return None
        taken = Item(**{**_fields(item), "taken_by": operator})
        await self._save(taken)
        return taken

    async def is_open(self, item_id: str) -> bool:
        return await self.redis.zscore(self.keys.helpdesk_open, item_id) is not None

    async def answer(self, item: Item, operator: str, text: str) -> bool:
        """Send `text` to the parent through the outbox on their channel, closing the item;
        False when it was closed already (answered by someone else, or expired)."""
        if item.closed or not await self._claim(item):
            return False
        await self._send(item, text, key=f"helpdesk:{item.id}:{len(item.messages)}")
        item.messages.append({"from": operator, "text": text, "at": time.time()})
        await self._close(item)
        return True

    async def _claim(self, item: Item) -> bool:
        """Take the item out of the open set: whoever does closes it (one of two agents
        answering at once, or the expiry)."""
        return bool(await self.redis.zrem(self.keys.helpdesk_open, item.id))

    async def expire(self, now: float | None = None) -> int:
        """Close the items older than the expiry with the hotline message; how many."""
        cutoff_ms = int(((now or time.time()) - self.expiry_s) * 1000)
        ids = await self.redis.zrangebyscore(self.keys.helpdesk_open, "-inf", cutoff_ms)
        closed = 0
        for raw in ids:
            item_id = raw.decode() if isinstance(raw, bytes) else str(raw)
            item = await self.get(item_id)
            if item is None:
                await self.redis.zrem(self.keys.helpdesk_open, item_id)
                continue
            if item.closed or not await self._claim(item):
                continue  # answered meanwhile
            text = translator(item.lang).gettext(EXPIRED_TEXT, hotline=self.hotline)
            await self._send(item, text, key=f"helpdesk:{item.id}:expired")
            await self._close(item)
            closed += 1
        return closed

    async def _send(self, item: Item, text: str, *, key: str) -> None:
        await self.send(item.channel, item.to, key, text)

    async def _close(self, item: Item) -> None:
        """Out of the queue: the number masked, the address dropped, the texts kept
        `closed_keep_s` more (then the item is deleted)."""
        await self.redis.zrem(self.keys.helpdesk_open, item.id)
        await self.redis.delete(self._phone_key(item.phone, item.channel))
        closed = Item(
            **{**_fields(item), "phone": mask_address(item.phone), "address": "", "closed": True}
        )
        await self._save(closed)

    async def forget(self, phone: str) -> int:
        """Delete every item of `phone`, open or closed ("forget this number"); how many."""
        ids: list[str] = []
        for keys in self._names:
            found = await self.redis.smembers(keys.helpdesk_by_phone(phone))
            ids += [i.decode() if isinstance(i, bytes) else str(i) for i in found]
        ids = list(dict.fromkeys(ids))
        async with self.redis.pipeline(transaction=False) as pipe:
            for item_id in ids:
                pipe.zrem(self.keys.helpdesk_open, item_id)
                pipe.delete(self._item_key(item_id))
            for keys in self._names:
                for channel in TEXT_CHANNELS:
                    pipe.delete(keys.helpdesk_phone(phone, channel))
                pipe.delete(keys.helpdesk_by_phone(phone))
            await pipe.execute()
        return len(ids)


def _fields(item: Item) -> dict[str, Any]:
    return {name: getattr(item, name) for name in Item.__slots__}
