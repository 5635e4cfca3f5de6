"""WhatsApp's 24-hour window at send time: a session message or the alert's template.

Within 24 hours of a parent's last WhatsApp message any text may be sent; past it only an
approved template (CHANNELS.md §2, §3). Alerts carry the template they become
(`OutMessage.template`, `gateway/alerts/templates.py`); both WhatsApp senders ask `template_of`
just before they send, so an alert that waited in the queue is judged when it leaves. The
window is read from `gateway.state.whatsapp` (written by every inbound WhatsApp message).
A reply always answers a message, so it is never a template; a message without one
(a follow-up) goes as it is. When the window store does not answer, the template is sent:
it reaches the parent in or out of the window, a session message outside it would not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import structlog

from gateway.outbox.model import MessageKind, OutMessage, TemplateCall
from gateway.state.errors import StoreError

__all__ = ["Window", "template_of"]

log = structlog.get_logger("gateway.outbox.window")


class Window(Protocol):
    """`gateway.state.whatsapp.WhatsAppWindow`."""

    async def is_open(self, phone: str, now: datetime) -> bool: ...


async def template_of(
    msg: OutMessage, window: Window | None, now: datetime | None = None
) -> TemplateCall | None:
    """The template `msg` must go out as, or None for a session (free-form) message.
    `window` None: the sender tracks no window (free-form, as before templates)."""
    if msg.template is None or msg.kind is MessageKind.REPLY or window is None:
        return None
    try:
        inside = await window.is_open(msg.to, now or datetime.now(UTC))
    except StoreError as exc:
        log.warning("whatsapp_window_unknown", outbox_id=msg.id, error=type(exc).__name__)
        return msg.template
    return None if inside else msg.template
