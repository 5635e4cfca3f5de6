"""Twilio Messaging adapter: inbound SMS (`/channels/sms/twilio`) and delivery status callbacks
(`/channels/sms/twilio/status`), CHANNELS.md §1, §7, §8, §9.

Recorded forms from `tests/fixtures/twilio/`, signed here with twilio's own
`RequestValidator` over `PUBLIC_URL + path` and every posted field, as Twilio signs them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from gateway.channels import twilio_sms
from gateway.channels.common import PayloadError
from gateway.deps import runtime_of
from gateway.dialogs import texts
from gateway.dialogs.pages import gsm_fold
from gateway.i18n import translator
from gateway.outbox.model import MessageKind, OutChannel, outbound
from gateway.state.outbox.records import Outcome
from gateway.text import segments
from tests.gateway.channels.conftest import (
    HeldBackend,
    SpareGuardian,
    fixture,
    lang_of,
    send_twice_while_the_first_waits,
    total,
    wrong_date,
)
from tests.gateway.conftest import PUBLIC_URL, TWILIO_TOKEN, sign_twilio

ROUTE = twilio_sms.ROUTE
STATUS_ROUTE = twilio_sms.STATUS_ROUTE
GUARDIAN = "+212600000001"  # prefers Arabic; Youssef Z990000001 (14/09/2018), Salma Z990000002
FR_GUARDIAN = "+212600000002"  # prefers French; Adam Z990000003
UNLINKED = "+212600000099"  # a guardian record with no student
SHARED_KEY = "test-webhook-shared-key"  # the Webhook Rule's SharedKey (HMAC-SHA256)

Calls = Callable[[], dict[str, dict[str, int]]]


def say(lang: str, msgid: str, **values: object) -> str:
    text = translator(lang).gettext(msgid, **values)
    return gsm_fold(text) if lang == "fr" else text


def inbound(body: str, phone: str = GUARDIAN, *, sid: str | None = None) -> dict[str, str]:
    """The recorded inbound SMS with another body, sender and a fresh MessageSid."""
    sid = sid or "SM" + uuid.uuid4().hex
    form = fixture("twilio", "inbound_sms")
    return {
        **form,
        "Body": body,
        "From": phone,
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
    }


def signed(
    client: TestClient, path: str, params: dict[str, str], *, token: str = TWILIO_TOKEN
) -> httpx.Response:
    signature = sign_twilio(PUBLIC_URL + path, params, token)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def twiml_messages(response: httpx.Response) -> list[str]:
    """The texts of the `<Message>` verbs of a TwiML answer (asserting it is one)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our gateway's own answer
    assert root.tag == "Response"
    assert all(child.tag == "Message" for child in root), response.text
    return [child.text or "" for child in root]


def one_message(response: httpx.Response) -> str:
    messages = twiml_messages(response)
    assert len(messages) == 1, response.text
    assert messages[0].strip(), response.text
    return messages[0]


@dataclass
class Sms:
    """A handset texting the gateway; every message gets a new MessageSid."""

    client: TestClient
    phone: str
    sids: list[str] = field(default_factory=list)

    def send(self, body: str) -> str:
        params = inbound(body, self.phone)
        self.sids.append(params["MessageSid"])
        return one_message(signed(self.client, ROUTE, params))


# --- parse_payload ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "phone", "body"),
    [
        pytest.param("inbound_sms", GUARDIAN, "ABS", id="latin"),
        pytest.param("inbound_sms_arabic", GUARDIAN, "غياب", id="arabic"),
        pytest.param("inbound_sms_application", UNLINKED, "PRE-2026-0000001 01062020", id="app"),
        pytest.param("inbound_whatsapp", GUARDIAN, "ABS", id="whatsapp-prefixed-from"),
    ],
)
def test_parse_payload_reads_the_recorded_forms(name: str, phone: str, body: str) -> None:
    form = fixture("twilio", name)
    msg = twilio_sms.parse_payload(form)
    assert msg.message_sid == form["MessageSid"]
    assert msg.phone == phone
    assert msg.body == body


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param(
            {"MessageSid": None, "SmsSid": None}, "MessageSid missing", id="no-message-sid"
        ),
        pytest.param({"MessageSid": "", "SmsSid": ""}, "MessageSid missing", id="empty-sid"),
        pytest.param({"MessageSid": "SM" + "0" * 80}, "MessageSid missing", id="sid-too-long"),
        pytest.param({"From": None}, "From is not a phone number", id="no-from"),
        pytest.param({"From": "MASSAR"}, "From is not a phone number", id="alphanumeric-from"),
        pytest.param({"From": "+2126"}, "From is not a phone number", id="short-from"),
    ],
)
def test_parse_payload_refuses_a_form_without_sid_or_sender(
    changes: dict[str, str | None], reason: str
) -> None:
    form = fixture("twilio", "inbound_sms")
    for name, value in changes.items():
        if value is None:
            form.pop(name)
        else:
            form[name] = value
    with pytest.raises(PayloadError) as caught:
        twilio_sms.parse_payload(form)
    assert caught.value.reason == reason


# --- signatures ---------------------------------------------------------------------------------


def _sha512(key: str, url: str, params: dict[str, str]) -> str:
    data = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(key.encode(), data.encode(), hashlib.sha512).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class Signing:
    """How one request is signed and what is then sent."""

    url: str = PUBLIC_URL + ROUTE
    key: str = TWILIO_TOKEN
    algorithm: str | None = None  # None: SHA-1 with no settings header
    settings_header: str | None = None
    query: str = ""
    after: dict[str, str | None] = field(default_factory=dict)  # changes after signing
    send_signature: bool = True
    signature: str | None = None  # a fixed header value instead of a computed one


SHA256_HEADER = "key=webhooks_sharedkey_0001,algorithm=HMAC_SHA256"
SIGNATURES = [
    pytest.param(Signing(), 200, id="sha1-auth-token"),
    pytest.param(
        Signing(url=PUBLIC_URL + ROUTE + "?src=ma", query="src=ma"), 200, id="sha1-with-query"
    ),
    pytest.param(
        Signing(key=SHARED_KEY, algorithm="HMAC_SHA256", settings_header=SHA256_HEADER),
        200,
        id="sha256-shared-key",
    ),
    pytest.param(Signing(after={"Body": "NOTES"}), 403, id="tampered-body"),
    pytest.param(Signing(after={"From": FR_GUARDIAN}), 403, id="tampered-from"),
    pytest.param(Signing(after={"AddOns": "{}"}), 403, id="field-added-after-signing"),
    pytest.param(Signing(after={"NumSegments": None}), 403, id="field-dropped-after-signing"),
    pytest.param(Signing(send_signature=False), 403, id="no-signature-header"),
    pytest.param(Signing(signature=""), 403, id="empty-signature-header"),
    pytest.param(Signing(signature="bm90IGEgc2lnbmF0dXJl"), 403, id="garbage-signature"),
    pytest.param(Signing(url="http://gw.test" + ROUTE), 403, id="signed-over-http"),
    pytest.param(Signing(url="https://internal:8000" + ROUTE), 403, id="signed-over-internal-host"),
    pytest.param(Signing(url=PUBLIC_URL + STATUS_ROUTE), 403, id="signed-for-another-route"),
    pytest.param(Signing(url=PUBLIC_URL + ROUTE, query="src=ma"), 403, id="query-not-signed"),
    pytest.param(Signing(key="another-accounts-token"), 403, id="wrong-auth-token"),
    pytest.param(
        Signing(key=TWILIO_TOKEN, algorithm="HMAC_SHA256", settings_header=SHA256_HEADER),
        403,
        id="sha256-with-the-auth-token",
    ),
    pytest.param(Signing(key=SHARED_KEY), 403, id="sha1-with-the-shared-key-no-header"),
    pytest.param(
        Signing(key=TWILIO_TOKEN, settings_header=SHA256_HEADER),
        403,
        id="sha256-header-over-a-sha1-signature",
    ),
    pytest.param(
        Signing(
            key=SHARED_KEY,
            algorithm="HMAC_SHA512",
            settings_header="key=webhooks_sharedkey_0001,algorithm=HMAC_SHA512",
        ),
        403,
        id="unknown-algorithm",
    ),
]


@pytest.mark.parametrize(("signing", "status"), SIGNATURES)
def test_signature_table(
    make_gateway: Callable[..., TestClient], backend_calls: Calls, signing: Signing, status: int
) -> None:
    client = make_gateway(twilio_webhook_shared_key=SHARED_KEY)
    params = inbound("AIDE")
    if signing.signature is not None:
        signature = signing.signature
    elif signing.algorithm == "HMAC_SHA512":
        signature = _sha512(signing.key, signing.url, params)
    else:
        validator = RequestValidator(signing.key)
        signature = validator.compute_signature(signing.url, params, algorithm=signing.algorithm)
    sent = dict(params)
    for name, value in signing.after.items():
        if value is None:
            sent.pop(name)
        else:
            sent[name] = value
    headers = {"X-Twilio-Signature": signature} if signing.send_signature else {}
    if signing.settings_header:
        headers["X-Twilio-Webhooks-Signature-Settings"] = signing.settings_header
    path = ROUTE + (f"?{signing.query}" if signing.query else "")
    response = client.post(path, data=sent, headers=headers)
    assert response.status_code == status, response.text
    if status == 200:
        assert "0800 00 11 22" in one_message(response)
    else:
        assert response.headers["content-type"].startswith("text/plain")
        assert response.text in ("missing signature", "bad signature")
        assert backend_calls() == {}


def test_sha256_signature_without_a_configured_shared_key_is_refused(
    gateway: TestClient, backend_calls: Calls
) -> None:
    params = inbound("AIDE")
    url = PUBLIC_URL + ROUTE
    signature = RequestValidator(SHARED_KEY).compute_signature(url, params, algorithm="HMAC_SHA256")
    response = gateway.post(
        ROUTE,
        data=params,
        headers={
            "X-Twilio-Signature": signature,
            "X-Twilio-Webhooks-Signature-Settings": SHA256_HEADER,
        },
    )
    assert response.status_code == 403
    assert backend_calls() == {}


# --- payload errors on a correctly signed request -------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param(
            {"MessageSid": None, "SmsSid": None, "SmsMessageSid": None},
            "MessageSid missing",
            id="no-message-sid",
        ),
        pytest.param({"From": "not-a-number"}, "From is not a phone number", id="bad-from"),
        pytest.param({"From": ""}, "From is not a phone number", id="empty-from"),
        pytest.param({"From": None}, "From is not a phone number", id="no-from"),
    ],
)
def test_signed_request_without_sid_or_sender_is_400(
    gateway: TestClient, backend_calls: Calls, changes: dict[str, str | None], reason: str
) -> None:
    params = inbound("ABS")
    for name, value in changes.items():
        if value is None:
            params.pop(name)
        else:
            params[name] = value
    response = signed(gateway, ROUTE, params)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == reason
    assert backend_calls() == {}


# --- replies --------------------------------------------------------------------------------------


def test_recorded_sms_gets_one_twiml_message(gateway: TestClient) -> None:
    response = signed(gateway, ROUTE, fixture("twilio", "inbound_sms"))
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?><Response>')
    text = one_message(response)
    # ABS before any child is bound: the code first, in the guardian's language (Arabic)
    assert say("ar", texts.ASK_CODE) in text


def test_replayed_message_sid_gets_the_same_twiml_and_has_no_second_effect(
    gateway: TestClient, backend_calls: Calls
) -> None:
    to_french = inbound("FR")
    first = signed(gateway, ROUTE, to_french)
    assert lang_of(one_message(first)) == "fr"
    assert lang_of(one_message(signed(gateway, ROUTE, inbound("AR")))) == "ar"
    calls = backend_calls()
    again = signed(gateway, ROUTE, to_french)  # Twilio retries the first message
    assert again.content == first.content
    assert backend_calls() == calls
    help_text = one_message(signed(gateway, ROUTE, inbound("4")))  # "4. Help" on the menu
    assert help_text.startswith(say("ar", texts.HELP_TEXT))  # still Arabic: FR not re-applied


def test_retry_sent_while_the_first_is_answered_runs_the_turn_once(
    held_gateway: Callable[[str], tuple[TestClient, HeldBackend]],
    spare_guardians: list[SpareGuardian],
) -> None:
    """Twilio retries a message it got no answer to in time: the first may still be running."""
    client, held = held_gateway("/students/verify")
    spare = spare_guardians[3]
    # Its own child's code with a wrong date: the backend is asked (a code the phone is not
    # linked to is refused without it, issue #21).
    params = inbound(f"{spare.massar_code} {wrong_date(spare)}", spare.phone)
    first, second = send_twice_while_the_first_waits(held, lambda: signed(client, ROUTE, params))
    reply = one_message(first)
    assert say(lang_of(reply), texts.NO_MATCH) in reply
    assert second.content == first.content
    assert held.calls == 1  # one verification: one failure counted against the phone
    # The right code and birth date bind the child (and reset the sandbox's failure count).
    bound = Sms(client, spare.phone).send(f"{spare.massar_code} {spare.birth_date}")
    assert say(lang_of(bound), texts.LOCKED) not in bound


@pytest.mark.parametrize(
    "body", ["STOP", "stop", " Stop ", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT"]
)
def test_twilio_opt_out_word_gets_empty_twiml(
    gateway: TestClient, backend_calls: Calls, body: str
) -> None:
    response = signed(gateway, ROUTE, inbound(body))
    assert twiml_messages(response) == []
    assert backend_calls() == {}


def test_stop_inside_a_sentence_is_no_opt_out(gateway: TestClient) -> None:
    assert one_message(signed(gateway, ROUTE, inbound("STOP PLEASE")))


# The one language rule (issue 22): the session's language, else the one chosen before, else
# Massar's `preferred_lang` for the guardian (GUARDIAN: ar, FR_GUARDIAN: fr), else the script
# typed. A keyword's language never overrides it.
KEYWORDS = [
    pytest.param("ABS", GUARDIAN, "ar", texts.ASK_CODE, id="ABS"),
    pytest.param("absences", GUARDIAN, "ar", texts.ASK_CODE, id="absences"),
    pytest.param("ABS", FR_GUARDIAN, "fr", texts.ASK_CODE, id="ABS-fr-guardian"),
    pytest.param("غياب", GUARDIAN, "ar", texts.ASK_CODE, id="ghiyab-arabic"),
    pytest.param("الغياب", GUARDIAN, "ar", texts.ASK_CODE, id="al-ghiyab-arabic"),
    pytest.param("ghiyab", GUARDIAN, "ar", texts.ASK_CODE, id="ghiyab-latin-ar-guardian"),
    pytest.param("ghiyab", FR_GUARDIAN, "fr", texts.ASK_CODE, id="ghiyab-latin-fr-guardian"),
    pytest.param("NOTES", GUARDIAN, "ar", texts.ASK_CODE, id="NOTES"),
    pytest.param("نقط", GUARDIAN, "ar", texts.ASK_CODE, id="no9at-arabic"),
    pytest.param("no9at", GUARDIAN, "ar", texts.ASK_CODE, id="no9at-latin-ar-guardian"),
    pytest.param("no9at", FR_GUARDIAN, "fr", texts.ASK_CODE, id="no9at-latin-fr-guardian"),
    pytest.param("AIDE", UNLINKED, "ar", texts.HELP_TEXT, id="AIDE"),
    pytest.param("aide", GUARDIAN, "ar", texts.HELP_TEXT, id="aide-lower"),
    pytest.param("مساعدة", FR_GUARDIAN, "fr", texts.HELP_TEXT, id="mosa3ada-arabic"),
    pytest.param("FR", GUARDIAN, "fr", texts.MAIN_TITLE, id="FR"),
    pytest.param("AR", FR_GUARDIAN, "ar", texts.MAIN_TITLE, id="AR"),
]


@pytest.mark.parametrize(("body", "phone", "lang", "expected"), KEYWORDS)
def test_keyword_gets_a_reply_in_the_right_language(
    gateway: TestClient, body: str, phone: str, lang: str, expected: str
) -> None:
    reply = Sms(gateway, phone).send(body)
    assert say(lang, expected) in reply, reply
    assert lang_of(reply) == lang, reply


@pytest.mark.parametrize(
    ("first", "key", "lang", "expected"),
    [
        pytest.param("AR", "١", "ar", texts.ASK_CODE, id="eastern-arabic-1-absences"),
        pytest.param("AR", "٢", "ar", texts.ASK_CODE, id="eastern-arabic-2-marks"),
        pytest.param("FR", "٣", "fr", texts.ENROLMENT_TITLE, id="eastern-arabic-3-enrolment"),
        pytest.param("AR", "۴", "ar", texts.HELP_TEXT, id="persian-4-help"),
    ],
)
def test_eastern_arabic_digit_picks_a_menu_option(
    gateway: TestClient, first: str, key: str, lang: str, expected: str
) -> None:
    sms = Sms(gateway, GUARDIAN)
    sms.send(first)
    reply = sms.send(key)
    assert say(lang, expected) in reply, reply
    assert say(lang, texts.PICK_AN_OPTION) not in reply


@pytest.mark.parametrize(
    ("before", "body", "lang"),
    [
        pytest.param([], "PRE-2026-0000001 01062020", "ar", id="arabic-by-default"),
        pytest.param(["FR"], "PRE-2026-0000001 01062020", "fr", id="after-FR"),
        pytest.param([], "pre-2026-0000001 01/06/2020", "ar", id="lower-case-and-slashes"),
    ],
)
def test_application_number_with_birth_date_in_one_sms_gives_its_status(
    gateway: TestClient, before: list[str], body: str, lang: str
) -> None:
    sms = Sms(gateway, UNLINKED)
    for text in before:
        sms.send(text)
    reply = sms.send(body)
    assert reply.startswith("PRE-2026-0000001"), reply
    assert say(lang, texts.STATUS_UNDER_REVIEW) in reply
    assert lang_of(reply) == lang


def test_recorded_application_sms_gives_its_status(gateway: TestClient) -> None:
    reply = one_message(signed(gateway, ROUTE, fixture("twilio", "inbound_sms_application")))
    assert reply.startswith("PRE-2026-0000001")
    assert say("ar", texts.STATUS_UNDER_REVIEW) in reply


# --- the segment budget -------------------------------------------------------------------------

_NUMBER = re.compile(r"\d+(?:[/,.]\d+)*")


def _youssefs_absences(sandbox_app: object) -> tuple[dict[str, str], list[date], float, float]:
    """From the backend itself: each unjustified day's hours, and the year's totals."""
    backend = TestClient(sandbox_app)  # type: ignore[arg-type]
    auth = {"Authorization": "Bearer sandbox-token"}
    found = backend.post("/api/v1/guardians/lookup", json={"phone": GUARDIAN}, headers=auth)
    assert found.status_code == 200, found.text
    guardian = found.json()["guardian"]["id"]
    youssef = next(s for s in found.json()["students"] if s["first_name_fr"] == "Youssef")
    meta = backend.get("/api/v1/meta", headers=auth).json()
    page = backend.get(
        f"/api/v1/students/{youssef['id']}/absences",
        params={
            "from": f"{meta['school_year'][:4]}-09-01",
            "to": meta["now"][:10],
            "limit": "200",
        },
        headers={**auth, "X-On-Behalf-Of": guardian},
    )
    assert page.status_code == 200, page.text
    items = [a for a in page.json()["items"] if a["status"] == "unjustified"]
    days = sorted((date.fromisoformat(a["date"]) for a in items), reverse=True)
    totals = page.json()["totals"]
    hours = {date.fromisoformat(a["date"]).strftime("%d/%m"): a["hours"] for a in items}
    return (
        {d: translator("fr").number(h) for d, h in hours.items()},
        days,
        totals["unjustified_hours"],
        totals["justified_hours"],
    )


def _assert_whole_numbers(reply: str, lang: str, sandbox_app: object) -> None:
    """No number of the answer is cut: each is a whole day, hour count, total or menu key."""
    hours_by_day, days, unjustified, justified = _youssefs_absences(sandbox_app)
    t = translator(lang)
    allowed = {
        "01/09",  # since the start of the school year
        str(len(days)),
        t.number(unjustified),
        t.number(justified),
        *hours_by_day,
        *hours_by_day.values(),
        "0",
        "9",  # menu keys
    }
    found = _NUMBER.findall(reply)
    assert set(found) <= allowed, (found, allowed)
    assert days[0].strftime("%d/%m") in found  # the latest absence is on the first page
    assert ".." not in reply  # nothing shortened
    assert "…" not in reply


def test_absence_answer_fits_one_segment_in_french_and_two_in_arabic(
    gateway: TestClient, sandbox_app: object
) -> None:
    sms = Sms(gateway, GUARDIAN)
    replies = [sms.send("FR"), sms.send("Z990000001 14092018"), sms.send("ABS")]
    french = sms.send("1")  # Youssef, the only bound child (Salma is not bound)
    replies += [french, sms.send("AR"), sms.send("ABS")]
    arabic = sms.send("1")
    replies.append(arabic)

    assert french.startswith("Youssef : "), french
    assert segments(french).encoding == "gsm7"
    assert segments(french).segments == 1, (segments(french), french)
    _assert_whole_numbers(french, "fr", sandbox_app)

    assert arabic.startswith("يوسف: "), arabic
    assert segments(arabic).segments <= 2, (segments(arabic), arabic)
    _assert_whole_numbers(arabic, "ar", sandbox_app)

    assert [r for r in replies if segments(r).segments > 2] == []  # CHANNELS.md §8 budget


# --- status callbacks -----------------------------------------------------------------------------


def status_form(name: str, sid: str) -> dict[str, str]:
    """A recorded status callback about message `sid` (each test uses its own)."""
    return {**fixture("twilio", name), "MessageSid": sid, "SmsSid": sid}


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex


def queued_record(client: TestClient, sid: str) -> str:
    """The outbox's record of a message Twilio took as `sid`, before any callback; its id."""
    now = datetime.now(UTC)
    msg = outbound(
        MessageKind.ALERT,
        key=f"test:{sid}",
        channel=OutChannel.SMS,
        to="+212600000001",
        text="x",
        now=now,
    )
    queued = Outcome(message=msg, status="queued", at=now, provider_id=sid)
    records = runtime_of(client.app).records
    client.portal.call(records.write, [queued], [uuid.uuid4().hex])  # type: ignore[union-attr]
    return msg.id


def record_of(client: TestClient, record_id: str) -> dict[str, Any]:
    records = runtime_of(client.app).records
    found: dict[str, Any] = client.portal.call(records.get, record_id)  # type: ignore[union-attr]
    return found


def status_of(client: TestClient, record_id: str) -> str:
    status: str = record_of(client, record_id)["status"]
    return status


def test_sent_then_delivered_ends_delivered(gateway: TestClient) -> None:
    sid = new_sid()
    record = queued_record(gateway, sid)
    sent, delivered = status_form("status_sent", sid), status_form("status_delivered", sid)
    first = signed(gateway, STATUS_ROUTE, sent)
    assert first.status_code == 204
    assert first.content == b""
    assert status_of(gateway, record) == "sent"
    assert signed(gateway, STATUS_ROUTE, delivered).status_code == 204
    assert status_of(gateway, record) == "delivered"


def test_status_callbacks_are_counted_by_status_and_a_forged_one_is_not(
    gateway: TestClient,
) -> None:
    registry = runtime_of(gateway.app).metrics.registry
    labels = {"channel": "sms", "link": "twilio"}
    form = status_form("status_undelivered", new_sid())
    assert gateway.post(STATUS_ROUTE, data=form).status_code == 403  # unsigned
    forged = signed(gateway, STATUS_ROUTE, form, token="not-the-auth-token-at-all")
    assert forged.status_code == 403
    assert (
        registry.get_sample_value("massar_delivery_reports_total", {**labels, "status": "failed"})
        is None
    )
    assert signed(gateway, STATUS_ROUTE, form).status_code == 204
    sent = status_form("status_sent", new_sid())
    assert signed(gateway, STATUS_ROUTE, sent).status_code == 204
    for status in ("failed", "sent"):  # undelivered is a failure
        value = registry.get_sample_value(
            "massar_delivery_reports_total", {**labels, "status": status}
        )
        assert value == 1, status


def test_late_sent_after_delivered_stays_delivered(gateway: TestClient) -> None:
    sid = new_sid()
    record = queued_record(gateway, sid)
    sent, delivered = status_form("status_sent", sid), status_form("status_delivered", sid)
    assert signed(gateway, STATUS_ROUTE, delivered).status_code == 204
    assert signed(gateway, STATUS_ROUTE, sent).status_code == 204
    assert signed(gateway, STATUS_ROUTE, delivered).status_code == 204  # a retried callback
    assert status_of(gateway, record) == "delivered"


@pytest.mark.parametrize(
    ("name", "error"),
    [
        pytest.param("status_failed", "twilio:30008", id="failed"),
        pytest.param("status_undelivered", "twilio:30003", id="undelivered"),
    ],
)
def test_failure_callback_keeps_the_error_code(gateway: TestClient, name: str, error: str) -> None:
    sid = new_sid()
    record = queued_record(gateway, sid)
    form = status_form(name, sid)
    assert signed(gateway, STATUS_ROUTE, {**form, "MessageStatus": "sent"}).status_code == 204
    assert signed(gateway, STATUS_ROUTE, form).status_code == 204
    found = record_of(gateway, record)
    assert (found["status"], found["error"]) == ("failed", error)


def test_a_callback_the_database_cannot_take_asks_twilio_to_try_again(
    gateway: TestClient, tmp_path: Path
) -> None:
    sid = new_sid()
    record = queued_record(gateway, sid)
    records = runtime_of(gateway.app).records
    working, records.engine = records.engine, sa.create_engine(f"sqlite:///{tmp_path}/no/such.db")
    try:
        response = signed(gateway, STATUS_ROUTE, status_form("status_delivered", sid))
    finally:
        records.engine = working
    assert (response.status_code, response.headers["retry-after"]) == (503, "60")
    assert "Traceback" not in response.text
    assert status_of(gateway, record) == "queued"
    assert signed(gateway, STATUS_ROUTE, status_form("status_delivered", sid)).status_code == 204
    assert status_of(gateway, record) == "delivered"  # Twilio's retry lands


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        pytest.param({"MessageStatus": "bogus"}, 400, id="unknown-status"),
        pytest.param({"MessageStatus": ""}, 400, id="empty-status"),
        pytest.param({"MessageStatus": None}, 400, id="no-status"),
        pytest.param({"MessageSid": None}, 400, id="no-message-sid"),
    ],
)
def test_status_callback_without_sid_or_known_status_is_400(
    gateway: TestClient, changes: dict[str, str | None], status: int
) -> None:
    sid = new_sid()
    record = queued_record(gateway, sid)
    form = status_form("status_delivered", sid)
    for name, value in changes.items():
        if value is None:
            form.pop(name)
        else:
            form[name] = value
    response = signed(gateway, STATUS_ROUTE, form)
    assert response.status_code == status
    assert "Traceback" not in response.text
    assert status_of(gateway, record) == "queued"


@pytest.mark.parametrize(
    ("url", "token", "after"),
    [
        pytest.param(PUBLIC_URL + STATUS_ROUTE, "wrong-token", {}, id="wrong-token"),
        pytest.param("http://gw.test" + STATUS_ROUTE, TWILIO_TOKEN, {}, id="signed-over-http"),
        pytest.param(PUBLIC_URL + ROUTE, TWILIO_TOKEN, {}, id="signed-for-inbound-route"),
        pytest.param(
            PUBLIC_URL + STATUS_ROUTE,
            TWILIO_TOKEN,
            {"MessageStatus": "delivered"},
            id="status-changed-after-signing",
        ),
    ],
)
def test_status_callback_with_a_bad_signature_is_403(
    gateway: TestClient, url: str, token: str, after: dict[str, str]
) -> None:
    form = status_form("status_sent", new_sid())
    record = queued_record(gateway, form["MessageSid"])
    signature = sign_twilio(url, form, token)
    response = gateway.post(
        STATUS_ROUTE, data={**form, **after}, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403
    assert status_of(gateway, record) == "queued"


def test_status_callback_without_signature_is_403(gateway: TestClient) -> None:
    form = status_form("status_delivered", new_sid())
    record = queued_record(gateway, form["MessageSid"])
    response = gateway.post(STATUS_ROUTE, data=form)
    assert response.status_code == 403
    assert status_of(gateway, record) == "queued"


def test_status_callbacks_reach_no_backend(gateway: TestClient, backend_calls: Calls) -> None:
    for name in ("status_sent", "status_delivered", "status_failed"):
        assert signed(gateway, STATUS_ROUTE, status_form(name, new_sid())).status_code == 204
    assert total(backend_calls()) == 0
