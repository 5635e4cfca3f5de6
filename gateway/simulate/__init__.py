"""The terminal phone of `python -m gateway simulate` (`gateway/cli/simulate.py`) and the
console's simulator: one handset module per channel."""

from gateway.simulate import (  # noqa: F401 - each registers its handset in PHONES
    sms,
    telegram,
    ussd,
    voice,
    whatsapp,
    whatsapp_meta,
)
from gateway.simulate.inbox import (
    MESSAGES_ROUTE,
    REPLY_POLL_S,
    REPLY_WAIT_S,
    Inbox,
    SentMessage,
    show_message,
)
from gateway.simulate.phones import PHONES, Phone, register
from gateway.simulate.sms import SMS_ROUTE, twiml_text
from gateway.simulate.ussd import USSD_ROUTE

__all__ = [
    "MESSAGES_ROUTE",
    "PHONES",
    "REPLY_POLL_S",
    "REPLY_WAIT_S",
    "SMS_ROUTE",
    "USSD_ROUTE",
    "Inbox",
    "Phone",
    "SentMessage",
    "register",
    "show_message",
    "twiml_text",
]
