"""WhatsApp through Twilio: the SMS handset with `whatsapp:` addresses (numbered options)."""

from __future__ import annotations

from gateway.simulate.phones import register
from gateway.simulate.sms import TwilioSmsPhone

WHATSAPP_ROUTE = "/channels/whatsapp/twilio"


@register("whatsapp")
class TwilioWhatsAppPhone(TwilioSmsPhone):
    route = WHATSAPP_ROUTE
    address_prefix = "whatsapp:"
    session_channel = "whatsapp"
