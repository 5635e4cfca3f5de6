"""USSD: one provider-neutral core (`core`) and a module per provider that hands its requests
over to it: `africastalking` (form posts, `*`-joined path), `kannel` (operators' SMPP USSD
gateways through Kannel's smsbox), `orange` (an xHTML-over-HTTP operator API, #303#-style)."""
