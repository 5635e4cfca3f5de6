"""Settings: the GATEWAY_ prefix, channel lists, and production's refusal of demo secrets."""

from __future__ import annotations

import pydantic
import pytest

from gateway.settings import DEMO_SECRETS, Channel, Settings

STRONG = {
    "env": "production",
    "redis_url": "redis://10.0.0.5:6379/0",
    "public_url": "https://gateway.example.ma",
    "backend_token": "b" * 32,
    "admin_token": "37Abfg881QUYQbHjMvYsAOkajxikEAUk3xBMNV2ynVI",
    "identity_key": "W0-n1xrKl1vb4TCG-IjxrFx8xN_b-GtrY_1IeKN1psQ",
    "at_ussd_token": "8fJugtaEaTH8BYvsQfEyKY1VMtLcxITGsk5M05gehIo",
    "twilio_auth_token": "t" * 32,
    "kannel_callback_token": "ACwL7adRqAs1CgQU8GpXxwe-Fg24_Q0Fe-aUALJ5wA8",
    "meta_app_secret": "m" * 32,
    "meta_verify_token": "zUmpeaXN_RZMvDOtnkXdT8S6iXlm-5yQTXyQx9Ix2DA",
    "telegram_bot_token": "123456:" + "A" * 35,
    "telegram_webhook_secret": "vRpsTFoAt0m1VBbpiIJqa1-FT8gYJJWIg_fCQHDEtFU",
    "sms_sender": "twilio",
    "twilio_account_sid": "AC" + "0" * 32,
    "twilio_sms_from": "+212522000000",
    "hotline_agents_number": "+212537000000",  # the hotline's agents (voice, issue #14)
    "whatsapp_sender": "meta",
    "meta_access_token": "e" * 32,
    "meta_phone_number_id": "106540352242922",
    "telegram_sender": "telegram",
}


def test_variables_are_read_with_the_gateway_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("GATEWAY_BACKEND_URL", "http://backend:8100/api/v1/")
    monkeypatch.setenv("GATEWAY_CHANNELS", "ussd_africastalking, sms_twilio")
    monkeypatch.setenv("REDIS_URL", "redis://wrong")  # unprefixed: ignored
    settings = Settings()
    assert settings.redis_url == "redis://127.0.0.1:6379/3"
    assert settings.backend_url == "http://backend:8100/api/v1"
    assert settings.channels == {Channel.USSD_AFRICASTALKING, Channel.SMS_TWILIO}


def test_development_defaults_run_on_embedded_engines() -> None:
    settings = Settings()
    assert settings.redis_url is None
    assert settings.database_url.startswith("sqlite:///")
    assert settings.channels == frozenset(Channel)  # every channel has its adapter
    assert not settings.json_logs


def test_production_with_real_secrets_starts() -> None:
    settings = Settings(**STRONG)
    assert settings.json_logs


@pytest.mark.parametrize(
    ("field", "value", "variable"),
    [
        ("twilio_auth_token", "demo-twilio-auth-token", "GATEWAY_TWILIO_AUTH_TOKEN"),
        ("twilio_auth_token", None, "GATEWAY_TWILIO_AUTH_TOKEN"),
        ("at_ussd_token", "", "GATEWAY_AT_USSD_TOKEN"),
        ("at_ussd_token", "demo-at-ussd-token", "GATEWAY_AT_USSD_TOKEN"),
        ("backend_token", "sandbox-token", "GATEWAY_BACKEND_TOKEN"),
        ("admin_token", "demo-admin-token", "GATEWAY_ADMIN_TOKEN"),
        ("redis_url", None, "GATEWAY_REDIS_URL"),
        ("public_url", "http://gateway.example.ma", "GATEWAY_PUBLIC_URL"),
        ("admin_token", "x", "GATEWAY_ADMIN_TOKEN is shorter than 16"),
        ("identity_key", "k" * 15, "GATEWAY_IDENTITY_KEY is shorter than 16"),
        ("at_ussd_token", "short-token", "GATEWAY_AT_USSD_TOKEN is shorter than 16"),
        ("twilio_webhook_shared_key", "abc", "GATEWAY_TWILIO_WEBHOOK_SHARED_KEY is shorter"),
        ("sms_sender", "sink", "GATEWAY_SMS_SENDER=sink"),
        ("twilio_account_sid", None, "needs GATEWAY_TWILIO_ACCOUNT_SID"),
        ("twilio_sms_from", "", "needs GATEWAY_TWILIO_SMS_FROM"),
        ("kannel_callback_token", "demo-kannel-callback-token", "GATEWAY_KANNEL_CALLBACK_TOKEN"),
        ("kannel_callback_token", "short", "GATEWAY_KANNEL_CALLBACK_TOKEN is shorter than 16"),
        ("hotline_agents_number", None, "GATEWAY_HOTLINE_AGENTS_NUMBER"),
        ("hotline_agents_number", "+212522001122", "GATEWAY_HOTLINE_AGENTS_NUMBER"),
    ],
)
def test_production_refuses_a_missing_or_demo_secret(
    field: str, value: str | None, variable: str
) -> None:
    with pytest.raises(pydantic.ValidationError, match=variable):
        Settings(**{**STRONG, field: value})


def test_the_twilio_sender_needs_its_account_and_number_in_any_environment() -> None:
    with pytest.raises(pydantic.ValidationError, match="needs GATEWAY_TWILIO_ACCOUNT_SID"):
        Settings(sms_sender="twilio", twilio_sms_from="+212522000000")
    settings = Settings(
        sms_sender="twilio", twilio_account_sid="AC" + "0" * 32, twilio_sms_from="+212522000000"
    )
    assert settings.sms_sender == "twilio"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param(
            {"outbox_lease_s": 60, "outbox_reclaim_idle_s": 60}, "RECLAIM_IDLE_S", id="takeover"
        ),
        pytest.param(
            {"outbox_lease_s": 30, "outbox_reclaim_idle_s": 90, "followup_budget_s": 30},
            "LEASE_S must be longer than GATEWAY_FOLLOWUP_BUDGET_S",
            id="composing",
        ),
    ],
)
def test_an_outbox_lease_must_end_before_a_takeover_and_after_composing(
    values: dict[str, float], message: str
) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        Settings(**values)  # type: ignore[arg-type]


def test_a_provider_token_of_sixteen_characters_is_accepted() -> None:
    """Tokens a provider issues are checked against demo and known values, not measured."""
    settings = Settings(**{**STRONG, "twilio_auth_token": "t" * 16})
    assert settings.twilio_auth_token is not None


def test_production_ignores_the_secrets_of_a_disabled_channel() -> None:
    disabled = {"channels": "ussd_africastalking", "telegram_bot_token": None}
    settings = Settings(**{**STRONG, **disabled, "telegram_sender": "sink"})
    assert settings.channels == {Channel.USSD_AFRICASTALKING}


def test_every_shipped_default_secret_is_listed_as_demo() -> None:
    defaults = Settings()
    for name, field in Settings.model_fields.items():
        if field.annotation is not None and "SecretStr" in str(field.annotation):
            value = getattr(defaults, name)
            secrets = value.values() if isinstance(value, dict) else [value]  # named tokens
            for secret in secrets:
                if secret is not None:
                    assert secret.get_secret_value() in DEMO_SECRETS, name


def test_unknown_channel_name_is_rejected() -> None:
    with pytest.raises(pydantic.ValidationError, match="channels"):
        Settings(channels="sms_twilio,carrier_pigeon")


KANNEL = {
    **STRONG,
    "sms_sender": "kannel",
    "kannel_sendsms_user": "massar",
    "kannel_sendsms_password": "xlMnvGD6ZU3kUt2nyiUdNS-oxoCDkE67oe0Lb6NagIQ",
    "kannel_sms_from": "2020",
}


def test_production_with_the_kannel_sender_starts() -> None:
    assert Settings(**KANNEL).sms_sender == "kannel"


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"kannel_sendsms_password": "demo-kannel-sendsms-password"}, "SENDSMS_PASSWORD holds a"),
        ({"kannel_sendsms_password": "CHANGE_ME_SENDSMS_PASSWORD"}, "PASSWORD holds a demo"),
        ({"kannel_callback_token": "CHANGE_ME_CALLBACK_TOKEN"}, "CALLBACK_TOKEN holds a demo"),
        ({"kannel_sendsms_password": "p" * 15}, "SENDSMS_PASSWORD is shorter than 16"),
        # The delivery reports' route checks the token even with the inbound channel off.
        (
            {"channels": "ussd_africastalking", "kannel_callback_token": "x"},
            "GATEWAY_KANNEL_CALLBACK_TOKEN is shorter than 16",
        ),
    ],
)
def test_production_refuses_demo_or_short_kannel_secrets(
    changes: dict[str, str], variable: str
) -> None:
    with pytest.raises(pydantic.ValidationError, match=variable):
        Settings(**{**KANNEL, **changes})


@pytest.mark.parametrize("missing", ["kannel_sendsms_user", "kannel_sendsms_password"])
def test_the_kannel_sender_needs_its_credentials_and_short_code(missing: str) -> None:
    settings = {"sms_sender": "kannel", "kannel_sms_from": "2020", missing: None}
    with pytest.raises(pydantic.ValidationError, match=f"needs GATEWAY_{missing.upper()}"):
        Settings(**settings)  # type: ignore[arg-type]
    with pytest.raises(pydantic.ValidationError, match="needs GATEWAY_KANNEL_SMS_FROM"):
        Settings(sms_sender="kannel")


def test_kannel_allowlist_and_routes_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_KANNEL_ALLOWED_IPS", "10.0.4.7, 10.1.0.0/16,::1")
    monkeypatch.setenv("GATEWAY_KANNEL_ROUTES", "+21266:IAM:2020, +21270:INWI,+2126610:IAM:MASSAR")
    settings = Settings()
    assert [str(n) for n in settings.kannel_allowed_ips] == [
        "10.0.4.7/32",
        "10.1.0.0/16",
        "::1/128",
    ]
    assert [(r.prefix, r.smsc, r.sender) for r in settings.kannel_routes] == [
        ("+21266", "IAM", "2020"),
        ("+21270", "INWI", None),
        ("+2126610", "IAM", "MASSAR"),
    ]


def test_kannel_allows_only_loopback_by_default() -> None:
    assert [str(n) for n in Settings().kannel_allowed_ips] == ["127.0.0.1/32", "::1/128"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kannel_routes", "21266:IAM:2020"),  # no +
        ("kannel_routes", "+21266"),  # no link
        ("kannel_routes", "+21266:I AM"),
        ("kannel_routes", "+21266:IAM:TOO-LONG-SENDER-ID"),
        ("kannel_allowed_ips", "kannel.internal"),
        ("kannel_sms_from", "MASSAR-EDUCATION"),  # more than 11 characters
        ("kannel_smsc", "IAM;rm"),
        ("kannel_sendsms_url", "ftp://127.0.0.1:13013/cgi-bin/sendsms"),
        # Kannel reads `%` in its URLs as escape codes, and the token sits in two of them.
        ("kannel_callback_token", "abc%2Fdef-0123456789"),
        ("kannel_callback_token", "with space 0123456789"),
    ],
)
def test_malformed_kannel_settings_are_refused(field: str, value: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=field):
        Settings(**{field: value})  # type: ignore[arg-type]


def test_twilio_content_sids_are_read_per_template_key(monkeypatch: pytest.MonkeyPatch) -> None:
    fr, ar = "HX" + "a" * 32, "HX" + "B" * 32
    monkeypatch.setenv(
        "GATEWAY_TWILIO_WHATSAPP_CONTENT_SIDS", f"absence.fr={fr}, absence_full.ar={ar}"
    )
    assert Settings().twilio_whatsapp_content_sids == {"absence.fr": fr, "absence_full.ar": ar}
    assert Settings().model_copy().twilio_whatsapp_content_sids  # not lost on a copy


@pytest.mark.parametrize(
    "value",
    [
        "absence.fr",
        "absence.en=HX" + "a" * 32,
        "absence.fr=MG" + "a" * 32,
        "Absence.fr=HX" + "a" * 32,
    ],
    ids=["no-sid", "unknown-language", "not-a-content-sid", "upper-case"],
)
def test_malformed_content_sids_are_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("GATEWAY_TWILIO_WHATSAPP_CONTENT_SIDS", value)
    with pytest.raises(pydantic.ValidationError, match="twilio_whatsapp_content_sids"):
        Settings()


def test_the_single_variable_template_setting_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_TWILIO_WHATSAPP_TEMPLATE_SID", "HX" + "a" * 32)
    with pytest.raises(
        pydantic.ValidationError, match="replaced by GATEWAY_TWILIO_WHATSAPP_CONTENT"
    ):
        Settings()
