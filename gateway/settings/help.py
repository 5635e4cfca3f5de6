"""One line of help per setting: what `python -m gateway settings --template` (and so
`deploy/gateway.env.example`) says above each `GATEWAY_*` variable.

Every field of `Settings` has its line here and nothing else does (tests/deploy pins both ways).
A secret's line says what it is; the template adds how to get one and never shows a value.
"""

from __future__ import annotations

HELP: dict[str, str] = {
    # --- the gateway (Settings) --------------------------------------------------------------
    "env": "development, test or production: production refuses demo secrets, the in-process "
    "Redis stand-in and the sink sender",
    "host": "Address `serve` listens on, and the worker's and alerts' --metrics-port",
    "port": "Port `serve` listens on",
    "public_url": "The https:// origin providers call and sign (https://gw.example.ma), exactly "
    "as they see it, no trailing slash",
    "var_dir": "Directory for the gateway's own files (the simulator's logs)",
    "redis_url": "redis:// or rediss:// URL of the shared Redis (sessions, outbox, breaker); "
    "unset: an in-process stand-in, for development only",
    "redis_managed_ack": "true: a managed Redis that refuses CONFIG GET persists and never evicts "
    "(the operator says so); else production refuses it",
    "redis_timeout_s": "Seconds one Redis command or connection may take before it counts as "
    "Redis being down",
    "database_url": "SQLAlchemy URL of the database (postgresql+psycopg://user:password@host/db "
    "in production)",
    "backend_url": "Base URL of Massar's API",
    "backend_token": "Bearer token of Massar's API",
    "backend_timeout_s": "Seconds one backend call may take",
    "ussd_budget_s": "Seconds a USSD turn may take, backend included; a slower answer follows "
    "by SMS",
    "sms_budget_s": "Seconds an SMS or chat turn may take, backend included",
    "cache_ttl_guardian_s": "Seconds a guardian's children are cached",
    "cache_ttl_grades_s": "Seconds marks are cached",
    "cache_ttl_absences_s": "Seconds absences are cached",
    "cache_ttl_enrolment_s": "Seconds enrolment decisions are cached",
    "cache_ttl_meta_s": "Seconds the school year and semester are cached",
    "cache_stale_s": "Seconds a stale copy is kept to answer while the backend fails (at most "
    "86400)",
    "singleflight_lease_s": "Seconds one worker's backend call stands for all callers of the "
    "same key",
    "breaker_failures": "Backend failures within the window that open the shared breaker",
    "breaker_window_s": "Seconds over which the breaker counts failures",
    "breaker_cooldown_s": "Seconds the breaker stays open before trying the backend again",
    "breaker_probes": "Calls let through while the breaker is half-open",
    "rate_limit_per_minute": "Turns one phone may start a minute",
    "backend_max_concurrency": "Backend calls in flight per worker process",
    "max_turns_in_flight": "Turns one worker runs at once; past it a turn is answered busy",
    "followup_budget_s": "Seconds a follow-up's backend calls may take in all",
    "followup_max_age_s": "Seconds a follow-up waits for the backend before it is given up",
    "followup_backend_timeout_s": "Seconds per backend call while composing a follow-up",
    "followup_retry_cap_s": "Longest pause between a follow-up's tries",
    "sms_sender": "How SMS leave: sink (recorded, not sent), twilio or kannel",
    "sink_latency_s": "Seconds the sink sender takes to answer, as a provider would (tests only)",
    "twilio_account_sid": "Twilio account SID (AC…)",
    "twilio_sms_from": "Twilio sender: an E.164 number or a Messaging Service SID (MG…)",
    "outbox_rate_sms": "SMS per second, all sender workers together (the provider's limit; "
    "with Kannel at least the links' sum)",
    "outbox_burst_sms": "SMS that may leave at once above that pace",
    "outbox_max_attempts": "Tries of a message before it is recorded failed",
    "outbox_concurrency": "Sends in flight per sender worker",
    "outbox_high_water": "Bulk messages waiting in the outbox past which bulk producers (alerts) "
    "pause",
    "outbox_low_water": "Bulk messages waiting below which paused bulk producers go on",
    "outbox_rate_sms_links": "SMS parts per second per Kannel link (smsc-id), all workers "
    "together: the SMPP bind's throughput (empty: the provider-wide pace only)",
    "outbox_lease_s": "Seconds a claimed message is one worker's alone (above the follow-up "
    "budget)",
    "outbox_reclaim_idle_s": "Seconds after which another worker takes over a dead worker's "
    "messages (above the lease)",
    "embedded_sender": "true: the app sends the outbox itself; unset: only on the in-process "
    "Redis stand-in",
    "message_body_retention_h": "Hours sent messages' texts are kept in the records",
    "unmatched_retention_days": "Days unmatched messages (masked) are kept",
    "channels": "Channels switched on, comma-separated (enable only what you run)",
    "admin_token": "Bearer token of the /admin API",
    "identity_key": "Key of the HMACs that stand for phones and codes, the same on every process; "
    "rotated with GATEWAY_IDENTITY_KEY_PREVIOUS and `rekey`",
    "identity_key_previous": "The identity keys GATEWAY_IDENTITY_KEY replaced, oldest first, "
    "comma-separated; kept for good (the hash chain needs them)",
    "log_format": "json or console; unset: json in production",
    "log_level": "Log level (DEBUG, INFO, WARNING, ERROR)",
    "log_file": "File the log goes to; unset: standard output (the journal)",
    "at_ussd_token": "Token in Africa's Talking's USSD callback URL",
    "twilio_auth_token": "Twilio auth token (checks the signatures of Twilio's calls)",
    "twilio_webhook_shared_key": "Shared key of a Twilio Webhook Rule (HMAC-SHA256 signatures); "
    "unset: the auth token signs",
    "meta_app_secret": "Meta app secret (signs WhatsApp Cloud API notifications)",
    "meta_verify_token": "Verify token of the WhatsApp webhook subscription",
    "telegram_bot_token": "Telegram bot token from BotFather",
    "telegram_webhook_secret": "Telegram webhook secret (1-256 of A-Z a-z 0-9 _ -)",
    # --- Kannel (KannelSettings) ---------------------------------------------------------------
    "kannel_callback_token": "Token in Kannel's post-url and dlr-url (letters, digits, . _ ~ -)",
    "kannel_allowed_ips": "Addresses or networks Kannel calls from, comma-separated",
    "kannel_callback_url": "The gateway as Kannel reaches it (delivery reports); unset: the "
    "public URL",
    "kannel_sendsms_url": "Kannel's sendsms URL",
    "kannel_sendsms_user": "Kannel sendsms-user name",
    "kannel_sendsms_password": "Kannel sendsms-user password",
    "kannel_sms_from": "Short code of messages that answer no SMS (follow-ups, alerts)",
    "kannel_smsc": "Kannel link (smsc-id) of numbers no route names; unset: Kannel's choice",
    "kannel_routes": "Routes by number prefix: +21266:IAM:2020,+21270:INWI (prefix:smsc-id"
    "[:sender])",
    "kannel_dlr_mask": "Delivery reports asked of Kannel (bit mask: 1 delivered, 2 failed, 4 "
    "buffered, 8 taken, 16 refused)",
    "kannel_max_parts": "Parts one SMS may take: the sendsms-user's max-messages",
    "ussd_kannel_ops": "ussd_service_op values per operator link that differs: "
    "LINK:continue=2;LINK2:…",
    "ussd_kannel_end_on_result": "End a USSD session on a result with nothing left to choose",
    "ussd_orange_token": "Token in the operator xHTML USSD service URL; unset: the route refuses "
    "every call",
    # --- voice (VoiceSettings) ---------------------------------------------------------------
    "voice_ar": "Twilio voice of the Arabic menu",
    "voice_fr": "Twilio voice of the French menu",
    "voice_language_ar": "Twilio language code of the Arabic menu",
    "voice_language_fr": "Twilio language code of the French menu",
    "hotline_agents_number": "E.164 number `0` transfers a caller to (the agents' queue)",
    "voice_prompts_dir": "Directory of recorded prompts (<lang>/<hash>.mp3); a prompt not "
    "recorded is spoken by Twilio",
    "voice_budget_s": "Seconds a voice turn may take before its answer follows by SMS",
    "voice_gather_timeout_s": "Seconds the voice menu waits for a key",
    # --- WhatsApp and Telegram (ChatSettings) --------------------------------------------------
    "whatsapp_sender": "How WhatsApp messages leave: sink, twilio or meta",
    "telegram_sender": "How Telegram messages leave: sink or telegram",
    "twilio_whatsapp_from": "Twilio WhatsApp sender: whatsapp:+212… or a Messaging Service SID",
    "twilio_whatsapp_content_sids": "Content template SIDs of alerts outside the 24-hour "
    "window: absence.fr=HX…,… (keys: `whatsapp templates --keys`)",
    "meta_access_token": "Meta system user's permanent access token",
    "meta_phone_number_id": "Meta business phone number id",
    "meta_graph_url": "Meta Graph API base URL",
    "telegram_api_url": "Telegram Bot API base URL",
    "outbox_rate_whatsapp": "WhatsApp messages per second, all workers together",
    "outbox_burst_whatsapp": "WhatsApp messages that may leave at once above that pace",
    "outbox_rate_telegram": "Telegram messages per second, all workers together",
    "outbox_burst_telegram": "Telegram messages that may leave at once above that pace",
    "telegram_chat_rate": "Telegram messages per second into one chat",
    # --- alerts (AlertSettings) --------------------------------------------------------------
    "quiet_hours": "Local hours when alerts wait for the morning (21:00-07:00); none: never",
    "alerts_batch": "Change-feed events read per call (at most 200)",
    "alerts_poll_s": "Seconds between feed reads once it is read to its head",
    "alerts_lease_s": "Seconds after which another alerts process takes over a dead one",
    "alerts_digest_at": "Local time of the daily digest (HH:MM)",
    "alerts_weekly_at": "Day and local time of the weekly summary (fri 18:00; mon … sun)",
    "embedded_alerts": "true: the app reads the change feed itself; unset: only on the "
    "in-process Redis stand-in",
    # --- the console (ConsoleSettings) ---------------------------------------------------------
    "console_idle_timeout_s": "Seconds an idle console session lasts",
    "console_session_max_s": "Seconds a console session lasts whatever happens",
    "console_signin_failures": "Failed sign-ins from one address for one name that lock the pair",
    "console_signin_address_failures": "Failed sign-ins from one address that lock the address",
    "console_signin_lock_s": "Seconds a sign-in lock lasts",
    "console_signin_name_slow_after": "Failures of a name, from anywhere, after which it is "
    "checked at most once per interval",
    "console_signin_name_interval_s": "Seconds between checks of a name past those failures",
    "console_audit_anonymous_per_minute": "Failed sign-ins audited a minute (beyond: one line "
    "saying so)",
    "console_check_failures": "Failed checks of a child that stop an agent's checks",
    "console_check_lock_s": "Seconds an agent's checks stay stopped",
    "console_reveal_s": "Seconds a checked child's data stays shown to the agent",
    "console_networks": "Networks the console answers, comma-separated CIDR; unset: any",
    "console_demo_operators": "Make the demo accounts at start; unset: in development only",
    "console_open_simulator": "The simulator without sign-in; unset: in development only",
    "console_simulator_phones": "Numbers or prefixes (+2126999*) the simulator may use besides "
    "the demo phones",
    "leaflet_ussd_code": "USSD code printed on the leaflet",
    "leaflet_sms_number": "SMS number printed on the leaflet",
    "leaflet_whatsapp": "WhatsApp number printed on the leaflet",
    "leaflet_telegram": "Telegram bot printed on the leaflet",
    "leaflet_hotline": "Hotline number printed on the leaflet",
    "helpdesk_expiry_s": "Seconds an unanswered helpdesk message waits before it is closed",
    "helpdesk_closed_keep_s": "Seconds a closed helpdesk item keeps its texts",
    "admin_messages": "GET /admin/messages on; unset: outside production only",
    "admin_messages_texts": "Texts in /admin/messages; unset: outside production only",
    "admin_tokens": "Tokens of /admin/messages' clients: name:token,name2:token2",
    # --- the surface (SurfaceSettings) -------------------------------------------------------
    "api_docs": "/docs, /redoc and /openapi.json on; unset: off in production",
    "metrics_allowed_ips": "Addresses or networks allowed to read /metrics in production, "
    "comma-separated",
    "metrics_token": "Bearer token that also opens /metrics in production; unset: addresses only",
}
