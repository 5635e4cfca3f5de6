"""The terminal phone of `python -m gateway simulate`: one handset module per channel."""

from gateway.simulate import (  # noqa: F401 - each registers its handset in PHONES
    sms,
    telegram,
    ussd,
    voice,
    whatsapp,
    whatsapp_meta,
)
from gateway.simulate.inbox import MESSAGES_ROUTE, Inbox, SentMessage, show_message
from gateway.simulate.phones import PHONES, Phone, register
from gateway.simulate.session import converse, in_process_gateway, simulator_log_file
from gateway.simulate.sms import SMS_ROUTE, twiml_text
from gateway.simulate.ussd import USSD_ROUTE

__all__ = [
    "MESSAGES_ROUTE",
    "PHONES",
    "SMS_ROUTE",
    "USSD_ROUTE",
    "Inbox",
    "Phone",
    "SentMessage",
    "converse",
    "in_process_gateway",
    "register",
    "show_message",
    "simulator_log_file",
    "twiml_text",
]
