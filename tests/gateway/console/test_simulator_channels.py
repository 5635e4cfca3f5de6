"""The web simulator on every chat and voice channel: the demo guardian +212600000001 walks to
his child's absences, tapping the buttons the gateway drew (by their ids) on WhatsApp (Meta)
and Telegram, pressing keys on the voice menu."""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.gateway.console.conftest import csrf_of, said

GUARDIAN = "+212600000001"
CODE, BORN = "Z990000001", "14092018"  # Youssef, the guardian's first child
YOUSSEF = {"ar": "يوسف", "fr": "Youssef"}


class WebPhone:
    """One channel's phone on /console/simulator, driven through its forms."""

    def __init__(self, client: TestClient, channel: str, lang: str) -> None:
        self.client, self.channel = client, channel
        page = client.get(f"/console/simulator?channel={channel}&phone=%2B212600000001&lang={lang}")
        assert page.status_code == 200
        self.form = {"csrf": csrf_of(page.text), "channel": channel, "phone": GUARDIAN}
        self.page = page.text

    def post(self, **fields: str) -> str:
        response = self.client.post("/console/simulator/send", data={**self.form, **fields})
        assert response.status_code == 200
        self.page = response.text
        return self.handset

    @property
    def handset(self) -> str:
        return html.unescape(self.page.split('id="handset"')[1].split('<form method="post"')[0])

    def live_options(self) -> list[str]:
        """The ids of the buttons that can still be tapped (the newest message's)."""
        part = self.page.split('id="handset"')[1].split('<form method="post"')[0]
        return [
            chunk.split('"')[0]
            for chunk in part.split('name="press" value="')[1:]
            if "disabled" not in chunk.split(">")[0]
        ]


@pytest.fixture
def client(make_gateway: Callable[..., TestClient]) -> TestClient:
    # The chat apps' answers leave through the outbox: the gateway's own worker sends them.
    return make_gateway(env="development", embedded_sender=True, log_level="INFO")


def chat_walk(phone: WebPhone, lang: str) -> str:
    """From the menu to the first child's absences, every choice a tapped button."""
    if "abs" not in phone.live_options():
        phone.post(text="Menu")
    options = phone.live_options()
    assert "abs" in options, phone.handset
    menu = {"ar": "خدمات مسار", "fr": "Services Massar"}
    if menu[lang] not in phone.handset.split('data-who="outbox"')[-1]:
        phone.post(press="lang")  # the other language than the phone's last: switch
        assert menu[lang] in phone.handset.split('data-who="outbox"')[-1]
    asked = phone.post(press="abs")
    code_prompt = {"ar": "رمز مسار", "fr": "Code Massar"}
    assert code_prompt[lang] in asked.split('data-who="outbox"')[-1]
    phone.post(text=CODE)
    return phone.post(text=BORN)


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_whatsapp_meta_taps_buttons_by_id_to_the_absences(client: TestClient, lang: str) -> None:
    phone = WebPhone(client, "whatsapp-meta", lang)
    first = phone.post(text="Bonjour")
    assert 'data-who="outbox"' in first  # the answer came through the outbox, after the turn
    shown = chat_walk(phone, lang)
    assert YOUSSEF[lang] in shown.split('data-who="outbox"')[-1]
    logs = phone.page.split('id="logs">')[1].split("</pre>")[0]
    assert "whatsapp" in logs  # the turn's log lines, beside the phone
    assert CODE not in logs
    assert "600000001" not in logs  # masked, as logged


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_telegram_shares_the_contact_first_then_taps_the_inline_keyboard(
    client: TestClient, lang: str
) -> None:
    phone = WebPhone(client, "telegram", lang)
    assert 'id="share"' in phone.page
    assert said("Share my phone number", lang) in phone.page
    shared = phone.post(share="1")
    assert said("Contact shared: %(phone)s", lang, phone=GUARDIAN) in phone.page
    assert 'data-who="outbox"' in shared  # the gateway answered the contact
    assert 'id="share"' not in phone.page  # shared once
    shown = chat_walk(phone, lang)
    assert YOUSSEF[lang] in shown.split('data-who="outbox"')[-1]


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_voice_keys_on_the_keypad_read_the_absences(client: TestClient, lang: str) -> None:
    phone = WebPhone(client, "voice", lang)
    called = phone.post(restart="1")
    assert "[Polly." in called
    assert "[waiting for 1 key(s)]" in called
    phone.post(press="1" if lang == "ar" else "2")
    asked = phone.post(press="1")  # absences
    assert "[waiting for 9 key(s)]" in asked.split('data-who="me"')[-1]
    for key in CODE[1:]:  # the code's nine digits, key by key on the keypad
        phone.post(press=key)
    asked = phone.handset.split('data-who="me"')[-1]
    assert "[waiting for 8 key(s)]" in asked  # the birth date, only once the nine were in
    read = phone.post(text=BORN).split('data-who="me"')[-1]  # or typed as one line
    assert YOUSSEF[lang] in read
    assert "[Polly." in read  # each <Say> as text, with its voice
    assert "SMS" not in read  # no SMS counts on a voice call


def test_whatsapp_twilio_is_a_thread_answered_in_the_request(client: TestClient) -> None:
    phone = WebPhone(client, "whatsapp", "fr")
    phone.post(text="ABS")
    phone.post(text=CODE)
    read = phone.post(text=BORN).split('data-who="me"')[-1]
    assert "Youssef" in read or "يوسف" in read
    assert 'data-who="gateway"' in read  # the TwiML answer, not the outbox
    assert "GSM-7" in read or "UCS-2" in read
